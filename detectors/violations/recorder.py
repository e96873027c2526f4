"""Keeps violations: a row with its snapshot when one starts, its end and clip request when it ends."""

from __future__ import annotations

import logging

from core.config.models import CameraConfig
from core.store.violations import ViolationRepository
from detectors.interface import AnalysisFrame
from detectors.violations.clips import ClipRequest, ClipRequester
from detectors.violations.events import ViolationEvent
from detectors.violations.feed import FeedItem, FeedSink
from detectors.violations.snapshot import snapshot_jpeg

log = logging.getLogger(__name__)


class ViolationRecorder:
    """Shared by every camera's analysis thread; each camera's violations are its own keys."""

    def __init__(
        self,
        repository: ViolationRepository,
        feed: FeedSink | None = None,
        clips: ClipRequester | None = None,
        pre_roll_s: float = 10.0,
        post_roll_s: float = 10.0,
    ) -> None:
        self.repository = repository
        self.feed = feed
        self.clips = clips
        self.pre_roll_s = pre_roll_s
        self.post_roll_s = post_roll_s
        self._open: dict[tuple[str, str, str | None], int] = {}

    def record(self, camera: CameraConfig, event: ViolationEvent, frame: AnalysisFrame | None) -> int | None:
        """Store one event; failures are logged, never raised into the analysis thread."""
        try:
            return self._record(camera, event, frame)
        except Exception:
            log.exception("camera %s: could not record %s %s", camera.id, event.kind, event.phase)
            return None

    def _record(self, camera: CameraConfig, event: ViolationEvent, frame: AnalysisFrame | None) -> int | None:
        key = (camera.id, event.kind, event.zone)
        zone_points = _zone_points(camera, event)
        if event.phase == "started":
            snapshot = None
            if frame is not None:
                try:
                    snapshot = snapshot_jpeg(frame, zone_points, event.bbox, blur_faces=camera.blur_faces)
                except Exception:
                    log.exception("camera %s: snapshot failed", camera.id)
            violation_id = self.repository.open(
                camera_id=camera.id,
                institution_id=camera.institution,
                type=event.kind,
                zone=event.zone,
                zone_points=zone_points,
                onset_at=event.onset,
                started_at=event.started_at,
                confidence=event.confidence,
                bbox=event.bbox,
                clip_start=event.onset - self.pre_roll_s,
                snapshot=snapshot,
            )
            self._open[key] = violation_id
            if self.clips is not None:
                try:
                    self.clips.keep(violation_id, camera.id, event.onset - self.pre_roll_s)
                except Exception:
                    log.exception("camera %s: could not hold the video of violation %s", camera.id, violation_id)
            log.warning(
                "camera %s: violation %s started (%s, zone %s)", camera.id, violation_id, event.kind, event.zone
            )
        else:
            known = self._open.get(key)
            if known is None:
                return None
            violation_id = known
            if event.phase == "reopened":
                self.repository.reopen(violation_id)
            else:
                clip_end = event.at + self.post_roll_s
                self.repository.close(
                    violation_id,
                    ended_at=event.at,
                    reason=event.reason,
                    confidence=event.confidence,
                    bbox=event.bbox,
                    clip_end=clip_end,
                )
                self._request_clip(ClipRequest(violation_id, camera.id, event.onset - self.pre_roll_s, clip_end))
                log.info("camera %s: violation %s ended (%s)", camera.id, violation_id, event.reason)
        record = self.repository.get(violation_id)
        if self.feed is not None and record is not None:
            self.feed.publish(FeedItem(event.phase, record))
        return violation_id

    def _request_clip(self, request: ClipRequest) -> None:
        if self.clips is None:
            return  # the row keeps the range with clip_status 'pending' until a recorder cuts it
        try:
            ref = self.clips.request_clip(request)
        except Exception:
            log.exception("camera %s: clip request for violation %s failed", request.camera_id, request.violation_id)
            return
        self.repository.set_clip(request.violation_id, "ready" if ref else "requested", ref)


def _zone_points(camera: CameraConfig, event: ViolationEvent) -> list[list[float]] | None:
    if event.zone is None:
        return None
    for detector in camera.detectors:
        for zone in detector.zones:
            if zone.name == event.zone:
                return [list(p) for p in zone.points]
    return None

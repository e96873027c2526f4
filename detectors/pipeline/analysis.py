"""One camera's analysis: its detectors on each frame, their observations through the violation rules."""

from __future__ import annotations

from dataclasses import replace

from detectors.catalog import PlannedDetector, plan_detectors, video_loss_params
from detectors.interface import AnalysisFrame, FrameNeed, Observation
from detectors.route.blocked_route import BlockedRouteDetector
from detectors.settings import AlarmParams
from detectors.tamper.covered_lens import KIND as COVERED
from detectors.tamper.moved_camera import KIND as MOVED
from detectors.tamper.moved_camera import MovedCameraDetector
from detectors.tamper.video_loss import KIND as VIDEO_LOSS
from detectors.tamper.video_loss import VideoLossWatch
from detectors.violations.events import ViolationEvent
from detectors.violations.tracker import ViolationTracker
from core.config.models import CameraConfig

# While the lens is covered nothing else can be judged; while the camera points elsewhere, neither
# can its route or its focus.
_BLINDING = {COVERED: {"defocus", MOVED, "blocked_route", "too_dark"}, MOVED: {"defocus", "blocked_route"}}


class CameraAnalysis:
    """Owns the detectors and violation trackers of one camera; called from one thread only."""

    def __init__(self, camera: CameraConfig, width: int | None = None, height: int | None = None) -> None:
        self.camera = camera
        self.width, self.height = 0, 0
        self.planned: list[PlannedDetector] = []
        self._trackers: dict[tuple[str, str | None], ViolationTracker] = {}
        self._rules: dict[str, PlannedDetector] = {}
        if width and height:
            self.set_picture(width, height)  # nothing runs yet, so nothing ends
        loss = video_loss_params(camera)
        self.video_loss = VideoLossWatch(loss.video_loss_s) if loss is not None else None
        self._loss_params = replace_alarm(loss) if loss is not None else None
        self.last_observations: list[Observation] = []
        self._video_checked_at = 0.0

    def set_picture(self, width: int, height: int, at: float = 0.0) -> list[ViolationEvent]:
        """(Re)build the frame detectors for a picture size; raises ZoneMismatch naming camera and zone.

        A new size ends what the old detectors had running: their references no longer apply.
        """
        if (width, height) == (self.width, self.height):
            return []
        planned = plan_detectors(self.camera, width, height)
        ended = [e for (k, _), t in list(self._trackers.items()) if k != VIDEO_LOSS
                 and (e := t.finish(at, "picture size changed")) is not None]
        self._trackers = {key: t for key, t in self._trackers.items() if key[0] == VIDEO_LOSS}
        self.planned = planned
        self._rules = {k: p for p in planned for k in p.detector.kinds}
        self.width, self.height = width, height
        return ended

    def add(self, planned: PlannedDetector) -> None:
        """Run one more detector on this camera (one the configuration does not name)."""
        self.planned.append(planned)
        self._rules.update({kind: planned for kind in planned.detector.kinds})

    def without_zones(self) -> None:
        """Keep the camera health analytics when the route zones cannot be used on this picture."""
        self.camera = self.camera.model_copy(update={"detectors": [d for d in self.camera.detectors if not d.zones]})

    @property
    def need(self) -> FrameNeed:
        """Key frames only if every detector is content with them, else the highest rate asked for."""
        fps = max((p.detector.need.fps for p in self.planned if not p.detector.need.key_frames_only), default=0.0)
        return FrameNeed(key_frames_only=fps == 0.0, fps=fps)

    def process(self, frame: AnalysisFrame) -> list[ViolationEvent]:
        observations: list[Observation] = []
        for planned in self.planned:
            detector = planned.detector
            if isinstance(detector, BlockedRouteDetector):
                detector.paused = any(self._active(k) for k in (COVERED, MOVED))
            observations += detector.observe(frame)
        for planned in self.planned:
            moved = planned.detector
            if isinstance(moved, MovedCameraDetector) and moved.relearned_at == frame.at:
                # Someone re-aimed the camera and left it: the route must be learnt again in the new view.
                for other in self.planned:
                    if isinstance(other.detector, BlockedRouteDetector):
                        other.detector.reset()
        blinded = {k for o in observations if o.active for k in _BLINDING.get(o.kind, ())}
        self.last_observations = observations
        events = []
        for observation in observations:
            if observation.kind in blinded and observation.active is not None:
                observation = replace(observation, active=None)
            event = self._tracker(observation.kind, observation.zone).update(observation)
            if event is not None:
                events.append(event)
        return events

    def check_video(self, now: float) -> list[ViolationEvent]:
        """Called on every tick of the pipeline, with or without frames; looks twice a second."""
        if self.video_loss is None or now - self._video_checked_at < 0.5:
            return []
        self._video_checked_at = now
        event = self._tracker(VIDEO_LOSS, None).update(self.video_loss.check(now))
        return [event] if event is not None else []

    def finish(self, at: float, reason: str = "stopped") -> list[ViolationEvent]:
        return [e for t in self._trackers.values() if (e := t.finish(at, reason)) is not None]

    def active_violations(self) -> list[str]:
        """The violations running now, as `kind` or `kind:zone`."""
        return sorted(f"{k}:{z}" if z else k for (k, z), t in list(self._trackers.items()) if t.active)

    def _active(self, kind: str) -> bool:
        return any(t.active for (k, _), t in self._trackers.items() if k == kind)

    def _tracker(self, kind: str, zone: str | None) -> ViolationTracker:
        tracker = self._trackers.get((kind, zone))
        if tracker is None:
            if kind == VIDEO_LOSS:
                assert self._loss_params is not None
                tracker = ViolationTracker(kind, zone, self._loss_params)
            else:
                planned = self._rules[kind]
                tracker = ViolationTracker(kind, zone, planned.params, planned.schedule)
            self._trackers[(kind, zone)] = tracker
        return tracker


def replace_alarm(params: AlarmParams) -> AlarmParams:
    """Video loss has waited `video_loss_s` already: it starts at once and ends on the first video."""
    return AlarmParams(dwell_s=1.0, min_share=0.5, clear_s=1.0, min_duration_s=0.0, realarm_s=params.realarm_s)

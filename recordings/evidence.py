"""Violation evidence: the recorded video around a violation is held from the moment it starts, and its clip
is cut (without re-encoding) once the post-roll has been recorded.

The hold keeps the segments whatever retention says until the case is released (`release`), then
`retention.keep_after_close_hours` more; the clip file is kept beside the recordings for the case.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from core.store.recordings import RecordingRepository
from core.store.violations import ViolationRepository
from recordings.export import ExportError, cut_clip

log = logging.getLogger(__name__)

_OPEN_HOLD_S = 7 * 86400  # a running violation holds this far ahead until its end is known
_SETTLE_S = 3.0  # after the clip's end: the fragment holding it is on disk by then


class ClipRequest(Protocol):
    """The video a violation needs kept and cut: camera `camera_id` from `start` to `end` (UTC epoch seconds)."""

    @property
    def violation_id(self) -> int: ...
    @property
    def camera_id(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


def reference(violation_id: int) -> str:
    return f"violation:{violation_id}"


class EvidenceClips:
    """What the detectors' `ClipRequester` asks of the recordings (the service plugs it in): holds, and a
    worker thread that cuts the clips."""

    def __init__(
        self,
        recordings: RecordingRepository,
        violations: ViolationRepository,
        recordings_dir: Callable[[], Path],
        directory: Path,
        keep_after_close_s: Callable[[], float],
        settled: Callable[[int], None] = lambda violation_id: None,
    ) -> None:
        self._recordings = recordings
        self._settled = settled  # told once a violation's clip is ready or known to be unavailable
        self._violations = violations
        self._recordings_dir = recordings_dir
        self.directory = directory
        self._keep_after_close_s = keep_after_close_s
        self._due: list[tuple[float, int, ClipRequest]] = []
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="evidence-clips", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()

    def keep(self, violation_id: int, camera_id: str, start: float) -> None:
        """A violation started: hold its video from the pre-roll on."""
        self._recordings.hold(camera_id, start, start + _OPEN_HOLD_S, reference(violation_id))

    def request_clip(self, request: ClipRequest) -> str | None:
        """The violation ended: hold exactly its clip's range and cut the clip once it is all on disk."""
        self._recordings.set_hold_range(reference(request.violation_id), request.start, request.end)
        with self._wake:
            heapq.heappush(self._due, (request.end + _SETTLE_S, request.violation_id, request))
            self._wake.notify()
        return None  # reported through ViolationRepository.set_clip once cut

    def release(self, violation_id: int) -> None:
        """The case is closed: the video goes after the configured period."""
        self._recordings.release(reference(violation_id), self._keep_after_close_s())

    def path(self, violation_id: int) -> Path:
        return self.directory / f"violation-{violation_id}.mp4"

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._due or self._due[0][0] > time.time()):
                    self._wake.wait(None if not self._due else max(0.05, self._due[0][0] - time.time()))
                if self._stopping:
                    return
                _, _, request = heapq.heappop(self._due)
            self._cut(request)

    def _cut(self, request: ClipRequest) -> None:
        segments = self._recordings.segments(request.camera_id, request.start, request.end)
        try:
            cut_clip(self._recordings_dir(), segments, request.start, request.end, self.path(request.violation_id))
        except ExportError as error:
            log.warning("violation %s: no clip: %s", request.violation_id, error)
            self._violations.set_clip(request.violation_id, "unavailable", None)
        except Exception:
            log.exception("violation %s: cutting the clip failed", request.violation_id)
            self._violations.set_clip(request.violation_id, "unavailable", None)
        else:
            self._violations.set_clip(request.violation_id, "ready", self.path(request.violation_id).name)
            log.info("violation %s: clip ready", request.violation_id)
        try:
            self._settled(request.violation_id)
        except Exception:
            log.exception("violation %s: telling that its clip is settled failed", request.violation_id)

"""The hook through which a violation asks the recordings component for its clip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ClipRequest:
    """The video a violation needs kept and cut: camera `camera_id` from `start` to `end` (UTC epoch s)."""

    violation_id: int
    camera_id: str
    start: float
    end: float


class ClipRequester(Protocol):
    """Implemented by the recordings component and passed to the detection factory by the service.

    Called from a camera's analysis thread once a violation has ended; it must return quickly (queue the
    cut) and returns a reference the UI can resolve later, or None when the clip will be reported through
    `ViolationRepository.set_clip` once cut.
    """

    def keep(self, violation_id: int, camera_id: str, start: float) -> None:
        """The violation started: its video from `start` on must outlive retention."""

    def request_clip(self, request: ClipRequest) -> str | None: ...

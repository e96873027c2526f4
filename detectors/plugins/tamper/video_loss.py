"""视频丢失 — no video from the camera for longer than `video_loss_s`."""

from __future__ import annotations

from detectors.interface import Observation
from detectors.plugin import ViolationKind

KIND = ViolationKind("video_loss", "视频丢失", "Video lost", "major", gb_alarm=(6, 1))


class VideoLossWatch:
    """Fed by the pipeline, not by frames: the time of the latest packet, checked on every tick."""

    kinds = (KIND.type,)

    def __init__(self, loss_after_s: float) -> None:
        self.loss_after_s = loss_after_s
        self.last_video_at: float | None = None

    def packet(self, at: float) -> None:
        # Told by packets and by the stream's health alike, in no set order: the latest wins.
        if self.last_video_at is None or at > self.last_video_at:
            self.last_video_at = at

    def turns_at(self) -> float | None:
        return None if self.last_video_at is None else self.last_video_at + self.loss_after_s

    def check(self, now: float) -> Observation:
        silent_s = None if self.last_video_at is None else now - self.last_video_at
        active = silent_s is not None and silent_s > self.loss_after_s
        return Observation(
            KIND.type,
            active,
            now,
            confidence=1.0 if active else 0.0,
            detail={"silent_s": round(silent_s, 1) if silent_s is not None else -1.0},
        )

"""What a detector is: it declares the frames it needs, keeps its own state, and emits observations.

A new detector is one file: a class with `need`, `observe(frame)` and a `kinds` tuple, registered in
`detectors/catalog.py`. The shared violation layer (`detectors/violations/`) turns observations into
violations with debounce, dwell, re-alarm suppression and arming schedules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import av

BBox = tuple[float, float, float, float]  # x, y, width, height; normalised to the picture (0..1)


@dataclass(frozen=True, slots=True)
class FrameNeed:
    """The frames a detector wants: key frames only (static scenes), or decoded frames at `fps`."""

    key_frames_only: bool = True
    fps: float = 0.0


KEY_FRAMES = FrameNeed()


@dataclass(frozen=True, slots=True)
class AnalysisFrame:
    """One decoded picture, scaled once per camera for all its detectors.

    `gray` is the luma plane at analysis size (uint8), `chroma` the U and V planes at half that size
    (uint8, shape (2, h/2, w/2)). `at` is the frame's time in seconds: wall-clock
    for a live camera, the file position for offline analysis. `source` keeps the decoded frame so a
    snapshot can be taken in colour and at full size, but only when a violation needs one.
    """

    at: float
    gray: np.ndarray
    source: av.VideoFrame | None = None
    width: int = 0  # of the camera picture
    height: int = 0
    chroma: np.ndarray | None = None

    def bgr(self, max_width: int = 960) -> np.ndarray:
        """The picture in colour (BGR), scaled down to at most `max_width` wide."""
        if self.source is None:
            return np.dstack([self.gray] * 3)
        width = min(max_width, self.width)
        height = max(2, round(self.height * width / self.width) // 2 * 2)
        return self.source.to_ndarray(format="bgr24", width=width, height=height)


@dataclass(frozen=True, slots=True)
class Observation:
    """What a detector saw in one frame, for one kind of violation (and one zone).

    `active` is True when the condition holds, False when it clearly does not, None when the frame
    says nothing about it (e.g. the route while the lens is covered): such samples are not counted.
    """

    kind: str
    active: bool | None
    at: float
    zone: str | None = None
    confidence: float = 0.0
    bbox: BBox | None = None
    detail: dict[str, float | str] = field(default_factory=dict)


class Detector(Protocol):
    """A detector for one camera; `observe` is called from the camera's analysis thread only."""

    need: FrameNeed
    kinds: tuple[str, ...]  # the violation kinds it may report

    def observe(self, frame: AnalysisFrame) -> Sequence[Observation]: ...

"""What a detector is: it declares the frames it needs, keeps its own state, and emits observations.

A detector belongs to a plug-in (`detectors/plugin.py`), one module of `detectors/plugins/`, which declares
its settings and the violation kinds it reports. The shared violation layer (`detectors/violations/`) turns
observations into violations with debounce, dwell, re-alarm suppression and arming schedules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import av

BBox = tuple[float, float, float, float]  # x, y, width, height; normalised to the picture (0..1)


@dataclass(frozen=True, slots=True)
class Detection:
    """An object a model found in a picture."""

    label: str
    class_id: int
    score: float
    box: BBox

    @property
    def centre(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return x + w / 2, y + h / 2

    @property
    def foot(self) -> tuple[float, float]:
        """Where it stands: the middle of the box's bottom edge."""
        x, y, w, h = self.box
        return x + w / 2, y + h


InputSize = tuple[int, int]  # a model's input, height and width in pixels


class FrameModels(Protocol):
    """The models' findings in one frame, each model run at most once however many detectors ask."""

    def detect(self, model: str, input_size: InputSize | None = None) -> Sequence[Detection]:
        """What the model at path `model` finds in the frame (above its lowest score), run at `input_size` where
        given (else the file's own)."""


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
    `spoiled` names the conditions of the view that violations running on the camera have taken away
    (`ViolationKind.spoils`: "view" while the lens is covered, "aim" while the camera points elsewhere).
    `models` runs a neural model on this frame when a detector first asks (`detectors/models/`).
    """

    at: float
    gray: np.ndarray
    source: av.VideoFrame | None = None
    width: int = 0  # of the camera picture
    height: int = 0
    chroma: np.ndarray | None = None
    spoiled: frozenset[str] = frozenset()
    models: FrameModels | None = None

    @property
    def aspect(self) -> float:
        """Width over height of the camera's picture."""
        if self.width and self.height:
            return self.width / self.height
        return float(self.gray.shape[1] / self.gray.shape[0])

    def luma(self, max_width: int) -> np.ndarray:
        """The luma plane at up to `max_width` wide, finer than `gray` where the camera's picture allows."""
        width = min(max_width, self.width) if self.width else 0
        width -= width % 4  # the sizes `analysis_size` gives, so zone masks drawn at it fit
        if self.source is None or width <= self.gray.shape[1]:
            return self.gray
        height = max(4, round(self.height * width / self.width))
        return self.source.to_ndarray(format="gray", width=width, height=height - height % 4)

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
    `new_view` says the camera now shows another view for good (it was re-aimed and left so): detectors
    that learnt the old view learn the new one (`Relearns`).
    """

    kind: str
    active: bool | None
    at: float
    zone: str | None = None
    confidence: float = 0.0
    bbox: BBox | None = None
    detail: dict[str, float | str] = field(default_factory=dict)
    new_view: bool = False


class Detector(Protocol):
    """A detector for one camera; `observe` is called from the camera's analysis thread only."""

    @property
    def need(self) -> FrameNeed: ...

    @property
    def kinds(self) -> tuple[str, ...]:
        """The violation kinds it may report (declared by its plug-in)."""

    def observe(self, frame: AnalysisFrame) -> Sequence[Observation]: ...


@runtime_checkable
class Relearns(Protocol):
    """A detector that learnt what the camera's view normally looks like, and can learn it again."""

    def view_changed(self) -> None: ...


class StreamWatch(Protocol):
    """A detector fed by the stream's packets rather than by pictures (video loss): told of every packet's
    arrival, asked twice a second while packets come or its answer is turning, and at its `turns_at`."""

    @property
    def kinds(self) -> tuple[str, ...]: ...

    def packet(self, at: float) -> None: ...

    def check(self, now: float) -> Observation: ...

    def turns_at(self) -> float | None:
        """When `check` would change its answer by time alone if no packet came (video loss: the latest packet
        plus the silence allowed); None: not before a packet comes."""
        ...

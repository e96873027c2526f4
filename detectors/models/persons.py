"""What the detectors that look for people share: which model finds them (the shipped one unless the
configuration names another), how often it may run, and the motion gate that keeps it from running on a scene
where nothing has moved since it last looked (a sleeping guard is still there; an empty room is still empty)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from detectors.interface import AnalysisFrame, BBox, Detection, InputSize
from detectors.models.frame_models import MODELS
from detectors.models.shipped import PERSON_MODEL, shipped
from detectors.zones import ZoneMask

PERSON_LABELS = ("person", "Normal", "Fall")  # COCO-style models, and the shipped model's two classes
FALL_LABELS = ("Fall",)


class PersonModel(BaseModel):
    """The model that finds people, and how it is run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str | None = Field(default=None, description="an ultralytics ONNX detection model; default: the shipped one")
    labels: list[str] = Field(default=list(PERSON_LABELS), min_length=1, description="its classes that are people")
    fall_labels: list[str] = Field(default=list(FALL_LABELS), description="those of them that are people fallen")
    min_score: Annotated[float, Field(ge=0.05, le=0.99)] = 0.35
    # The shipped model is less sure of people lying down (0.4-0.7 on the tests' footage); PersonMemory keeps
    # the things on the floor it also calls falls out.
    min_fall_score: Annotated[float, Field(ge=0.05, le=0.99)] = 0.35
    # The long side of the model's input; the other follows the picture's shape (rounded up to 32), as ultralytics
    # predicts: a 16:9 camera at 384x640 costs 0.6 of the square 640 and loses nothing (the square only adds
    # padding). None: the file's own size.
    input_size: int | None = Field(default=640, ge=64, le=1280, multiple_of=32)
    sample_fps: Annotated[float, Field(gt=0, le=10)] = 1.0
    refresh_s: Annotated[float, Field(ge=1, le=3600)] = 30.0  # looks at least this often though nothing moves

    def model_path(self) -> str:
        return self.path or str(shipped(PERSON_MODEL))

    def size(self, width: int, height: int) -> InputSize | None:
        """The model's input for a `width` x `height` picture."""
        if not self.input_size or not width or not height:
            return None
        long, short = max(width, height), min(width, height)
        across = -(-self.input_size * short // long // 32) * 32
        return (across, self.input_size) if width >= height else (self.input_size, across)

    def load(self, width: int, height: int) -> None:
        """Load the model now (at plan time), so a file that cannot be used is a ModelError naming it at start-up,
        not at the first look."""
        MODELS.get(self.model_path(), self.size(width, height))


def people(frame: AnalysisFrame, model: PersonModel) -> list[Detection]:
    """The people the model finds in the frame (none where the frame carries no models)."""
    if frame.models is None:
        return []
    labels, falls = set(model.labels), set(model.fall_labels)
    return [
        d
        for d in frame.models.detect(model.model_path(), model.size(frame.width, frame.height))
        if d.label in labels and d.score >= (model.min_fall_score if d.label in falls else model.min_score)
    ]


def standing_in(found: Sequence[Detection], zone: ZoneMask | None) -> list[Detection]:
    """Those whose feet (the bottom middle of the box) are in the zone; all where there is no zone. A seated or
    lying person's box bottom is still on the floor of the room."""
    if zone is None:
        return list(found)
    height, width = zone.mask.shape
    inside = []
    for detection in found:
        x, y = detection.foot
        column, row = min(width - 1, max(0, round(x * (width - 1)))), min(height - 1, max(0, round(y * (height - 1))))
        cx, cy = detection.centre
        centre = zone.mask[min(height - 1, round(cy * (height - 1))), min(width - 1, round(cx * (width - 1)))]
        if zone.mask[row, column] or centre:
            inside.append(detection)
    return inside


class PersonMemory:
    """Which of a model's "fallen person" boxes are people. The shipped model also calls a cloth or a bag lying on
    the floor a fall (up to 0.5 on the PETS footage). A fallen person was seen upright, within reach of where they
    lie (a body length to either side), before they were first seen down, and lying they are about as long as they
    were tall; a thing on the floor was there before anyone came near, or is smaller. So each fall box is
    remembered from when it first appeared: it counts if an upright person of about its length was seen within
    reach of it in the `memory_s` before that, and never otherwise (it is furniture)."""

    def __init__(self, fall_labels: Sequence[str], memory_s: float = 30.0) -> None:
        self._fall_labels = set(fall_labels)
        self._memory_s = memory_s
        self._upright: list[tuple[float, BBox]] = []
        self._down: list[tuple[BBox, bool]] = []  # each fall box seen at the last look, and whether it counts
        self._furniture: list[BBox] = []

    def people(
        self, at: float, found: Sequence[Detection], aspect: float = 16 / 9
    ) -> tuple[list[Detection], list[Detection]]:
        """(the upright people, the fallen people) among `found`, in a picture `aspect` (width / height) wide.

        A "fallen" box taller than wide is someone upright the model mislabelled (0.43-0.44 on pedestrians of the
        PETS crowd at 1080p): it counts as upright. (A fall along the camera's line of sight, seen from low, looks
        like that too, and is not raised.)"""
        tall = [d for d in found if d.label in self._fall_labels and d.box[3] > d.box[2] * aspect]
        upright = [d for d in found if d.label not in self._fall_labels] + tall
        fallen: list[Detection] = []
        down: list[tuple[BBox, bool]] = []
        for detection in (d for d in found if d.label in self._fall_labels and d not in tall):
            box = detection.box
            if any(_covered(box, thing) >= 0.5 or _covered(thing, box) >= 0.8 for thing in self._furniture):
                continue
            before = next((counts for seen, counts in self._down if _covered(box, seen) >= 0.3), None)
            if before is None:  # first seen now: was someone standing there?
                before = any(
                    at - t <= self._memory_s
                    and _covered(box, _reach(person)) >= 0.3
                    and max(box[2], box[3]) >= 0.6 * person[3]  # about as long as the person was tall
                    for t, person in self._upright
                )
                if not before:
                    self._furniture.append(box)
            down.append((box, before))
            if before:
                fallen.append(detection)
        self._down = down
        self._upright = [(t, box) for t, box in self._upright if at - t <= self._memory_s]
        self._upright += [(at, d.box) for d in upright]
        return upright, fallen


def _reach(box: BBox) -> BBox:
    """Where someone standing in `box` can lie after a fall: a body length to either side, a little lower."""
    x, y, w, h = box
    return (x - h, y, w + 2 * h, h * 1.3)


def _covered(box: BBox, by: BBox) -> float:
    """The share of `box` inside `by`."""
    x, y, w, h = box
    bx, by_, bw, bh = by
    overlap_w = max(0.0, min(x + w, bx + bw) - max(x, bx))
    overlap_h = max(0.0, min(y + h, by_ + bh) - max(y, by_))
    return overlap_w * overlap_h / (w * h) if w * h > 0 else 0.0


class MotionGate:
    """Whether the picture changed, within a mask, since the model last looked."""

    def __init__(self, mask: np.ndarray | None = None, level: int = 18, share: float = 0.003) -> None:
        self._mask = mask
        self._level = level
        self._share = share
        self._reference: np.ndarray | None = None
        self.looked_at = float("-inf")

    @property
    def started(self) -> bool:
        """Whether the model has looked once (before that, nothing can be said to have moved)."""
        return self._reference is not None

    def moved(self, gray: np.ndarray) -> bool:
        reference = self._reference
        if reference is None or reference.shape != gray.shape:
            return True
        changed = np.abs(gray.astype(np.int16) - reference.astype(np.int16)) > self._level
        if self._mask is not None and self._mask.shape == changed.shape:
            return bool(changed[self._mask].mean() > self._share) if self._mask.any() else False
        return bool(changed.mean() > self._share)

    def due(self, frame: AnalysisFrame, refresh_s: float) -> bool:
        """Look now: something moved, or the model has not looked for `refresh_s`."""
        return frame.at - self.looked_at >= refresh_s or self.moved(frame.gray)

    def looked(self, frame: AnalysisFrame) -> None:
        self._reference = frame.gray.copy()
        self.looked_at = frame.at

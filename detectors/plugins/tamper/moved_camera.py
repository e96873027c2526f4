"""摄像机移位 — the camera was turned or knocked: the view no longer matches the reference view."""

from __future__ import annotations

import numpy as np

from detectors.interface import KEY_FRAMES, AnalysisFrame, Observation
from detectors.plugin import ViolationKind
from detectors.plugins.tamper.picture_measures import similarity, thumbnail
from detectors.plugins.tamper.settings import TamperParams

KIND = ViolationKind(
    "camera_moved", "摄像机移位", "Camera moved", "major", needs=frozenset({"view"}), spoils=frozenset({"aim"})
)


class MovedCameraDetector:
    """Compares each view with a reference that follows slow changes; a new view that stays for
    `relearn_s` becomes the reference (someone re-aimed the camera on purpose), which ends the violation."""

    need = KEY_FRAMES
    kinds = (KIND.type,)

    def __init__(self, params: TamperParams) -> None:
        self.params = params
        self.reference: np.ndarray | None = None
        self._moved_since: float | None = None
        self._last_at: float | None = None

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        view = thumbnail(frame.gray)
        dt = 0.0 if self._last_at is None else max(0.0, frame.at - self._last_at)
        self._last_at = frame.at
        if self.reference is None or self.reference.shape != view.shape:
            self.reference = view
            return [Observation(KIND.type, None, frame.at, detail={"reason": "learning"})]
        score = similarity(view, self.reference)
        active = score < self.params.moved_similarity
        new_view = False
        if active:
            self._moved_since = frame.at if self._moved_since is None else self._moved_since
            if frame.at - self._moved_since >= self.params.relearn_s:
                # Someone re-aimed the camera and left it: the new view is the reference from now on.
                self.reference, self._moved_since, active, new_view = view, None, False, True
        else:
            self._moved_since = None
            self.reference += (view - self.reference) * min(1.0, dt / 300.0)
        confidence = min(1.0, 1.0 - score) if active else 0.0
        return [
            Observation(
                KIND.type,
                active,
                frame.at,
                confidence=round(confidence, 3),
                detail={"similarity": round(score, 3)},
                new_view=new_view,
            )
        ]

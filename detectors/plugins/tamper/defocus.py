"""画面模糊 — focus lost: edge energy collapses against the camera's own running reference."""

from __future__ import annotations

from detectors.interface import KEY_FRAMES, AnalysisFrame, Observation
from detectors.plugin import ViolationKind
from detectors.plugins.tamper.picture_measures import sharpness
from detectors.plugins.tamper.settings import TamperParams

KIND = ViolationKind("defocus", "画面模糊", "Out of focus", "minor", needs=frozenset({"view", "aim"}))
_WARMUP = 3  # samples averaged into the first reference


class DefocusDetector:
    need = KEY_FRAMES
    kinds = (KIND.type,)

    def __init__(self, params: TamperParams) -> None:
        self.params = params
        self.reference: float | None = None
        self._samples = 0
        self._last_at: float | None = None

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        value = sharpness(frame.gray)
        dt = 0.0 if self._last_at is None else max(0.0, frame.at - self._last_at)
        self._last_at = frame.at
        if self._samples < _WARMUP or self.reference is None:
            self._samples += 1
            self.reference = (
                value if self.reference is None else self.reference + (value - self.reference) / self._samples
            )
            return [Observation(KIND.type, None, frame.at, detail={"reason": "learning"})]
        ratio = value / self.reference if self.reference > 0 else 1.0
        active = ratio < self.params.defocus_ratio
        if not active:
            # The reference follows slow changes of the scene, never a blur.
            self.reference += (value - self.reference) * min(1.0, dt / self.params.relearn_s)
        confidence = min(1.0, 1.0 - ratio) if active else 0.0
        return [
            Observation(
                KIND.type,
                active,
                frame.at,
                confidence=round(confidence, 3),
                detail={"sharpness_ratio": round(ratio, 3)},
            )
        ]

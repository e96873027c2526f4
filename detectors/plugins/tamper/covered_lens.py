"""镜头遮挡 — the lens is covered (a hand, a cloth, a bag): a blank, uniform picture."""

from __future__ import annotations

from detectors.interface import KEY_FRAMES, AnalysisFrame, Observation
from detectors.plugin import ViolationKind
from detectors.plugins.tamper.picture_measures import spread
from detectors.plugins.tamper.settings import TamperParams

KIND = ViolationKind("covered_lens", "镜头遮挡", "Lens covered", "major", spoils=frozenset({"view"}))


class CoveredLensDetector:
    need = KEY_FRAMES
    kinds = (KIND.type,)

    def __init__(self, params: TamperParams) -> None:
        self.params = params

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        value = spread(frame.gray)
        active = value < self.params.cover_std
        confidence = 1.0 - value / self.params.cover_std if active else 0.0
        return [
            Observation(
                KIND.type,
                active,
                frame.at,
                confidence=round(max(0.5, confidence), 3) if active else 0.0,
                detail={"spread": round(value, 2)},
            )
        ]

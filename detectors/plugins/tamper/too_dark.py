"""画面过暗 — too dark to see: kitchens must be lit while they work (use an arming schedule)."""

from __future__ import annotations

from detectors.interface import KEY_FRAMES, AnalysisFrame, Observation
from detectors.plugin import ViolationKind
from detectors.plugins.tamper.settings import TamperParams

KIND = ViolationKind("too_dark", "画面过暗", "Too dark", "minor", needs=frozenset({"view"}))


class TooDarkDetector:
    need = KEY_FRAMES
    kinds = (KIND.type,)

    def __init__(self, params: TamperParams) -> None:
        self.params = params

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        level = float(frame.gray.mean())
        active = level < self.params.dark_level
        confidence = 1.0 - level / self.params.dark_level if active else 0.0
        return [
            Observation(
                KIND.type,
                active,
                frame.at,
                confidence=round(max(confidence, 0.5) if active else 0.0, 3),
                detail={"mean_level": round(level, 1)},
            )
        ]

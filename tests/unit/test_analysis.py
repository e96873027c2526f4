"""detectors/pipeline/analysis.py: what one violation says about judging the others (kinds' needs and spoils),
and the new view a re-aimed camera asks every detector to learn."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.config.models import CameraConfig, SourceConfig
from detectors.interface import KEY_FRAMES, AnalysisFrame, FrameNeed, Observation
from detectors.pipeline.analysis import CameraAnalysis
from detectors.plugin import PlannedDetector
from detectors.plugins.tamper.settings import TamperSettings
from detectors.violations.rules import AlarmParams


class Scripted:
    """Says what it is told, and remembers what it was shown."""

    need: FrameNeed = KEY_FRAMES

    def __init__(self, kind: str) -> None:
        self.kinds = (kind,)
        self.active: bool | None = False
        self.new_view = False
        self.seen_spoiled: list[frozenset[str]] = []
        self.relearned = 0

    def observe(self, frame: AnalysisFrame) -> Sequence[Observation]:
        self.seen_spoiled.append(frame.spoiled)
        return [Observation(self.kinds[0], self.active, frame.at, confidence=0.9, new_view=self.new_view)]

    def view_changed(self) -> None:
        self.relearned += 1


def _analysis() -> tuple[CameraAnalysis, Scripted, Scripted]:
    camera = CameraConfig(
        id="c",
        name="c",
        institution="i",
        role="gate",
        source=SourceConfig(url="x.mp4"),
        detectors=[TamperSettings(enabled=False)],
    )
    analysis = CameraAnalysis(camera)
    covered, route = Scripted("covered_lens"), Scripted("blocked_route")
    rules = AlarmParams(dwell_s=1, clear_s=1)
    analysis.add(PlannedDetector(covered, rules))
    analysis.add(PlannedDetector(route, rules))
    return analysis, covered, route


def _frame(at: float) -> AnalysisFrame:
    return AnalysisFrame(at=at, gray=np.zeros((4, 4), np.uint8))


def test_a_covered_lens_leaves_the_route_unjudged() -> None:
    analysis, covered, route = _analysis()
    covered.active = route.active = True
    events = [e for t in range(4) for e in analysis.process(_frame(float(t)))]
    # The route's samples while the lens is covered say nothing: only the covered lens starts.
    assert [(e.phase, e.kind) for e in events] == [("started", "covered_lens")]
    assert route.seen_spoiled[-1] == frozenset({"view"})  # told, so it keeps learning but says nothing
    covered.active = False
    later = [e for t in range(4, 9) for e in analysis.process(_frame(float(t)))]
    assert ("started", "blocked_route") in [(e.phase, e.kind) for e in later]


def test_a_new_view_is_learnt_by_every_detector_that_learns() -> None:
    analysis, covered, route = _analysis()
    covered.new_view = True
    analysis.process(_frame(0.0))
    assert route.relearned == 1 and covered.relearned == 1

"""detectors/pipeline/analysis.py: what one violation says about judging the others (kinds' needs and spoils),
the new view a re-aimed camera asks every detector to learn, and when a silent camera must be looked at."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.config.models import ArmingWindowConfig, CameraConfig, SourceConfig
from detectors.interface import KEY_FRAMES, AnalysisFrame, FrameNeed, Observation
from detectors.pipeline.analysis import CameraAnalysis
from detectors.plugin import PlannedDetector, PlannedWatch
from detectors.plugins.tamper.settings import TamperParams, TamperSettings
from detectors.plugins.tamper.video_loss import VideoLossWatch
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule


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


def _silent_camera(video_loss_s: float) -> CameraAnalysis:
    camera = CameraConfig(
        id="c", name="c", institution="i", role="gate", source=SourceConfig(url="x.mp4"),
        detectors=[TamperSettings(params=TamperParams(video_loss_s=video_loss_s))],
    )  # fmt: skip
    return CameraAnalysis(camera)


def test_a_silent_camera_is_looked_at_only_when_its_video_loss_can_turn() -> None:
    analysis = _silent_camera(video_loss_s=5)
    analysis.packet_arrived(100.0)
    # The pipeline sleeps as long as it is told and looks then: video loss still starts on time.
    now, looks, events = 100.0, [], []
    while (wait := analysis.next_check_in(now)) is not None and now < 200:
        now += wait
        looks.append(round(now - 100, 2))
        events += analysis.check_video(now)
    assert [(e.phase, e.kind) for e in events] == [("started", "video_loss")]
    assert 5 < events[0].at - 100 <= 7, events[0].at
    assert looks[0] == 5 and len(looks) <= 8, looks  # not twice a second for a minute and a half
    assert now < 110  # then it sleeps until a packet comes: nothing changes by time alone
    analysis.packet_arrived(now + 30)
    assert analysis.next_check_in(now + 31) == 4  # the next turn, waited for


def test_an_armed_window_is_looked_for_while_nothing_else_can_turn() -> None:
    analysis = _silent_camera(video_loss_s=5)
    night = ArmingSchedule([ArmingWindowConfig(start="22:00", end="06:00")])
    analysis.watches = [PlannedWatch(VideoLossWatch(5), AlarmParams(dwell_s=1), night)]
    assert analysis.next_check_in(0.0) == 5.0  # no packet yet: only the window can open

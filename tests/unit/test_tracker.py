"""detectors/violations/tracker.py: the rules every detector's violations follow (debounce, dwell, end,
re-alarm suppression, arming schedules, minimum duration)."""

from __future__ import annotations

from core.config.models import ArmingWindowConfig
from detectors.interface import Observation
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule
from detectors.violations.tracker import ViolationTracker


def _feed(tracker: ViolationTracker, pattern: str, start: float = 0.0, step: float = 1.0):
    events = []
    for i, c in enumerate(pattern):
        active = {"#": True, ".": False, "?": None}[c]
        event = tracker.update(Observation("blocked_route", active, start + i * step, "z", 0.9))
        if event is not None:
            events.append((event.phase, event.at))
    return events


def test_violation_rules_debounce_dwell_end_and_realarm() -> None:
    params = AlarmParams(dwell_s=5, min_share=0.8, clear_s=3, realarm_s=10)
    tracker = ViolationTracker("blocked_route", "z", params)
    # A flicker, then a condition that holds 5 s with one miss among six samples: starts at the dwell.
    assert _feed(tracker, "#.......#####.##") == [("started", 14.0)]
    # Samples saying nothing (view unusable) neither start nor end anything.
    assert _feed(tracker, "????", start=16) == []
    assert _feed(tracker, "...", start=20) == [("ended", 20.0)]
    # Back within realarm_s: the same violation reopens rather than raising a second alarm.
    assert _feed(tracker, "######", start=23) == [("reopened", 28.0)]
    assert _feed(tracker, "....", start=40) == [("ended", 40.0)]
    assert _feed(tracker, "######", start=60) == [("started", 65.0)]


def test_violation_rules_arming_schedule_and_minimum_duration() -> None:
    from datetime import datetime

    kitchen_hours = ArmingSchedule([ArmingWindowConfig(days=["mon"], start="08:00", end="09:00")])
    monday = datetime(2026, 11, 30, 7, 59, 50).timestamp()  # local time, like the schedule
    tracker = ViolationTracker("too_dark", None, AlarmParams(dwell_s=2, clear_s=1), kitchen_hours)
    assert _feed(tracker, "#" * 20, start=monday) == [("started", monday + 12)]  # armed at 08:00, + dwell
    assert _feed(tracker, "###", start=monday + 3600 + 8) == [("ended", monday + 3600 + 10)]  # disarmed at 09:00
    assert _feed(tracker, "#" * 20, start=monday + 7 * 86400 - 86400) == []  # Sunday: never armed

    held = ViolationTracker("x", None, AlarmParams(dwell_s=2, clear_s=1, min_duration_s=10))
    assert _feed(held, "###....#") == [("started", 2.0)]  # clear, but not ended before 10 s
    assert _feed(held, "....", start=12) == [("ended", 12.0)]


def test_a_condition_that_holds_too_rarely_never_starts() -> None:
    tracker = ViolationTracker("blocked_route", "z", AlarmParams(dwell_s=5, min_share=0.8, clear_s=3))
    assert _feed(tracker, "#.#.#.#.#.#.#.#.") == []  # half the samples: under min_share


def test_finish_ends_a_running_violation_with_its_reason() -> None:
    tracker = ViolationTracker("blocked_route", "z", AlarmParams(dwell_s=2, clear_s=2))
    assert _feed(tracker, "####") == [("started", 2.0)]
    ended = tracker.finish(10.0, "analysis stopped")
    assert ended is not None and (ended.phase, ended.reason, ended.started_at) == ("ended", "analysis stopped", 2.0)
    assert tracker.finish(11.0) is None


def test_a_dwell_shorter_than_clear_s_is_not_ended_by_what_came_before_it() -> None:
    """A fall held 3 s starts; the quiet ten seconds before it must not end it at once (they did)."""
    tracker = ViolationTracker("fall", None, AlarmParams(dwell_s=3, clear_s=10, min_share=0.6))
    assert _feed(tracker, "." * 12 + "#" * 20, step=0.5) == [("started", 9.0)]
    assert _feed(tracker, "." * 30, start=16.0, step=0.5) == [("ended", 21.0)]

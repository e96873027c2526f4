"""Kitchen rules at night on composed PETS footage (tests/rig/people.py) in the camera's infrared picture: a rat
running over the floor is 疑似鼠患; grain, the lights going off and people walking through are not; a rat in
the daylight picture is not this rule's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from detectors.offline.analyze import FoundViolation, analysis_camera, analyze
from detectors.registry import detector_settings
from tests.rig.people import Shot, people_clip

FLOOR = [[0.0, 0.6], [1.0, 0.6], [1.0, 1.0], [0.0, 1.0]]  # the lower part of the picture


def _rodents(clip: Path, **rule: Any) -> list[FoundViolation]:
    settings = detector_settings([{"type": "rodents", **rule}])
    return list(analyze(clip, analysis_camera(settings, "kitchen")))  # type: ignore[arg-type]


def test_a_rat_running_over_the_floor_at_night_is_suspected_rodents() -> None:
    clip = people_clip(
        "rat-night",
        [
            Shot("empty", 6, night=True),
            Shot("rat", 4, (100, 520), (600, 500), night=True),
            Shot("empty", 14, night=True),
        ],
    )
    (found,) = _rodents(clip, zones=[{"name": "地面", "points": FLOOR}])
    assert found.type == "suspected_rodents" and found.label == "疑似鼠患" and found.zone == "地面"
    assert 7.0 <= found.start_s <= 10.0, found  # running from 6 s, 2 s of dwell
    x, y, w, h = found.bbox or [0, 0, 0, 0]
    assert w < 80 and h < 40 and 460 < y + h / 2 < 560, found  # the rat, on the floor
    # A floor zone elsewhere sees nothing.
    assert _rodents(clip, zones=[{"name": "灶台", "points": [[0, 0], [1, 0], [1, 0.5], [0, 0.5]]}]) == []


def test_grain_lights_going_off_and_a_person_at_night_are_not_rodents() -> None:
    clip = people_clip(
        "night-person",
        [
            Shot("empty", 4),
            Shot("empty", 10, night=True),
            Shot("walk", 4, (150, 450), (500, 450), night=True),
            Shot("empty", 10, night=True),
        ],
    )
    assert _rodents(clip) == []
    # Without the person model's look, the person's moving pieces would be taken for rodents: it is needed.
    crowd = people_clip("crowd-night", [Shot("crowd", 30, start=400, night=True)])
    assert _rodents(crowd) == []
    assert _rodents(crowd, params={"ignore_people": False}) != []


def test_a_rat_by_daylight_is_not_this_rules() -> None:
    clip = people_clip("rat-day", [Shot("empty", 6), Shot("rat", 4, (100, 520), (600, 500)), Shot("empty", 6)])
    assert _rodents(clip) == []


def test_rodent_sizes_out_of_order_are_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"min_area \(0.01\) must be below max_area \(0.004\)"):
        detector_settings([{"type": "rodents", "params": {"min_area": 0.01}}])

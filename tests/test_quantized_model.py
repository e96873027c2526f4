"""The shipped person model quantised to int8 by `vms models quantize`, calibrated on opencv-doc's PETS footage:
the rules that look for people give the same outcomes with it as with the float model, on the composed clips of
tests/rig/people.py, and the command refuses what it cannot quantise, naming it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from detectors.models.shipped import PERSON_MODEL, shipped
from detectors.offline.analyze import FoundViolation, analysis_camera, analyze
from detectors.registry import detector_settings
from tests.rig.people import VTEST, Shot, people_clip


def _vms_models(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vms", "models", *argv], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("int8") / "person-int8.onnx"
    done = _vms_models("quantize", "person", "--calibration", str(VTEST), "--frames", "32", "--out", str(out))
    assert done.returncode == 0, done.stderr
    # It checks itself on the 16 frames it was not calibrated on: nearly every box of the float model found again.
    agreed = re.search(r"it finds (\d+) of the float model's (\d+) boxes", done.stdout)
    assert agreed is not None, done.stdout
    assert int(agreed[1]) >= 0.9 * int(agreed[2]) and int(agreed[2]) > 50, done.stdout
    assert "int8 (vms models quantize)" in done.stdout and "Fall" in done.stdout  # the classes kept
    assert out.stat().st_size < 0.4 * shipped(PERSON_MODEL).stat().st_size
    return out


def _found(clip: Path, role: str, detector: dict[str, Any]) -> list[FoundViolation]:
    return list(analyze(clip, analysis_camera(detector_settings([detector]), role)))  # type: ignore[arg-type]


def test_the_int8_model_raises_duty_absence_and_falls_as_the_float_one_does(int8_model: Path) -> None:
    person = {"path": str(int8_model)}
    duty = people_clip("duty", [Shot("crowd", 8, start=300), Shot("empty", 20)])
    absence = {"type": "duty_absence", "params": {"dwell_s": 5, "clear_s": 2, "person": person}}
    (absent,) = _found(duty, "duty_room", absence)
    assert absent.type == "duty_absent" and 12.5 <= absent.start_s <= 18.5, absent
    fall = people_clip(
        "fall",
        [Shot("empty", 2), Shot("walk", 4, (200, 420), (400, 420)), Shot("lie", 12, (400, 420)), Shot("empty", 14)],
    )
    (fallen,) = _found(fall, "other", {"type": "fall", "params": {"person": person}})
    assert fallen.type == "fall" and 8.5 <= fallen.start_s <= 10.5 and 18.0 <= fallen.end_s <= 29.0, fallen
    crowd = people_clip("crowd", [Shot("crowd", 30, start=100)])
    assert _found(crowd, "duty_room", {"type": "duty_absence", "params": {"dwell_s": 5, "person": person}}) == []


def test_what_cannot_be_quantised_is_refused_naming_it(tmp_path: Path) -> None:
    face = _vms_models("quantize", "face", "--calibration", str(VTEST), "--frames", "4", "--out", str(tmp_path / "f"))
    assert face.returncode == 2 and "centerface.onnx" in face.stderr and "not a YOLO detection model" in face.stderr
    nowhere = tmp_path / "no-such-footage"
    absent = _vms_models("quantize", "person", "--calibration", str(nowhere), "--out", str(tmp_path / "p.onnx"))
    assert absent.returncode == 2 and f"calibration source {nowhere} does not exist" in absent.stderr
    assert not (tmp_path / "p.onnx").exists()

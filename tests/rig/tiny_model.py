"""A tiny detection model in the shape ultralytics exports (one image [1, 3, S, S] in, [1, 4 + C, N] out, class
names in the metadata), built with onnx's own helper: an operator's "kitchen model" whose classes the tests make
up. The picture is cut into a grid of cells; each cell is an anchor whose box is the cell and whose class scores
are the cell's mean red, green and blue (0..1): a pure red patch is `no_hat` there, a green one `cig`, a blue
one `lid_off`, and black is nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.rig.media import clip_cache_dir, encode_pictures

CLASSES = ("no_hat", "cig", "lid_off")


def tiny_kitchen_model(path: Path, size: int = 64, grid: int = 8) -> Path:
    cell = size // grid
    centres = (np.arange(grid, dtype=np.float32) + 0.5) * cell
    cy, cx = np.meshgrid(centres, centres, indexing="ij")
    boxes = np.stack([cx.ravel(), cy.ravel(), np.full(grid * grid, cell), np.full(grid * grid, cell)])
    nodes = [
        helper.make_node("AveragePool", ["images"], ["cells"], kernel_shape=[cell, cell], strides=[cell, cell]),
        helper.make_node("Reshape", ["cells", "flat_shape"], ["scores"]),
        helper.make_node("Concat", ["boxes", "scores"], ["output0"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_kitchen",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + len(CLASSES), grid * grid])],
        initializer=[
            numpy_helper.from_array(np.array([1, 3, grid * grid], np.int64), "flat_shape"),
            numpy_helper.from_array(boxes[None].astype(np.float32), "boxes"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    names = {i: name for i, name in enumerate(CLASSES)}
    for key, value in {"task": "detect", "names": repr(names), "imgsz": f"[{size}, {size}]"}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


def patches_clip(name: str, shots: list[tuple[float, dict[str, tuple[int, int, int, int]]]]) -> Path:
    """A black 640x480 clip at 10 fps, each shot `(seconds, {colour: (x, y, w, h)})` with pure "red", "green"
    or "blue" patches; cached under tests/.media by its recipe."""
    recipe = json.dumps(shots)
    path = clip_cache_dir() / f"patches-{name}-{hashlib.sha1(recipe.encode()).hexdigest()[:10]}.mp4"
    bgr = {"red": (0, 0, 255), "green": (0, 255, 0), "blue": (255, 0, 0)}

    def pictures() -> Iterator[np.ndarray]:
        for seconds, patches in shots:
            picture = np.zeros((480, 640, 3), np.uint8)
            for colour, (x, y, w, h) in patches.items():
                picture[y : y + h, x : x + w] = bgr[colour]
            for _ in range(round(seconds * 10)):
                yield picture

    return encode_pictures(path, pictures(), 10)

"""An ultralytics detection model exported at one input size, run at another without re-exporting it (which needs
PyTorch): the network is convolutional up to its head, and the head's only ties to the size are constants
computed at export for that size's anchor grid (the anchor points, their strides, and the anchor count in a few
reshapes). They are recomputed for the new size; a file without exactly those constants is refused."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

STRIDES = (8, 16, 32)  # YOLOv8 and later: the three detection scales


def anchor_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(anchor points [1, 2, A], strides [1, A]) as ultralytics makes them: cell centres, row by row, per scale."""
    points, strides = [], []
    for stride in STRIDES:
        ys, xs = np.meshgrid(np.arange(height // stride) + 0.5, np.arange(width // stride) + 0.5, indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()]))
        strides.append(np.full(xs.size, stride))
    return np.concatenate(points, axis=1)[None].astype(np.float32), np.concatenate(strides)[None].astype(np.float32)


def resize_input(model: onnx.ModelProto, height: int, width: int) -> onnx.ModelProto:
    """The model taking [1, 3, height, width]; ValueError saying why where it cannot."""
    if height % 32 or width % 32 or not 64 <= min(height, width) <= max(height, width) <= 2048:
        raise ValueError(f"input size {height}x{width}: each side a multiple of 32, from 64 to 2048")
    (image,) = [value for value in model.graph.input if value.name not in {i.name for i in model.graph.initializer}]
    dims = image.type.tensor_type.shape.dim
    old_h, old_w = dims[2].dim_value, dims[3].dim_value
    if not old_h or not old_w:
        raise ValueError("its input size is not fixed in the file")
    old_points, old_strides = anchor_grid(old_h, old_w)
    new_points, new_strides = anchor_grid(height, width)
    old_count, new_count = old_strides.shape[1], new_strides.shape[1]
    replaced = {"points": 0, "strides": 0}
    for tensor in model.graph.initializer:
        value = numpy_helper.to_array(tensor)
        if value.dtype == np.float32 and value.shape == old_points.shape and np.array_equal(value, old_points):
            tensor.CopyFrom(numpy_helper.from_array(new_points, tensor.name))
            replaced["points"] += 1
        elif value.dtype == np.float32 and value.shape == old_strides.shape and np.array_equal(value, old_strides):
            tensor.CopyFrom(numpy_helper.from_array(new_strides, tensor.name))
            replaced["strides"] += 1
        elif value.dtype == np.int64 and value.ndim == 1 and value.size <= 5 and value[-1] == old_count:
            shape = value.copy()
            shape[-1] = new_count  # a reshape to [..., anchors]
            tensor.CopyFrom(numpy_helper.from_array(shape, tensor.name))
    if not replaced["points"] or not replaced["strides"]:
        raise ValueError("its head holds no anchor grid of the usual shape (not an ultralytics YOLOv8+ export?)")
    dims[2].dim_value, dims[3].dim_value = height, width
    for output in model.graph.output:
        out_dims = output.type.tensor_type.shape.dim
        if out_dims and out_dims[-1].dim_value == old_count:
            out_dims[-1].dim_value = new_count
    del model.graph.value_info[:]  # shapes inferred for the old size
    for entry in model.metadata_props:
        if entry.key == "imgsz":
            entry.value = f"[{height}, {width}]"
    return model

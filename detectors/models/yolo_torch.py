"""The other backend: an ultralytics model file (`.pt`) run by ultralytics itself on PyTorch, for a site that has
them installed. This project does not install them (PyTorch alone is gigabytes): onnxruntime runs the same
convolutions at about the same speed at equal threads (docs/performance.md), and `vms models export` turns a
`.pt` into the ONNX file the default backend reads. ultralytics is kept from the network (`YOLO_OFFLINE`): without
it, its import looks up hosts."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from detectors.interface import Detection
from detectors.models.yolo_onnx import ModelError


class UltralyticsModel:
    def __init__(self, path: Path, threads: int = 1) -> None:
        if not path.is_file():
            raise ModelError(f"model file {path} does not exist")
        for name, value in (("YOLO_OFFLINE", "1"), ("YOLO_AUTOINSTALL", "false"), ("YOLO_VERBOSE", "false")):
            os.environ.setdefault(name, value)
        try:
            import torch
            from ultralytics import YOLO
        except ImportError:
            raise ModelError(
                f"model file {path} is a PyTorch model: it needs ultralytics and torch installed, or export it to ONNX "
                f"with `vms models export {path}` where they are"
            ) from None
        self._torch, self._threads = torch, threads
        try:
            self._model: Any = YOLO(str(path))
        except Exception as error:
            raise ModelError(f"model file {path} cannot be loaded: {str(error).splitlines()[0][:200]}") from None
        if self._model.task != "detect":
            raise ModelError(f"model file {path} is a {self._model.task} model, not a detection model")
        self.path = path
        self.names: dict[int, str] = {int(k): str(v) for k, v in self._model.names.items()}
        self._lock = threading.Lock()  # an ultralytics predictor keeps per-call state

    def detect(self, bgr: np.ndarray, min_score: float = 0.25, iou: float = 0.45) -> list[Detection]:
        with self._lock:
            self._torch.set_num_threads(self._threads)  # ultralytics sets its own (cores - 1) at each predictor set-up
            (result,) = self._model.predict(bgr, conf=min_score, iou=iou, device="cpu", verbose=False)
        boxes = result.boxes
        found = []
        for (x0, y0, x1, y1), score, class_id in zip(
            boxes.xyxyn.tolist(), boxes.conf.tolist(), boxes.cls.tolist(), strict=True
        ):
            label = self.names.get(int(class_id), str(int(class_id)))
            found.append(Detection(label, int(class_id), float(score), (x0, y0, x1 - x0, y1 - y0)))
        return sorted(found, key=lambda d: -d.score)

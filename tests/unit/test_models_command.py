"""vms/models_command.py: `vms models info` on the shipped person model (as text and as JSON), and its refusals,
each one line naming the file, exit status 2: a missing file, a corrupt one, a model that is not a detector, and
a .pt file without ultralytics (vms does not install it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from vms.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["models", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_info_shows_the_shipped_person_models_classes_and_input(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, "info", "person")
    assert status == 0 and err == ""
    assert "best_fp16.onnx" in out and "640×640" in out
    assert "0 Normal, 1 Fall" in out and "Ultralytics" in out  # the exporter's metadata


def test_info_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "info", "person", "--json")
    info = json.loads(out)
    assert status == 0 and info["task"] == "detect"
    assert info["classes"] == {"0": "Normal", "1": "Fall"}
    assert info["input"] == {"height": 640, "width": 640}
    assert info["outputs"][0]["shape"] == [1, 6, 8400] and info["size_mb"] > 1
    assert Path(info["file"]).is_file()


def test_the_face_model_shows_its_tensors_only(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "info", "face", "--json")
    info = json.loads(out)
    assert status == 0 and info["classes"] == {} and info["task"] is None
    assert Path(info["file"]).name == "centerface.onnx" and len(info["outputs"]) == 4


def test_files_that_cannot_be_used_are_refused_naming_them(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.onnx"
    status, out, err = _run(capsys, "info", str(missing))
    assert (status, out) == (2, "") and str(missing) in err and "does not exist" in err
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07not a model at all" * 10)
    status, out, err = _run(capsys, "info", str(garbage), "--json")
    assert (status, out) == (2, "") and f"{garbage} cannot be loaded" in err
    assert len(err.strip().splitlines()) == 1
    # CenterFace named by its path is checked as a detector, and is not one.
    face = json.loads(_run(capsys, "info", "face", "--json")[1])["file"]
    status, _, err = _run(capsys, "info", face)
    assert status == 2 and f"{face} is not a YOLO detection model" in err


def test_pt_files_need_ultralytics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ultralytics", None)  # not importable, whether installed or not
    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"not read")
    for argv in (["info", str(weights)], ["export", str(weights), "--imgsz", "320"]):
        status, out, err = _run(capsys, *argv)
        assert (status, out) == (2, "") and str(weights) in err
        assert "needs ultralytics" in err and "pip install ultralytics torch" in err
    status, _, err = _run(capsys, "info", str(tmp_path / "absent.pt"))
    assert status == 2 and "absent.pt does not exist" in err


def test_export_refuses_what_it_cannot_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"not read")
    status, _, err = _run(capsys, "export", str(weights), "--imgsz", "300")
    assert status == 2 and "--imgsz 300" in err and "multiple of 32" in err
    status, _, err = _run(capsys, "export", str(tmp_path / "model.onnx"))
    assert status == 2 and "model.onnx is not an ultralytics .pt checkpoint" in err

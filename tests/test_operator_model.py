"""An operator's own model plugs in with no code: a tiny ONNX detection model built in the tests
(tests/rig/tiny_model.py, classes `no_hat`, `cig`, `lid_off`) whose classes the configuration maps onto
violation kinds, one of them new; through `vms analyze` and through live cameras; and every way a model can be
wrong, refused at start-up naming the camera and the file while the other cameras run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.config import ConfigError
from service.configuration import parse_config
from tests.rig.rtsp import RtspServer
from tests.rig.tiny_model import patches_clip, tiny_kitchen_model
from tests.running_service import ADMIN_PASSWORD, RunningService

HAT_ZONE = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]  # the top left quarter
CLASSES = {
    "no_hat": {"kind": "no_chef_hat"},
    "lid_off": {"kind": "bin_lid_open", "label": "垃圾桶盖未盖", "label_en": "Bin lid open", "severity": "minor"},
}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_kitchen_model(tmp_path_factory.mktemp("models") / "kitchen.onnx")


@pytest.fixture(scope="module")
def clip() -> Path:
    """Black; a cook without a hat (red) in the top left; someone smoking (green, a class nobody mapped); a bin
    left open (blue, still) in the bottom right."""
    return patches_clip(
        "kitchen",
        [
            (4, {}),
            (8, {"red": (80, 60, 120, 120)}),
            (4, {"green": (400, 100, 120, 120)}),
            (12, {"blue": (420, 300, 150, 150)}),
        ],
    )


def _analyze(clip: Path, tmp_path: Path, entry: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    tuning = tmp_path / "tuning.yaml"
    entries = [{"type": "tamper", "enabled": False}, entry]  # the black picture is "dark" to camera health
    tuning.write_text(yaml.safe_dump({"detectors": entries}, allow_unicode=True), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "vms", "analyze", str(clip), "--role", "kitchen", "--config", str(tuning)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_operators_model_maps_its_classes_onto_violation_kinds(model: Path, clip: Path, tmp_path: Path) -> None:
    entry = {"type": "model", "model": str(model), "classes": CLASSES, "params": {"dwell_s": 3, "clear_s": 3}}
    result = _analyze(clip, tmp_path, entry)
    assert result.returncode == 0, result.stderr
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(f["type"], f["label"]) for f in found] == [("no_chef_hat", "未戴厨师帽"), ("bin_lid_open", "垃圾桶盖未盖")]
    hat, lid = found
    assert 6.5 <= hat["start_s"] <= 8.5 and 12 <= hat["end_s"] <= 16, hat  # red from 4 s to 12 s, 3 s dwell
    x, y, _, _ = hat["bbox"]
    assert x < 320 and y < 240, hat  # where the cook stands
    assert 18.5 <= lid["start_s"] <= 21.5, lid  # blue from 16 s (a still thing: seen when it appeared)
    # Zones apply: with the hat zone drawn, the open bin in the other corner is not there.
    zoned = _analyze(clip, tmp_path, {**entry, "zones": [{"name": "灶台", "points": HAT_ZONE}]})
    assert [json.loads(line)["type"] for line in zoned.stdout.splitlines()] == ["no_chef_hat"], zoned.stderr


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d, m: d / "absent.onnx", "does not exist"),
        (lambda d, m: _write(d / "corrupt.onnx", b"\x08\x07garbage" * 100), "cannot be loaded"),
        (lambda d, m: m, "has no class 'hat_off'"),
    ],
    ids=["missing", "corrupt", "unknown-class"],
)
def test_a_model_that_cannot_be_used_is_refused_naming_the_file(
    model: Path, clip: Path, tmp_path: Path, make: Any, expected: str
) -> None:
    path = make(tmp_path, model)
    classes = {**CLASSES, "hat_off": {"kind": "no_chef_hat"}} if expected.startswith("has no class") else CLASSES
    result = _analyze(clip, tmp_path, {"type": "model", "model": str(path), "classes": classes})
    assert result.returncode == 2 and result.stdout == ""
    assert str(path) in result.stderr and expected in result.stderr and "detector model" in result.stderr


def test_a_face_model_is_not_a_detection_model(clip: Path, tmp_path: Path) -> None:
    from detectors.models.shipped import FACE_MODEL, shipped

    result = _analyze(clip, tmp_path, {"type": "model", "model": str(shipped(FACE_MODEL)), "classes": CLASSES})
    assert result.returncode == 2 and "not a YOLO detection model" in result.stderr, result.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _config(cameras: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "organisation": {
            "id": "qd",
            "name": "启东市民政局",
            "towns": [{"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院"}]}],
        },
        "cameras": cameras,
    }


def _camera(camera_id: str, entries: list[dict[str, Any]], url: str = "rtsp://127.0.0.1:1/x") -> dict[str, Any]:
    return {
        "id": camera_id,
        "name": "厨房",
        "institution": "hl-jly",
        "role": "kitchen",
        "record": False,
        "source": {"url": url},
        "detectors": [{"type": "tamper", "enabled": False}, *entries],
    }


def test_a_mapping_the_configuration_cannot_mean_is_named(model: Path) -> None:
    unlabelled = {"type": "model", "model": str(model), "classes": {"no_hat": {"kind": "no_toque"}}}
    clash = {
        "type": "model",
        "model": str(model),
        "classes": {"no_hat": {"kind": "fall", "label": "摔倒", "severity": "minor"}},
    }
    with pytest.raises(ConfigError) as refused:
        parse_config(_config([_camera("a", [unlabelled]), _camera("b", [clash])]))
    message = str(refused.value)
    assert "no_toque" in message and "give it a label" in message
    with pytest.raises(ConfigError, match="camera 'b': violation type 'fall' is already 人员跌倒"):
        parse_config(_config([_camera("b", [clash])]))


def test_live_cameras_with_an_operators_model_and_with_a_broken_one(model: Path, clip: Path, tmp_path: Path) -> None:
    """The good camera's violations reach the API with the configured kind's labels; the camera whose model file
    is missing says so in its detection status, and its other detector runs."""
    broken = tmp_path / "missing.onnx"
    with RtspServer([{"path": "/kitchen", "clip": str(clip)}]) as server:
        entry = {"type": "model", "model": str(model), "classes": CLASSES, "params": {"dwell_s": 3, "clear_s": 3}}
        cameras = [
            _camera("good", [entry], server.url("/kitchen")),
            _camera("bad", [{**entry, "model": str(broken)}, {"type": "rodents"}], server.url("/kitchen")),
        ]
        service = RunningService(tmp_path, _config(cameras))
        service.start()
        try:
            with service.client() as client:
                kinds = {k["type"]: k for k in client.get("/api/violation-types").json()}
                assert kinds["bin_lid_open"]["label"] == {"zh-CN": "垃圾桶盖未盖", "en": "Bin lid open"}
                assert kinds["no_chef_hat"]["label"]["zh-CN"] == "未戴厨师帽"
                deadline = time.monotonic() + 60
                types: set[str] = set()
                while time.monotonic() < deadline and not {"no_chef_hat", "bin_lid_open"} <= types:
                    violations = client.get("/api/violations", params={"camera": "good"}).json()
                    types = {v["type"] for v in violations}
                    time.sleep(0.5)
                assert {"no_chef_hat", "bin_lid_open"} <= types, types
                lid = next(v for v in violations if v["type"] == "bin_lid_open")
                assert lid["label"] == "垃圾桶盖未盖" and lid["severity"] == "minor"
                status = client.get("/api/cameras/bad/detection").json()
                assert str(broken) in status["error"] and "does not exist" in status["error"], status
                assert status["detectors"] == ["suspected_rodents"], status  # the rodents detector runs
                assert client.get("/api/violations", params={"camera": "bad"}).json() == []
            _the_page_shows(service, {"未戴厨师帽", "垃圾桶盖未盖"})
        finally:
            service.stop()


def _the_page_shows(service: RunningService, labels: set[str]) -> None:
    """The violations page (real Chromium) names the new kinds in Chinese, with their severity: it holds no list
    of kinds, it reads the service's."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.rig.browser import artifacts_dir, chromium, log_in

    browser = chromium()
    try:
        log_in(browser, service.base_url + "/ui/#/violations", "admin", ADMIN_PASSWORD)
        wait = WebDriverWait(browser, 15, poll_frequency=0.2)
        wait.until(lambda d: labels <= {row.text.split(" ", 1)[-1] for row in _type_cells(d)})
        badges = [cell.find_element(By.CSS_SELECTOR, ".severity.minor").text for cell in _type_cells(browser)]
        assert badges and set(badges) == {"一般"}, badges
        browser.save_screenshot(str(artifacts_dir() / "web-ui-operator-model.png"))
    finally:
        browser.quit()


def _type_cells(driver: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, "#violations-table tbody tr td:nth-child(4)"))

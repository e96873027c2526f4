"""Violations forwarded to an upper platform: signed the Standard Webhooks way, in order per camera, through a
platform that is down, fails, answers late and refuses one message, and across a kill -9 of the service:
every event arrives exactly once per id (after the platform drops repeats), nothing is lost."""

from __future__ import annotations

import base64
import time
from collections import defaultdict
from pathlib import Path

import httpx

from core.signed_urls import UrlSigner
from core.store import Store
from tests.conftest import ORGANISATION
from tests.rig.rtsp import free_port
from tests.rig.violations import JPEG, add_violation
from tests.rig.webhook_receiver import WebhookReceiver, event_id
from tests.running_service import RunningService

SECRET = "whsec_" + base64.b64encode(b"nantong-platform-secret-32-bytes").decode()


def _config(receiver_url: str, **events: object) -> dict:
    camera = {
        "institution": "hl-jly",
        "role": "gate",
        "source": {"url": "rtsp://127.0.0.1:1/none"},
        "detectors": [{"type": "tamper", "enabled": False}],
    }
    return {
        "organisation": ORGANISATION,
        "cameras": [
            {**camera, "id": "gate", "name": "大门"},
            {**camera, "id": "exit", "name": "疏散通道", "role": "evacuation_route"},
            {**camera, "id": "ny-gate", "name": "南阳大门", "institution": "ny-jly"},
        ],
        "uplink": {
            "platforms": [
                {
                    "id": "nantong",
                    "name": "南通市民政养老服务平台",
                    "units": ["hl"],  # sees 汇龙镇's cameras only
                    "events": {
                        "url": receiver_url,
                        "secret": SECRET,
                        "timeout_s": 1,
                        "backoff_s": [0.2, 0.5, 1],
                        "public_url": "http://vms.example",
                        **events,
                    },
                }
            ]
        },
    }


def _wait(condition, timeout: float = 30.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert condition(), what


def test_events_reach_the_platform_exactly_once_in_order_through_failures_and_a_kill(tmp_path: Path) -> None:
    failures = {"left": 3}
    refused: set[int] = set()

    def answer(message_id: str, body: dict) -> tuple[int, float]:
        if body["data"]["id"] in refused and body["type"] == "violation.started":
            return 400, 0.0  # the platform will never take this one
        if failures["left"] > 0:
            failures["left"] -= 1
            return (503, 0.0) if failures["left"] else (200, 2.0)  # two failures, then one answered too late
        return 200, 0.0

    port = free_port()  # the platform is down when the first violations happen
    service = RunningService(tmp_path, _config(f"http://127.0.0.1:{port}/events"))
    service.start()
    store = Store.open(service.data_dir / "vms.db")
    receiver: WebhookReceiver | None = None
    try:
        now = time.time()
        for n in range(4):
            for camera_id in ("gate", "exit"):
                add_violation(store, camera_id, "hl-jly", now + n)
            add_violation(store, "ny-gate", "ny-jly", now + n)  # not this platform's
        time.sleep(1.5)
        with service.client() as client:
            waiting = client.get("/api/uplink/platforms").json()[0]["events"]
        assert waiting["pending"] == 16 and waiting["delivered"] == 0 and waiting["last_error"], waiting
        assert waiting["oldest_pending_age_s"] > 1.0

        receiver = WebhookReceiver(SECRET, answer, port=port)  # the platform is back
        refused.add(add_violation(store, "gate", "hl-jly", now + 10, kind="defocus"))
        _wait(lambda: len(receiver.taken) >= 6, what="deliveries resumed")
        service.kill()  # in the middle of delivering
        for n in range(2):
            add_violation(store, "exit", "hl-jly", now + 20 + n)
        service.start()
        total = 16 + 2 + 4  # the first sixteen events, the refused violation's two, two more violations on exit
        _wait(lambda: len(receiver.taken) >= total - 1, timeout=60, what="every event but the refused one")
        time.sleep(1.0)
        with service.client() as client:
            status = client.get("/api/uplink/platforms").json()[0]
            parked = client.get("/api/uplink/platforms/nantong/parked").json()
        assert status["events"]["pending"] == 0 and status["events"]["parked"] == 1, status
        assert len(parked) == 1 and parked[0]["reason"].startswith("HTTP 400"), parked

        # Every event of the platform's cameras once (repeats after the kill dropped by id), in order per camera,
        # every signature valid.
        logged = {e.id for e in store.violations.events_after(0, 1000) if e.camera_id in ("gate", "exit")}
        taken = [event_id(r.id) for r in receiver.taken]
        assert len(logged) == total and set(taken) == logged - {min(logged - set(taken))} and len(taken) == total - 1
        assert receiver.bad_signatures == 0
        by_camera: dict[str, list[int]] = defaultdict(list)
        for message in receiver.taken:
            by_camera[message.body["data"]["camera"]["id"]].append(event_id(message.id))
        assert set(by_camera) == {"gate", "exit"}
        for camera_id, events in by_camera.items():
            assert events == sorted(events), (camera_id, events)
        first = receiver.taken[0].body
        assert first["type"] == "violation.started" and first["data"]["label"] == "镜头遮挡"
        assert first["data"]["institution"]["name"] == "汇龙镇敬老院" and first["data"]["town"]["name"] == "汇龙镇"
        assert base64.b64decode(first["data"]["snapshot"]["base64"]) == JPEG

        # The refused message goes again on request, once the platform takes it.
        refused.clear()
        with service.client() as client:
            assert client.post(f"/api/uplink/platforms/nantong/parked/{parked[0]['id']}/retry").status_code == 204
            _wait(lambda: client.get("/api/uplink/platforms").json()[0]["events"]["parked"] == 0, what="retried")
        _wait(lambda: len(receiver.taken) == total, what="the refused message delivered")
        assert {event_id(r.id) for r in receiver.taken} == logged
    finally:
        store.close()
        service.stop()
        if receiver is not None:
            receiver.stop()


def test_signed_links_give_a_platform_the_snapshot_and_nothing_else(tmp_path: Path) -> None:
    receiver = WebhookReceiver(SECRET)
    service = RunningService(tmp_path, _config(receiver.url, snapshot="url"))
    service.start()
    store = Store.open(service.data_dir / "vms.db")
    try:
        add_violation(store, "gate", "hl-jly", time.time())
        _wait(lambda: len(receiver.taken) >= 2, what="forwarded")
        link = receiver.taken[0].body["data"]["snapshot"]["url"]
        assert link.startswith("http://vms.example/api/shared/violations/") and "by=nantong" in link
        path = link.removeprefix("http://vms.example")
        assert httpx.get(service.base_url + path).content == JPEG
        tampered = path.replace("by=nantong", "by=elsewhere")
        assert httpx.get(service.base_url + tampered).status_code == 403
        signer = UrlSigner.from_file(service.data_dir / "url-signing.key")
        expired = signer.sign(path.split("?")[0], "nantong", -10)
        assert httpx.get(service.base_url + expired).status_code == 403
        _upper_platforms_page_shows(service)
    finally:
        store.close()
        service.stop()
        receiver.stop()


def _upper_platforms_page_shows(service: RunningService) -> None:
    """The 上级平台 page, in Chromium: the platform, what it took, nothing waiting."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.rig.browser import artifacts_dir, chromium, log_in
    from tests.running_service import ADMIN_PASSWORD

    driver = chromium()
    try:
        log_in(driver, service.base_url + "/ui/#/uplink", "admin", ADMIN_PASSWORD)
        wait = WebDriverWait(driver, 15, poll_frequency=0.2)
        section = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".uplink-platform[data-platform=nantong]"))
        wait.until(lambda d: "已推送\n2" in section.text or "已推送 2" in section.text)
        assert "南通市民政养老服务平台" in section.text and "待推送\n0" in section.text.replace(" 0", "\n0")
        driver.save_screenshot(str(artifacts_dir() / "web-ui-uplink.png"))
    finally:
        driver.quit()

"""End to end: a real RTSP camera on an evacuation route gets blocked; the running service raises a
violation seen on the live event stream and in /api/violations, scoped to the user's organisation."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ORGANISATION
from tests.rig.media import clip_cache_dir
from tests.rig.rtsp import RtspServer
from tests.rig.scenes import FLOOR_ZONE, Scene, Thing, encode, people
from tests.running_service import ADMIN_PASSWORD, RunningService

pytestmark = pytest.mark.rtsp

# The route is clear for 7 s, then a box stays on it; the camera loops the clip after 60 s.
BLOCKED = Scene("route_blocked_at_7s", seconds=60, walkers=people(60, every=8), things=(Thing(7, 60),))


@pytest.fixture(scope="module")
def blocked_clip() -> Path:
    return encode(BLOCKED, clip_cache_dir() / "scenes" / "route-blocked-live.mp4", fps=10, gop_seconds=1)


def listen(service: RunningService, token: str, events: list[tuple[str, dict]], stop: threading.Event) -> None:
    with httpx.Client(base_url=service.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=None) as client:
        with client.stream("GET", "/api/violations/events") as response:
            assert response.status_code == 200
            kind = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    events.append((kind, json.loads(line[6:])))
                if stop.is_set():
                    return


def test_blocked_route_is_raised_live_and_scoped(blocked_clip: Path, service_factory) -> None:
    with RtspServer([{"path": "/exit", "clip": str(blocked_clip)}]) as rtsp:
        service: RunningService = service_factory(
            {
                "organisation": ORGANISATION,
                "cameras": [
                    {
                        "id": "hl-exit",
                        "name": "一楼疏散通道",
                        "institution": "hl-jly",
                        "role": "evacuation_route",
                        "source": {"url": rtsp.url("/exit")},
                        "detectors": [
                            {
                                "type": "blocked_route",
                                "zones": [{"name": "通道地面", "points": FLOOR_ZONE}],
                                "params": {"dwell_s": 5, "learn_s": 2},
                            }
                        ],
                    }
                ],
            }
        )
        created = service.vms(
            "user",
            "add",
            "ny-officer",
            "--org",
            "ny",
            "--role",
            "town_officer",
            "--password-stdin",
            "--config",
            str(service.config_path),
            stdin="ny-password-1\n",
        )
        assert created.returncode == 0, created.stderr
        token = httpx.post(
            f"{service.base_url}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ).json()["token"]
        events: list[tuple[str, dict]] = []
        stop = threading.Event()
        threading.Thread(target=listen, args=(service, token, events, stop), daemon=True).start()

        admin = service.client()
        deadline = time.monotonic() + 45

        def blocked() -> list[dict]:
            return [e for k, e in list(events) if k == "violation.started" and e["type"] == "blocked_route"]

        while time.monotonic() < deadline and not blocked():
            time.sleep(0.5)
        stop.set()
        detection = admin.get("/api/cameras/hl-exit/detection").json()
        assert blocked(), f"no blocked route within 45 s; events: {events}; detection: {detection}"
        live = blocked()[0]
        assert live["label"] == "消防通道占用"
        assert live["camera"] == {"id": "hl-exit", "name": "一楼疏散通道"} and live["town"]["id"] == "hl"
        assert live["zone"] == "通道地面" and live["state"] == "active"

        listed = admin.get("/api/violations", params={"town": "hl", "type": "blocked_route", "state": "active"}).json()
        assert [v["id"] for v in listed] == [live["id"]]
        clip = listed[0]["clip"]
        assert (
            clip["camera_id"] == "hl-exit" and clip["start"] < listed[0]["started_at"] and clip["status"] == "waiting"
        )
        snapshot = admin.get(listed[0]["snapshot_url"])
        assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
        assert admin.get("/api/violations", params={"town": "ny"}).json() == []
        assert admin.get("/api/violations", params={"until": "2001-01-01T00:00:00Z"}).json() == []
        assert admin.get("/api/violations", params={"type": "smoke"}).status_code == 422

        detection = admin.get("/api/cameras/hl-exit/detection").json()
        assert admin.get("/api/cameras/hl-exit").json()["detection"]["camera_id"] == "hl-exit"
        assert detection["key_frames_only"] and detection["frames_analysed"] >= 5
        assert "blocked_route:通道地面" in detection["active"] and not detection["behind"]

        # A town officer elsewhere sees none of it, not even by id.
        officer = service.client("ny-officer", "ny-password-1")
        assert officer.get("/api/violations").json() == []
        assert officer.get(f"/api/violations/{live['id']}").status_code == 404
        assert officer.get(f"/api/violations/{live['id']}/snapshot").status_code == 404
        assert httpx.get(f"{service.base_url}/api/violations").status_code == 401

        # The inspector's page lists it, with the snapshot, in Chinese.
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        from tests.rig.browser import artifacts_dir, chromium, log_in

        browser = chromium()
        try:
            log_in(browser, service.base_url + "/ui/#/violations", "admin", ADMIN_PASSWORD)
            wait = WebDriverWait(browser, 15, poll_frequency=0.2)
            row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-violation='{live['id']}']"))
            assert "消防通道占用" in row.text and "一楼疏散通道" in row.text and "进行中" in row.text
            wait.until(
                lambda d: d.execute_script(
                    "const i = arguments[0].querySelector('img'); return i && i.complete && i.naturalWidth > 0", row
                )
            )
            browser.save_screenshot(str(artifacts_dir() / "web-ui-violations.png"))
        finally:
            browser.quit()

        # Its worker process killed: the running violation ends, with the cause, as the camera is dialled again.
        worker = next(w for w in admin.get("/api/workers").json() if "hl-exit" in w["cameras"])
        os.kill(worker["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ended = admin.get(f"/api/violations/{live['id']}").json()
            if ended["state"] != "active":
                break
            time.sleep(0.2)
        cause = f"worker process {worker['index']} killed by signal 9 (SIGKILL)"
        assert ended["state"] == "ended" and ended["end_reason"] == cause, ended

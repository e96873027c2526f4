"""Cases (隐患) end to end through a running service: a camera whose video stops raises 视频丢失, which opens a
case assigned to the institution's safety manager; the next loss joins it; the safety manager rectifies with a
photo, the town officer rejects then verifies, and the evidence video is released. A dismissal shows beside the
detector's figures; a spot check's hazard becomes a case that goes overdue to the town; and the flow once more
in Chromium (assign, rectify with a photo, verify)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest

from tests.conftest import ORGANISATION
from tests.rig.rtsp import RtspServer
from tests.running_service import RunningService

pytestmark = pytest.mark.rtsp

PASSWORD = "cases-test-password"
USERS = {  # who, where, as what
    "hl-safety": ("hl-jly", "safety_manager"),
    "hl-safety2": ("hl-jly", "safety_manager"),
    "ny-safety": ("ny-jly", "safety_manager"),
    "hl-officer": ("hl", "town_officer"),
    "hl-viewer": ("hl-jly", "viewer"),
}


class Rig:
    def __init__(self, service: RunningService, rtsp: RtspServer) -> None:
        self.service = service
        self.rtsp = rtsp
        self.clients = {name: service.client(name, PASSWORD) for name in USERS}
        self.admin = service.client()

    def __getitem__(self, name: str) -> httpx.Client:
        return self.clients[name]

    def lose_video(self) -> None:
        """The gate camera's encoder stops until `video_back`: 视频丢失 starts about 3 s later."""
        self.rtsp.stall("/gate")

    def video_back(self) -> None:
        self.rtsp.resume("/gate")
        self.service.wait_for(self.admin, "gate", lambda c: not c["detection"]["active"], timeout=20)


def eventually(probe: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {timeout} s; last: {last}")


def jpeg(width: int = 160, height: int = 120) -> bytes:
    picture = np.full((height, width, 3), (40, 120, 200), np.uint8)
    cv2.putText(picture, "OK", (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    return cv2.imencode(".jpg", picture)[1].tobytes()


@pytest.fixture(scope="module")
def rig(clip_h264: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with RtspServer([{"path": "/gate", "clip": str(clip_h264)}]) as rtsp:
        config = {
            "organisation": ORGANISATION,
            # A stalled camera stays connected (no reconnect within the test), so its video comes back on resume.
            "ingest": {"watchdog_s": 60, "stall_after_s": 1},
            # 一般 (minor) cases are due in about 5 s, so the spot check's hazard goes overdue within the test.
            "cases": {"deadline_hours": {"minor": 0.0015}, "sweep_s": 0.5},
            "cameras": [
                {
                    "id": "gate",
                    "name": "汇龙镇敬老院大门",
                    "institution": "hl-jly",
                    "role": "gate",
                    "source": {"url": rtsp.url("/gate")},
                    "detectors": [
                        {
                            "type": "tamper",
                            "params": {"video_loss_s": 2, "dwell_s": 1, "clear_s": 1, "realarm_s": 0},
                        }
                    ],
                }
            ],
        }
        service = RunningService(tmp_path_factory.mktemp("cases"), config)
        service.start()
        try:
            for name, (unit, role) in USERS.items():
                made = service.vms(
                    "user", "add", name, "--org", unit, "--role", role, "--password-stdin",
                    "--config", str(service.config_path), stdin=PASSWORD + "\n",
                )  # fmt: skip
                assert made.returncode == 0, made.stderr
            rig = Rig(service, rtsp)
            service.wait_for(rig.admin, "gate", lambda c: (c["health"] or {}).get("state") == "online")
            yield rig
        finally:
            service.stop()


def _gate_cases(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/cases", params={"institution": "hl-jly", "kind": "video_loss", **params})
    assert answer.status_code == 200, answer.text
    return [c for c in answer.json() if c["camera"] and c["camera"]["id"] == "gate"]


def test_a_violation_opens_a_case_that_is_rectified_verified_and_lets_its_video_go(rig: Rig) -> None:
    safety, officer = rig["hl-safety"], rig["hl-officer"]
    rig.lose_video()
    case = eventually(lambda: _gate_cases(safety, state="open"), "a case for the lost video")[0]
    rig.video_back()
    assert case["kind"] == "video_loss" and case["label"] == "视频丢失" and case["severity"] == "major"
    assert case["assignee"]["username"] == "hl-safety" and case["source"] == "violation"
    assert case["town"]["id"] == "hl" and not case["overdue"]
    assert 71.9 * 3600 < case["deadline_at"] - case["opened_at"] <= 72 * 3600  # 重要: three days

    # The same loss again while the case is open joins it: one case, two violations.
    rig.lose_video()
    eventually(lambda: _gate_cases(safety)[0]["violations"] == 2, "the repeat joining the case")
    rig.video_back()
    assert len(_gate_cases(safety)) == 1

    # Scope: the safety manager of another institution sees nothing of it, not even by id.
    elsewhere = rig["ny-safety"]
    assert elsewhere.get(f"/api/cases/{case['id']}").status_code == 404
    assert elsewhere.post(f"/api/cases/{case['id']}/acknowledge").status_code == 404
    assert elsewhere.get("/api/cases").json() == []

    url = f"/api/cases/{case['id']}"
    # Each side does its own part: a safety manager does not verify, an officer does not rectify.
    assert safety.post(f"{url}/verify").status_code == 403
    assert officer.post(f"{url}/acknowledge").status_code == 403
    assert rig["hl-viewer"].post(f"{url}/comments", json={"text": "看到了"}).status_code == 403
    wrong = safety.post(f"{url}/rectified")
    assert wrong.status_code == 409 and "needs a case that is rectifying" in wrong.json()["detail"]
    assert safety.post(f"{url}/acknowledge").json()["state"] == "acknowledged"
    assert safety.post(f"{url}/acknowledge").status_code == 409
    assert safety.post(f"{url}/start-rectifying").json()["state"] == "rectifying"
    no_photo = safety.post(f"{url}/rectified")
    assert no_photo.status_code == 409 and "upload a photo" in no_photo.json()["detail"]

    # Uploads: the type is read from the bytes, the size is capped, a damaged picture is refused.
    upload = f"{url}/evidence"
    text = safety.post(upload, files={"photo": ("fixed.jpg", b"not a picture at all", "image/jpeg")})
    assert text.status_code == 415 and "JPEG or PNG" in text.json()["detail"]
    broken = safety.post(upload, files={"photo": ("fixed.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")})
    assert broken.status_code == 422
    big = safety.post(upload, files={"photo": ("big.jpg", b"\xff\xd8\xff" + b"\0" * (9 * 1024 * 1024), "image/jpeg")})
    assert big.status_code == 413
    assert safety.post(upload, data={"note": "no file"}).status_code == 422
    photo = jpeg()
    saved = safety.post(
        upload, files={"photo": ("门岗整改.jpg", photo, "application/octet-stream")}, data={"note": "已修复"}
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["content_type"] == "image/jpeg" and saved.json()["note"] == "已修复"
    fetched = officer.get(saved.json()["url"])
    assert fetched.content == photo and fetched.headers["content-type"] == "image/jpeg"
    assert (
        safety.post(f"{url}/comments", json={"text": "<b>摄像机电源已更换</b>'; DROP TABLE cases;--"}).status_code
        == 201
    )
    assert safety.post(f"{url}/rectified", json={"note": "已更换电源"}).json()["state"] == "rectified"

    # The officer rejects once (a new photo is needed), then verifies.
    assert officer.post(f"{url}/reject", json={"reason": " "}).status_code == 422
    assert officer.post(f"{url}/reject", json={"reason": "画面仍有中断"}).json()["state"] == "rectifying"
    assert safety.post(f"{url}/rectified").status_code == 409
    # A phone's photo is larger than the API's usual 1 MiB body: this route takes it.
    noise = np.random.default_rng(1).integers(0, 256, (1200, 1600, 3), np.uint8)
    large = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    assert 1024 * 1024 < len(large) < 8 * 1024 * 1024
    safety.post(upload, files={"photo": ("again.jpg", large, "image/jpeg")}).raise_for_status()
    assert safety.post(f"{url}/rectified").status_code == 200
    closed = officer.post(f"{url}/verify").json()
    assert closed["state"] == "verified" and closed["closed_at"] is not None
    assert officer.post(f"{url}/verify").status_code == 409
    assert safety.post(upload, files={"photo": ("late.jpg", photo, "image/jpeg")}).status_code == 409

    # Closed: its violations' video is no longer held (kept the configured while, then deleted).
    assert [v["video_hold"] for v in closed["linked_violations"]] == ["released", "released"]
    assert all(v["video_kept_until"] > time.time() for v in closed["linked_violations"])
    assert [(h["username"], h["action"]) for h in closed["history"] if h["to_state"]] == [
        (None, "opened"),
        ("hl-safety", "acknowledge"),
        ("hl-safety", "start_rectifying"),
        ("hl-safety", "rectified"),
        ("hl-officer", "reject"),
        ("hl-safety", "rectified"),
        ("hl-officer", "verify"),
    ]
    assert "violation_joined" in [h["action"] for h in closed["history"]]
    assert closed["comments"][0]["text"] == "<b>摄像机电源已更换</b>'; DROP TABLE cases;--"
    assert [e["origin"] for e in closed["evidence"]] == ["upload", "upload"]
    assert rig.admin.get("/api/cases", params={"state": "verified"}).json()[0]["id"] == case["id"]
    audited = rig.admin.get("/api/audit", params={"action": "case", "target": f"case:{case['id']}"}).json()["entries"]
    assert {(row["username"], row["action"]) for row in audited} >= {
        ("hl-safety", "case.acknowledge"),
        ("hl-safety", "case.evidence"),
        ("hl-safety", "case.comment"),
        ("hl-officer", "case.reject"),
        ("hl-officer", "case.verify"),
    }


def test_a_dismissed_false_alarm_is_counted_beside_the_detector(rig: Rig) -> None:
    officer = rig["hl-officer"]
    rig.lose_video()
    case = eventually(lambda: _gate_cases(officer, state="open"), "a new case (the last one is closed)")[0]
    rig.video_back()
    url = f"/api/cases/{case['id']}"
    assert officer.post(f"{url}/dismiss", json={}).status_code == 422  # a reason is required
    dismissed = officer.post(f"{url}/dismiss", json={"reason": "摄像机例行检修断电"}).json()
    assert dismissed["state"] == "dismissed" and dismissed["dismiss_reason"] == "摄像机例行检修断电"
    assert officer.post(f"{url}/dismiss", json={"reason": "again"}).status_code == 409
    assert officer.post(f"{url}/assign", json={"username": "hl-safety"}).status_code == 409
    detection = officer.get("/api/cameras/gate/detection").json()
    assert detection["dismissed_false_alarms"] == {"video_loss": 1}
    tamper = officer.get("/api/cameras/gate").json()["detectors"][0]
    assert tamper["type"] == "tamper" and tamper["dismissed_false_alarms"] == 1


def test_a_spot_check_hazard_becomes_a_case_and_goes_overdue_to_the_town(rig: Rig) -> None:
    officer, safety = rig["hl-officer"], rig["hl-safety"]
    check = officer.post("/api/spot-checks", json={"institution_id": "hl-jly"}).json()
    evidence = officer.post(f"/api/spot-checks/{check['id']}/evidence", json={"camera_id": "gate"}).json()
    hazard = {
        "camera_id": "gate",
        "kind": "gas_alarm_missing",
        "severity": "minor",
        "description": "厨房燃气报警器未通电",
        "evidence_ids": [evidence["id"]],
    }
    opening = f"/api/spot-checks/{check['id']}/cases"
    assert safety.post(opening, json=hazard).status_code == 403
    assert officer.post(opening, json={**hazard, "kind": "smoke"}).status_code == 422
    assert officer.post(opening, json={**hazard, "evidence_ids": [999999]}).status_code == 422
    assert rig["ny-safety"].post(opening, json=hazard).status_code == 403  # its role first, then scope
    opened = officer.post(opening, json=hazard)
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["label"] == "燃气报警器缺失或故障" and case["source"] == "spot_check"
    assert case["assignee"]["username"] == "hl-safety" and case["opened_by"] == "hl-officer"
    picture = safety.get(case["evidence"][0]["url"])
    assert case["evidence"][0]["origin"] == "spot_check" and picture.content[:2] == b"\xff\xd8"

    # 一般 is due in about 5 s here: then it is flagged overdue and escalated to 汇龙镇.
    overdue = eventually(
        lambda: [
            c
            for c in officer.get("/api/cases", params={"overdue": "true"}).json()
            if c["id"] == case["id"] and c["escalated_at"]
        ],
        "the case going overdue and escalated",
    )[0]
    assert overdue["overdue"] and overdue["escalated_to"] == {"id": "hl", "name": "汇龙镇"}
    history = officer.get(case["url"]).json()["history"]
    assert history[-1]["action"] == "overdue" and history[-1]["detail"] == "escalated to hl"
    assert case["id"] not in [c["id"] for c in officer.get("/api/cases", params={"overdue": "false"}).json()]
    assert officer.get("/api/cases", params={"state": "closed"}).status_code == 422


def test_assign_rectify_with_a_photo_and_verify_in_chromium(rig: Rig, tmp_path: Path) -> None:
    from selenium.common.exceptions import ElementNotInteractableException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.rig.browser import artifacts_dir, chromium, log_in

    officer = rig["hl-officer"]
    check = officer.post("/api/spot-checks", json={"institution_id": "hl-jly"}).json()
    markup = "<img src=x onerror=document.title='owned'>"  # a remark is text: shown as typed, never run
    hazard = {"kind": "evacuation_route_blocked", "severity": "major", "description": f"二楼疏散通道堆放杂物{markup}"}
    case = officer.post(f"/api/spot-checks/{check['id']}/cases", json=hazard).json()
    row = f"tr[data-case='{case['id']}']"
    photo = tmp_path / "整改后.jpg"
    photo.write_bytes(jpeg(320, 240))

    def find(driver: WebDriver, css: str) -> Any:
        return WebDriverWait(driver, 15, poll_frequency=0.1).until(lambda d: d.find_element(By.CSS_SELECTOR, css))

    def click(driver: WebDriver, css: str) -> None:
        """The case view is drawn anew after each change: click what is there now."""

        def clicked(d: WebDriver) -> bool:
            try:
                d.find_element(By.CSS_SELECTOR, css).click()
                return True
            except (StaleElementReferenceException, ElementNotInteractableException):
                return False  # drawn anew, or still the last user's page behind the log-in form

        WebDriverWait(driver, 15, poll_frequency=0.1).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, css) and clicked(d)
        )

    def shows(driver: WebDriver, state: str) -> None:
        find(driver, f"#case-detail h2 .case-state[data-state='{state}']")

    def says(driver: WebDriver, css: str, text: str) -> None:
        """The case list is drawn anew after each change too: read what is there now until it says `text`."""

        def read(d: WebDriver) -> bool:
            try:
                return text in d.find_element(By.CSS_SELECTOR, css).text
            except StaleElementReferenceException:
                return False

        WebDriverWait(driver, 15, poll_frequency=0.1).until(read)

    def log_out(driver: WebDriver) -> None:
        """Only once the form is back has the server ended the session (a reload sooner would still be in)."""
        click(driver, "#logout")
        WebDriverWait(driver, 15, poll_frequency=0.1).until(
            lambda d: d.find_element(By.ID, "login-form").is_displayed()
        )

    def as_user(driver: WebDriver, username: str) -> None:
        log_in(driver, rig.service.base_url + "/ui/#/cases", username, PASSWORD)
        click(driver, row)
        find(driver, "#case-detail h2")

    browser = chromium()
    try:
        as_user(browser, "hl-officer")
        assert f"二楼疏散通道堆放杂物{markup}" in find(browser, "#case-detail").text
        assert not browser.find_elements(By.CSS_SELECTOR, "#case-detail img[src='x']") and browser.title != "owned"
        Select(find(browser, "#case-assignee")).select_by_value("hl-safety2")
        click(browser, "button[data-action='assign']")
        eventually(lambda: officer.get(case["url"]).json()["assignee"]["username"] == "hl-safety2", "the assignment")
        log_out(browser)

        as_user(browser, "hl-safety2")
        assert not browser.find_elements(By.CSS_SELECTOR, "button[data-action='verify']")
        click(browser, "button[data-action='acknowledge']")
        click(browser, "button[data-action='start-rectifying']")
        shows(browser, "rectifying")
        find(browser, "#case-photo").send_keys(str(photo))
        find(browser, "#case-photo-note").send_keys("杂物已清走")
        click(browser, "button[data-action='upload']")
        find(browser, "#case-detail img[data-evidence]")
        click(browser, "button[data-action='rectified']")
        shows(browser, "rectified")
        log_out(browser)

        as_user(browser, "hl-officer")
        click(browser, "button[data-action='verify']")
        shows(browser, "verified")
        says(browser, row, "已验收")
        browser.save_screenshot(str(artifacts_dir() / "web-ui-case.png"))
    finally:
        browser.quit()
    done = officer.get(case["url"]).json()
    assert done["state"] == "verified" and done["evidence"][0]["note"] == "杂物已清走"
    assert officer.get(done["evidence"][0]["url"]).content == photo.read_bytes()
    assert [h["username"] for h in done["history"] if h["to_state"]] == [
        "hl-officer", "hl-safety2", "hl-safety2", "hl-safety2", "hl-officer",
    ]  # fmt: skip

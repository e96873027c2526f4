"""The audit log as an auditor meets it, against a running service: every watch is recorded with its user, camera,
time range and address (a live view's end too), configuration reloads are recorded, the log is read, filtered and
exported as CSV Excel opens, and a row changed behind the service's back is named by the chain's verification."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import ORGANISATION
from tests.rig.browser import chromium, log_in
from tests.running_service import RunningService


def _config(clip: Path, name: str = "大门") -> dict[str, Any]:
    return {
        "organisation": ORGANISATION,
        "cameras": [
            {"id": "gate", "name": name, "institution": "hl-jly", "role": "gate", "source": {"url": str(clip)}},
            {"id": "ny-gate", "name": "南阳", "institution": "ny-jly", "role": "gate", "source": {"url": str(clip)}},
        ],
    }


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, clip_h264: Path) -> Iterator[RunningService]:
    running = RunningService(tmp_path_factory.mktemp("audit"), _config(clip_h264))
    running.start()
    try:
        for username, org, role in (("shen", "qd", "auditor"), ("wang", "hl", "viewer")):
            added = running.vms(
                "user", "add", username, "--org", org, "--role", role, "--password-stdin",
                "--config", str(running.config_path), stdin=f"{username}-password-1\n",
            )  # fmt: skip
            assert added.returncode == 0, added.stderr
        running.wait_for(running.client(), "gate", lambda c: (c["health"] or {}).get("state") == "online")
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def auditor(service: RunningService) -> Iterator[httpx.Client]:
    with service.client("shen", "shen-password-1") as client:
        yield client


def _rows(auditor: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    answer = auditor.get("/api/audit", params={"limit": 1000, **filters})
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def _until(auditor: httpx.Client, predicate: Any, timeout: float = 10.0, **filters: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _rows(auditor, **filters)
        if predicate(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_watching_live_and_recorded_video_is_audited_with_range_end_and_address(
    service: RunningService, auditor: httpx.Client
) -> None:
    admin = service.client()
    with admin.stream("GET", "/api/cameras/gate/live.mjpg") as live:
        assert live.status_code == 200
        next(live.iter_bytes())  # a picture arrived: the view is on
        opened = time.time()
    views = _until(auditor, lambda rows: any(r["action"] == "live_view.end" for r in rows), action="live_view")
    ended = next(r for r in views if r["action"] == "live_view.end")
    started = next(r for r in views if r["action"] == "live_view")
    assert (ended["username"], ended["target"], ended["detail"], ended["client"]) == (
        "admin",
        "gate",
        "mjpeg",
        "127.0.0.1",
    )
    assert ended["start"] == started["start"] and ended["start"] <= opened <= ended["end"] + 1
    assert ended["label"]["zh-CN"] == "实时查看结束"

    # Recorded video: the requested range, as asked, not as found (polled: the recorder indexes as it goes).
    start = opened - 60
    deadline = time.monotonic() + 20
    while True:
        end = time.time() - 0.5
        created = admin.post("/api/cameras/gate/exports", json={"start": start, "end": end})
        if created.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert created.status_code == 202, created.text
    export = _rows(auditor, action="export.create")[0]
    assert (export["target"], export["start"], export["end"]) == ("gate", pytest.approx(start), pytest.approx(end))
    assert admin.get("/api/cameras/gate/recordings/seek", params={"at": start}).status_code == 200
    playback = _rows(auditor, action="recordings.playback")[0]
    assert playback["start"] is not None and playback["client"] == "127.0.0.1"
    assert admin.get("/api/cameras/gate/snapshot.jpg").status_code == 200
    assert _rows(auditor, action="snapshot", target="gate")[0]["username"] == "admin"


def test_a_configuration_reload_is_audited(service: RunningService, auditor: httpx.Client, clip_h264: Path) -> None:
    service.write_config(_config(clip_h264, name="正门"))
    service.reload()
    rows = _until(auditor, lambda rows: bool(rows), action="config.reload")
    assert rows and rows[0]["detail"].startswith("applied: updated gate (via SIGHUP; file sha256 ")
    assert rows[0]["username"] is None


def test_a_reload_asked_over_the_api_answers_its_outcome_and_is_audited(
    service: RunningService, auditor: httpx.Client, clip_h264: Path
) -> None:
    broken = _config(clip_h264, name="大门")
    broken["cameras"][0]["role"] = "roof"
    service.write_config(broken)
    with service.client() as admin:
        refused = admin.post("/api/config/reload")
        assert refused.status_code == 409 and refused.json()["detail"] == [
            "cameras[0].role: Input should be 'gate', 'duty_room', 'evacuation_route', 'kitchen' or 'other'"
        ]
        assert admin.get("/api/cameras/gate").json()["name"] == "正门"  # the running configuration is kept
        service.write_config(_config(clip_h264, name="大门"))
        applied = admin.post("/api/config/reload")
        assert applied.status_code == 200 and applied.json()["updated"] == ["gate"]
        assert admin.get("/api/cameras/gate").json()["name"] == "大门"
    with service.client("wang", "wang-password-1") as viewer:
        assert viewer.post("/api/config/reload").status_code == 403
    rows = _rows(auditor, action="config.reload", user="admin")
    assert [r["detail"].split(" ")[0].rstrip(":,") for r in rows[:2]] == ["applied", "refused"]
    assert all("via API" in r["detail"] for r in rows[:2])


def test_the_auditor_filters_pages_and_exports_csv(service: RunningService, auditor: httpx.Client) -> None:
    # A user name is whatever was typed at the log-in form: in a spreadsheet it must stay text.
    assert httpx.post(f"{service.base_url}/api/auth/login", json={"username": "=1+1", "password": "x"}).is_error
    first = auditor.get("/api/audit", params={"limit": 2}).json()
    older = auditor.get("/api/audit", params={"limit": 2, "before_id": first["next_before_id"]}).json()
    assert [e["id"] for e in older["entries"]] == [first["entries"][-1]["id"] - 1, first["entries"][-1]["id"] - 2]
    answer = auditor.get("/api/audit/export.csv", params={"since": time.time() - 3600})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0][:2] == ["序号 id", "时间 time"]
    by_action = {row[5]: row for row in table[1:]}
    assert by_action["live_view.end"][4] == "实时查看结束"
    assert by_action["login_failed"][3] == "'=1+1"
    # Reading and exporting are themselves audited.
    assert {"audit.read", "audit.export"} <= {r["action"] for r in _rows(auditor, user="shen")}
    gate_only = _rows(auditor, target="gate")
    assert gate_only and {r["target"] for r in gate_only} == {"gate"}


def test_only_auditors_read_the_log_and_bad_filters_are_refused(service: RunningService, auditor: httpx.Client) -> None:
    viewer = service.client("wang", "wang-password-1")
    for path in ("/api/audit", "/api/audit/export.csv", "/api/audit/verify", "/api/audit/actions"):
        assert viewer.get(path).status_code == 403
        assert httpx.get(service.base_url + path).status_code == 401
    assert auditor.get("/api/audit", params={"since": 2000, "until": 1000}).status_code == 422
    assert auditor.get("/api/audit", params={"since": "2026-11-28T08:00:00"}).status_code == 400
    assert auditor.get("/api/audit", params={"limit": 0}).status_code == 422
    assert auditor.get("/api/audit", params={"action": "x" * 65}).status_code == 422
    actions = {a["action"]: a["label"]["zh-CN"] for a in auditor.get("/api/audit/actions").json()}
    assert actions["config.reload"] == "配置变更"


SHOWN_ACTIONS = "return [...document.querySelectorAll('#audit-table tbody tr')].map((row) => row.dataset.action)"


def test_the_audit_page_in_a_real_browser(service: RunningService, auditor: httpx.Client) -> None:
    """An auditor finds 审计日志 in the menu, sees the chain's state, filters by action and gets the CSV link."""
    driver = chromium()
    try:
        log_in(driver, f"{service.base_url}/ui/#/audit", "shen", "shen-password-1")
        wait = WebDriverWait(driver, 15, poll_frequency=0.1)
        wait.until(lambda d: "哈希链完整" in d.find_element(By.ID, "audit-chain").text)
        assert driver.find_element(By.CSS_SELECTOR, "[data-route=audit]").text == "审计日志"
        # An auditor watches nothing: no live view in the menu.
        assert not driver.find_element(By.CSS_SELECTOR, "[data-route=live]").is_displayed()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr"))
        Select(driver.find_element(By.ID, "audit-action")).select_by_value("live_view")
        driver.find_element(By.ID, "audit-search").click()
        wait.until(lambda d: set(d.execute_script(SHOWN_ACTIONS)) == {"live_view", "live_view.end"})
        row = driver.find_element(By.CSS_SELECTOR, "#audit-table tbody tr[data-action='live_view.end']")
        assert "实时查看结束" in row.text and "127.0.0.1" in row.text
        assert "action=live_view" in (driver.find_element(By.ID, "audit-csv").get_attribute("href") or "")
    finally:
        driver.quit()


def test_a_row_changed_behind_the_service_is_named(service: RunningService, auditor: httpx.Client) -> None:
    assert auditor.get("/api/audit/verify").json()["ok"] is True
    victim = _rows(auditor, action="snapshot")[0]
    with sqlite3.connect(service.data_dir / "vms.db", isolation_level=None) as db:
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE audit_log SET username = 'nobody' WHERE id = ?", (victim["id"],))
        trigger = db.execute("SELECT sql FROM sqlite_master WHERE name = 'audit_log_no_update'").fetchone()[0]
        db.execute("DROP TRIGGER audit_log_no_update")
        db.execute("UPDATE audit_log SET username = 'nobody' WHERE id = ?", (victim["id"],))
        try:
            report = auditor.get("/api/audit/verify").json()
            assert (report["ok"], report["first_broken_id"], report["head_id"]) == (
                False,
                victim["id"],
                victim["id"] - 1,
            )
        finally:
            db.execute("UPDATE audit_log SET username = ? WHERE id = ?", (victim["username"], victim["id"]))
            db.execute(trigger)
    assert auditor.get("/api/audit/verify").json()["ok"] is True
    assert _rows(auditor, action="audit.verify")[0]["detail"] == "intact"

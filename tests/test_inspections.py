"""Inspections (定期巡查) over real HTTP: what is due, a remote inspection through a spot check that opens a case
for a failed item, an on-site inspection with photos, and the refusals (scope, role, a finished record)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import ORGANISATION
from tests.running_service import RunningService

PASSWORD = "inspection-password"
ACCOUNTS = {
    "hl-officer": ("hl", "town_officer"),
    "ny-officer": ("ny", "town_officer"),
    "inspector": ("qd", "city_inspector"),
    "manager": ("hl-jly", "safety_manager"),
}
EVERY_ITEM = (
    "gate",
    "duty_room",
    "evacuation_routes",
    "kitchen_cameras",
    "gas_alarm",
    "electrical_fire_alarm",
    "sprinklers",
    "fire_team",
)


@pytest.fixture(scope="module")
def inspections_service(tmp_path_factory: pytest.TempPathFactory, clip_h264: Path) -> Iterator[RunningService]:
    config = {
        "organisation": ORGANISATION,
        "cameras": [
            {"id": "gate", "name": "大门", "institution": "hl-jly", "role": "gate", "source": {"url": str(clip_h264)}},
        ],
    }
    service = RunningService(tmp_path_factory.mktemp("inspections"), config)
    service.start()
    try:
        with service.client() as admin:
            for username, (unit, role) in ACCOUNTS.items():
                made = admin.post(
                    "/api/users", json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": role}
                )
                assert made.status_code == 201, made.text
            service.wait_for(admin, "gate", lambda c: (c["health"] or {}).get("state") == "online")
        yield service
    finally:
        service.stop()


def _photo() -> bytes:
    picture = np.full((480, 640, 3), (40, 120, 200), np.uint8)
    cv2.putText(picture, "fire exit", (100, 240), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    ok, jpeg = cv2.imencode(".jpg", picture)
    assert ok
    return jpeg.tobytes()


def test_a_remote_inspection_through_a_spot_check_opens_a_case_for_a_failed_item(
    inspections_service: RunningService,
) -> None:
    officer = inspections_service.client("hl-officer", PASSWORD)
    due = officer.get("/api/inspections/due").json()
    this_month = next(d for d in due if d["unit_id"] == "hl-jly")
    assert this_month["state"] == "due" and this_month["inspection_id"] is None
    assert {d["unit_id"] for d in due} == {"hl-jly", "hl"}  # its institution; its own town's (the bureau's to do)
    refused = officer.post("/api/inspections", json={"unit_id": "hl-jly", "mode": "remote"})
    assert refused.status_code == 422 and "spot check" in refused.json()["detail"]
    assert officer.post("/api/inspections", json={"unit_id": "hl", "mode": "on_site"}).status_code == 409

    check = officer.post("/api/spot-checks", json={"institution_id": "hl-jly"}).json()
    evidence = officer.post(f"/api/spot-checks/{check['id']}/evidence", json={"camera_id": "gate"})
    assert evidence.status_code == 201, evidence.text
    started = officer.post(
        "/api/inspections", json={"unit_id": "hl-jly", "mode": "remote", "spot_check_id": check["id"]}
    )
    assert started.status_code == 201, started.text
    inspection = started.json()
    assert inspection["period"] == this_month["period"] and inspection["level"] == "institution"
    url = f"/api/inspections/{inspection['id']}"

    failed = officer.put(
        f"{url}/items/evacuation_routes",
        json={"result": "fail", "note": "二楼东侧通道堆放杂物", "open_case": True, "severity": "urgent"},
    )
    assert failed.status_code == 200, failed.text
    case_id = next(i for i in failed.json()["items"] if i["item"] == "evacuation_routes")["case_id"]
    case = officer.get(f"/api/cases/{case_id}").json()
    assert case["source"] == "inspection" and case["source_id"] == str(inspection["id"])
    assert case["kind"] == "evacuation_route_blocked" and case["label"] == "疏散通道堵塞"
    assert case["severity"] == "urgent" and case["institution"]["id"] == "hl-jly"
    assert "二楼东侧通道堆放杂物" in case["description"] and case["assignee"]["username"] == "manager"
    assert officer.put(f"{url}/items/no_such_item", json={"result": "pass"}).status_code == 404
    passing_case = officer.put(f"{url}/items/gate", json={"result": "pass", "open_case": True})
    assert passing_case.status_code == 422

    early = officer.post(f"{url}/finish", json={"summary": "总体良好"})
    assert early.status_code == 409 and "gate" in early.json()["detail"]
    for item in EVERY_ITEM:
        if item != "evacuation_routes":
            assert officer.put(f"{url}/items/{item}", json={"result": "pass"}).status_code == 200
    finished = officer.post(f"{url}/finish", json={"summary": "通道堆物已立案整改"})
    assert finished.status_code == 200 and finished.json()["finished_at"] is not None
    assert officer.put(f"{url}/items/gate", json={"result": "fail"}).status_code == 409  # a record now
    now_due = officer.get("/api/inspections/due").json()
    assert next(d for d in now_due if d["unit_id"] == "hl-jly")["state"] == "done"

    with inspections_service.client("manager", PASSWORD) as manager:
        assert manager.get(url).json()["summary"] == "通道堆物已立案整改"  # the institution reads its record
        assert manager.post("/api/inspections", json={"unit_id": "hl-jly", "mode": "on_site"}).status_code == 403
    with inspections_service.client("ny-officer", PASSWORD) as stranger:
        assert stranger.get(url).status_code == 404
        assert stranger.post("/api/inspections", json={"unit_id": "hl-jly", "mode": "on_site"}).status_code == 404
    officer.close()


def test_an_on_site_inspection_of_a_town_keeps_its_photos(inspections_service: RunningService) -> None:
    with inspections_service.client("inspector", PASSWORD) as inspector:
        inspection = inspector.post("/api/inspections", json={"unit_id": "hl", "mode": "on_site"}).json()
        assert inspection["level"] == "town" and inspection["period"].split("-")[1].startswith("Q")
        url = f"/api/inspections/{inspection['id']}"
        photo = _photo()
        kept = inspector.post(
            f"{url}/photos", files={"photo": ("exit.jpg", photo, "image/jpeg")}, data={"item": "sprinklers"}
        )
        assert kept.status_code == 201, kept.text
        assert inspector.get(kept.json()["url"]).content == photo
        fake = inspector.post(f"{url}/photos", files={"photo": ("x.jpg", b"<html>not a photo</html>", "image/jpeg")})
        assert fake.status_code == 415
        cut = inspector.post(f"{url}/photos", files={"photo": ("x.jpg", photo[:600], "image/jpeg")})
        assert cut.status_code == 422
        assert [p["item"] for p in inspector.get(url).json()["photos"]] == ["sprinklers"]
        failed_town = inspector.put(f"{url}/items/fire_team", json={"result": "fail", "open_case": True})
        assert failed_town.status_code == 422  # a case belongs to an institution
        listed = inspector.get("/api/inspections", params={"unit": "hl"}).json()
        assert inspection["id"] in {i["id"] for i in listed}
    with inspections_service.client("hl-officer", PASSWORD) as officer:
        # The town reads the bureau's inspection of it, and cannot write on it.
        assert officer.get(url).status_code == 200
        assert officer.put(f"{url}/items/gate", json={"result": "pass"}).status_code == 403


def test_an_on_site_inspection_answered_and_finished_in_a_real_browser(inspections_service: RunningService) -> None:
    """A town's officer starts an on-site inspection of its institution from the due list, answers the
    checklist item by item and finishes it; the due list then shows it done."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.rig.browser import chromium, log_in

    driver = chromium()

    def wait(condition):  # type: ignore[no-untyped-def]
        # The page redraws after every answer: an element found a moment ago may be gone.
        ignored = (StaleElementReferenceException,)
        return WebDriverWait(driver, 15, poll_frequency=0.2, ignored_exceptions=ignored).until(condition)

    def due_state(d):  # type: ignore[no-untyped-def]
        return d.find_element(By.CSS_SELECTOR, "#inspections-due tr[data-unit=ny-jly]").get_attribute("data-state")

    try:
        log_in(driver, inspections_service.base_url + "/ui/#/inspections", "ny-officer", PASSWORD)
        assert wait(due_state) == "due"
        driver.find_element(By.CSS_SELECTOR, "#inspections-due tr[data-unit=ny-jly] .start-on-site").click()
        for item in EVERY_ITEM:
            wait(lambda d, i=item: d.find_element(By.CSS_SELECTOR, f"tr[data-item={i}] .result-pass")).click()
            wait(lambda d, i=item: d.find_element(By.CSS_SELECTOR, f"tr[data-item={i}]").get_attribute("data-result")
                 == "pass")  # fmt: skip
        driver.find_element(By.CSS_SELECTOR, "#inspection-form textarea").send_keys("全部合格")
        driver.find_element(By.CSS_SELECTOR, "#inspection-form button.finish").click()
        wait(lambda d: "全部合格" in d.find_element(By.ID, "inspection-form").text)
        assert wait(lambda d: due_state(d) == "done")
        with inspections_service.client("ny-officer", PASSWORD) as officer:
            record = officer.get("/api/inspections", params={"unit": "ny-jly"}).json()[0]
        assert record["finished_at"] is not None and {i["result"] for i in record["items"]} == {"pass"}
        assert record["mode"] == "on_site" and record["summary"] == "全部合格"
    finally:
        driver.quit()

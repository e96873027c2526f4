"""Public hazard reports (隐患举报) through a running service: sent without a log-in from the notice-board page
(real Chromium, with a photo), bounded uploads and the per-address limit, the town's triage into a case or a
rejection, the reward once the case is verified, and what a receipt code shows (never the reporter's contact).

Each test sends from its own loopback address (127.0.0.x), so the per-address limit of one does not meet another:
the limit is per client address, as the service sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import ORGANISATION
from tests.rig.browser import artifacts_dir, chromium, log_in
from tests.running_service import RunningService

PASSWORD = "report-test-password"
CONTACT = "13912345678"
RECEIPT = re.compile(r"^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$")
USERS = {
    "hl-officer": ("hl", "town_officer"),
    "ny-officer": ("ny", "town_officer"),
    "hl-manager": ("hl-jly", "safety_manager"),
}


def _photo(ext: str = ".jpg", width: int = 640, height: int = 480) -> bytes:
    picture = np.full((height, width, 3), 200, np.uint8)
    cv2.rectangle(picture, (100, 200), (400, 460), (30, 60, 160), -1)  # a box in the corridor
    ok, data = cv2.imencode(ext, picture)
    assert ok
    return bytes(data.tobytes())


@pytest.fixture(scope="module")
def reports_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    workdir = tmp_path_factory.mktemp("reports")
    service = RunningService(workdir, {"organisation": ORGANISATION})
    service.start()
    try:
        with service.client() as admin:
            for username, (unit, role) in USERS.items():
                created = admin.post(
                    "/api/users", json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": role}
                )
                assert created.status_code == 201, created.text
        yield service
    finally:
        service.stop()


def _public(service: RunningService, address: str) -> httpx.Client:
    """A client without a log-in, sending from `address` (any 127.0.0.x reaches the service on loopback)."""
    return httpx.Client(base_url=service.base_url, timeout=10, transport=httpx.HTTPTransport(local_address=address))


def _send(
    client: httpx.Client, institution: str = "hl-jly", photos: Sequence[tuple[str, bytes, str]] = (), **fields: Any
) -> httpx.Response:
    data = {"description": "二楼走廊堆放纸箱，堵住了安全出口", "place": "二楼东侧", "contact": CONTACT, **fields}
    files = [("photos", photo) for photo in photos]
    return client.post(f"/api/public/institutions/{institution}/reports", data=data, files=files or None)


def _user(service: RunningService, username: str) -> httpx.Client:
    return service.client(username, PASSWORD)


def _report_of(officer: httpx.Client, description: str) -> dict[str, Any]:
    found = [r for r in officer.get("/api/reports").json() if r["description"] == description]
    assert len(found) == 1, found
    return found[0]


def test_a_report_without_log_in_gets_a_receipt_and_the_receipt_never_shows_the_contact(
    reports_service: RunningService,
) -> None:
    jpeg, png = _photo(), _photo(".png", 320, 240)
    with _public(reports_service, "127.0.0.2") as public:
        header = public.get("/api/public/institutions/hl-jly")
        assert header.status_code == 200 and header.json() == {"id": "hl-jly", "name": "汇龙镇敬老院"}
        assert public.get("/api/public/institutions/hl").status_code == 404  # a town is not a place to report on
        assert public.get("/api/public/institutions/nowhere").status_code == 404
        assert _send(public, "nowhere").status_code == 404

        sent = _send(
            public,
            photos=[("corridor.jpg", jpeg, "image/jpeg"), ("exit.png", png, "image/png")],
            description="消防通道被杂物堵塞 <script>alert(1)</script>",
        )
        assert sent.status_code == 201, sent.text
        receipt = sent.json()["receipt"]
        assert RECEIPT.match(receipt)

        status = public.get(f"/api/public/reports/{receipt}")
        assert status.status_code == 200
        assert status.json()["state"] == "received" and status.json()["institution"]["name"] == "汇龙镇敬老院"
        assert CONTACT not in status.text and "消防通道" not in status.text  # the state, not the report
        # Typed as people type it: lower case, without the hyphen.
        assert public.get(f"/api/public/reports/{receipt.replace('-', '').lower()}").json() == status.json()
        assert public.get("/api/public/reports/ABCDE-FGHJK").status_code == 404
        assert public.get("/api/public/reports/not-a-code!").status_code == 422
        # The town's side needs a log-in.
        assert public.get("/api/reports").status_code == 401

    with _user(reports_service, "hl-officer") as officer, _user(reports_service, "hl-manager") as manager:
        report = _report_of(officer, "消防通道被杂物堵塞 <script>alert(1)</script>")
        assert report["contact"] == CONTACT and report["place"] == "二楼东侧" and report["state"] == "received"
        assert [p["content_type"] for p in report["photos"]] == ["image/jpeg", "image/png"]
        assert officer.get(report["photos"][0]["url"]).content == jpeg
        # The institution reads what was reported about it, not who reported it.
        seen = manager.get(report["url"])
        assert seen.status_code == 200 and seen.json()["contact"] is None and CONTACT not in seen.text
    with _user(reports_service, "ny-officer") as elsewhere:
        assert elsewhere.get(report["url"]).status_code == 404
        assert elsewhere.get(report["photos"][0]["url"]).status_code == 404
        assert all(r["id"] != report["id"] for r in elsewhere.get("/api/reports").json())
        assert elsewhere.post(f"{report['url']}/accept", json={"severity": "major"}).status_code == 404


def test_bad_uploads_are_refused_and_store_nothing_and_the_sixth_report_in_an_hour_is_429(
    reports_service: RunningService,
) -> None:
    with _user(reports_service, "hl-officer") as officer:
        before = len(officer.get("/api/reports").json())
    jpeg = _photo()
    with _public(reports_service, "127.0.0.3") as public:
        refused = {
            "oversize": _send(public, photos=[("big.jpg", jpeg + b"\x00" * (5 * 1024 * 1024), "image/jpeg")]),
            "gif": _send(public, photos=[("a.gif", b"GIF89a" + b"\x00" * 64, "image/gif")]),
            "fake jpeg": _send(public, photos=[("x.jpg", b"\xff\xd8\xff\xe0" + b"not a picture" * 50, "image/jpeg")]),
            "jpeg called png": _send(
                public, photos=[("x.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png")]
            ),
            "five photos": _send(public, photos=[(f"{i}.jpg", jpeg, "image/jpeg") for i in range(5)]),
            "empty description": _send(public, description="   "),
            "long description": _send(public, description="堵" * 2001),
            "whole body too large": _send(
                public,
                photos=[(f"{i}.jpg", b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), "image/jpeg") for i in range(5)],
            ),
        }
        codes = {name: response.status_code for name, response in refused.items()}
        assert codes == {
            "oversize": 413,
            "gif": 415,
            "fake jpeg": 422,
            "jpeg called png": 415,
            "five photos": 422,
            "empty description": 422,
            "long description": 422,
            "whole body too large": 413,
        }
        assert "photo 1" in refused["fake jpeg"].json()["detail"]
        with _user(reports_service, "hl-officer") as officer:
            assert len(officer.get("/api/reports").json()) == before  # nothing stored half-way

        # Refusals cost the sender nothing of its share; five reports do, and the sixth is refused.
        for i in range(5):
            assert _send(public, description=f"第 {i} 条").status_code == 201
        limited = _send(public, description="第 6 条", photos=[("a.jpg", jpeg, "image/jpeg")])
        assert limited.status_code == 429
        assert 3500 < int(limited.headers["Retry-After"]) <= 3600
    with _public(reports_service, "127.0.0.4") as other:
        assert _send(other, description="另一个地址").status_code == 201

    # The count is in the store: a restart does not reset it.
    reports_service.stop()
    reports_service.start()
    with _public(reports_service, "127.0.0.3") as public:
        assert _send(public, description="重启后").status_code == 429
    with _user(reports_service, "hl-officer") as officer:
        descriptions = [r["description"] for r in officer.get("/api/reports").json()]
        assert len(descriptions) == before + 6 and "第 6 条" not in descriptions and "重启后" not in descriptions


def test_the_town_accepts_a_report_into_a_case_and_marks_it_for_reward_once_verified(
    reports_service: RunningService,
) -> None:
    jpeg = _photo()
    with _public(reports_service, "127.0.0.5") as public:
        receipt = _send(public, description="厨房燃气报警器不响", photos=[("gas.jpg", jpeg, "image/jpeg")]).json()[
            "receipt"
        ]
    with _user(reports_service, "hl-officer") as officer, _user(reports_service, "hl-manager") as manager:
        report = _report_of(officer, "厨房燃气报警器不响")
        url = report["url"]
        assert manager.post(f"{url}/accept", json={"severity": "major"}).status_code == 403
        assert officer.post(f"{url}/accept", json={"severity": "severe"}).status_code == 422
        assert officer.post(f"{url}/accept", json={"severity": "major", "kind": "no_such_kind"}).status_code == 422
        assert officer.post(f"{url}/reward", json={}).status_code == 409  # not even accepted

        accepted = officer.post(
            f"{url}/accept", json={"kind": "gas_alarm_missing", "severity": "major", "note": "属实"}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["state"] == "accepted" and accepted.json()["triaged_by"] == "hl-officer"
        case_id = accepted.json()["case_id"]
        case = officer.get(f"/api/cases/{case_id}").json()
        assert (case["source"], case["source_id"], case["kind"], case["severity"], case["state"]) == (
            "public_report", str(report["id"]), "gas_alarm_missing", "major", "open",
        )  # fmt: skip
        assert case["assignee"]["username"] == "hl-manager" and "厨房燃气报警器不响" in case["description"]
        assert CONTACT not in str(case)  # the case goes to the institution: the reporter stays with the town
        assert [officer.get(e["url"]).content for e in case["evidence"]] == [jpeg]
        assert officer.post(f"{url}/accept", json={"severity": "minor"}).status_code == 409
        assert officer.post(f"{url}/reject", json={"reason": "重复"}).status_code == 409
        assert officer.post(f"{url}/reward", json={}).status_code == 409  # its case is not verified yet

        # The case follows the normal flow; the receipt shows how far it is.
        for action in ("acknowledge", "start-rectifying"):
            assert manager.post(f"/api/cases/{case_id}/{action}").status_code == 200
        uploaded = manager.post(f"/api/cases/{case_id}/evidence", files={"photo": ("fixed.jpg", jpeg, "image/jpeg")})
        assert uploaded.status_code == 201
        assert manager.post(f"/api/cases/{case_id}/rectified").status_code == 200
        with _public(reports_service, "127.0.0.5") as public:
            assert public.get(f"/api/public/reports/{receipt}").json()["case_state"] == "rectified"
        assert officer.post(f"/api/cases/{case_id}/verify").status_code == 200

        rewarded = officer.post(f"{url}/reward", json={"note": "奖励 200 元"})
        assert rewarded.status_code == 200 and rewarded.json()["reward"] is True
        assert officer.post(f"{url}/reward", json={}).status_code == 409  # once
    with _public(reports_service, "127.0.0.5") as public:
        status = public.get(f"/api/public/reports/{receipt}").json()
    assert status == {
        "institution": {"id": "hl-jly", "name": "汇龙镇敬老院"},
        "submitted_at": status["submitted_at"],
        "state": "accepted",
        "case_state": "verified",
        "reject_reason": None,
        "reward": True,
    }
    with reports_service.client() as admin:
        audited = admin.get("/api/audit", params={"target": f"report:{report['id']}"}).json()
    actions = [(row["action"], row["username"]) for row in audited["entries"]]
    assert ("report_accept", "hl-officer") in actions and ("report_reward", "hl-officer") in actions


def test_a_rejected_report_tells_the_reporter_why(reports_service: RunningService) -> None:
    with _public(reports_service, "127.0.0.6") as public:
        receipt = _send(public, description="门口有陌生人").json()["receipt"]
    with _user(reports_service, "hl-officer") as officer:
        url = _report_of(officer, "门口有陌生人")["url"]
        assert officer.post(f"{url}/reject", json={"reason": "  "}).status_code == 422
        rejected = officer.post(f"{url}/reject", json={"reason": "经核实为来访家属，已登记"})
        assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
        assert officer.post(f"{url}/accept", json={"severity": "minor"}).status_code == 409
        assert [r["state"] for r in officer.get("/api/reports", params={"state": "rejected"}).json()] == ["rejected"]
    with _public(reports_service, "127.0.0.6") as public:
        status = public.get(f"/api/public/reports/{receipt}").json()
    assert status["state"] == "rejected" and status["reject_reason"] == "经核实为来访家属，已登记"
    assert status["case_state"] is None and status["reward"] is False


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium(420, 900)  # a phone's width: the page is read off a notice board's QR code
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, condition, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))


def test_the_notice_board_page_sends_a_report_with_a_photo_in_a_real_browser(
    reports_service: RunningService, browser: WebDriver, tmp_path: Path
) -> None:
    photo = tmp_path / "走廊.jpg"
    photo.write_bytes(_photo())
    browser.get(f"{reports_service.base_url}/report/hl-jly")
    _wait(browser, lambda d: d.find_element(By.ID, "institution-name").text == "汇龙镇敬老院")
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN"
    # Its own stylesheet is applied (the page's red header), not the UI's nor another page's.
    header = "return getComputedStyle(document.querySelector('header')).backgroundColor"
    assert browser.execute_script(header) == "rgb(143, 29, 29)"
    browser.find_element(By.ID, "report-submit").click()
    _wait(browser, lambda d: "请填写问题描述" in d.find_element(By.ID, "report-error").text)

    browser.find_element(By.ID, "description").send_keys("三楼楼梯间堆满床垫，无法通行")
    browser.find_element(By.ID, "place").send_keys("三楼楼梯间")
    browser.find_element(By.ID, "contact").send_keys("王女士 13700001111")
    browser.find_element(By.ID, "photos").send_keys(str(photo))
    browser.find_element(By.ID, "report-submit").click()
    code = _wait(browser, lambda d: d.find_element(By.ID, "receipt-code").text or None)
    assert RECEIPT.match(code), code
    browser.save_screenshot(str(artifacts_dir() / "public-report-receipt.png"))

    browser.find_element(By.CSS_SELECTOR, "#lookup-form button[type=submit]").click()
    result = _wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "lookup-result") if d.find_element(By.ID, "lookup-result").is_displayed() else None
        ),
    )
    assert "已收到" in result.text and "汇龙镇敬老院" in result.text and "13700001111" not in result.text

    with _user(reports_service, "hl-officer") as officer:
        report = _report_of(officer, "三楼楼梯间堆满床垫，无法通行")
        assert report["place"] == "三楼楼梯间" and report["contact"] == "王女士 13700001111"
        assert len(report["photos"]) == 1 and officer.get(report["photos"][0]["url"]).content == photo.read_bytes()

    assert httpx.get(f"{reports_service.base_url}/report/hl").status_code == 404  # a town has no notice board page
    browser.get(f"{reports_service.base_url}/report/nowhere")
    _wait(browser, lambda d: d.find_element(By.ID, "unknown-institution").is_displayed())
    assert not browser.find_element(By.ID, "report-form").is_displayed()


def test_the_town_triages_in_the_web_ui_and_prints_a_qr_code_that_reads_back_as_the_link(
    reports_service: RunningService, browser: WebDriver
) -> None:
    with _public(reports_service, "127.0.0.7") as public:
        receipt = _send(public, description="夜间值班室无人", photos=[("duty.jpg", _photo(), "image/jpeg")]).json()[
            "receipt"
        ]
    browser.set_window_size(1400, 1000)
    log_in(browser, f"{reports_service.base_url}/ui/#/reports", "hl-officer", PASSWORD)
    row = _wait(
        browser,
        lambda d: next(
            (r for r in d.find_elements(By.CSS_SELECTOR, "#reports-table tbody tr") if "夜间值班室无人" in r.text), None
        ),
    )
    row.click()
    detail = _wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "report-detail") if d.find_element(By.ID, "report-detail").is_displayed() else None
        ),
    )
    assert CONTACT in detail.text
    _wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, "#report-detail img[data-photo]").get_property("naturalWidth") == 640,
    )
    Select(browser.find_element(By.ID, "report-kind")).select_by_value("duty_room_unattended")
    Select(browser.find_element(By.ID, "report-severity")).select_by_value("urgent")
    browser.find_element(By.CSS_SELECTOR, "#report-detail [data-action=accept]").click()
    _wait(
        browser,
        lambda d: "已受理" in d.find_element(By.ID, "report-detail").text and d.find_elements(By.ID, "report-case"),
    )

    # The notice-board QR code, as the browser draws it, decodes to the institution's public link.
    qr = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-institution=hl-jly] img"))
    _wait(browser, lambda d: qr.get_property("naturalWidth") > 0)
    link = browser.find_element(By.CSS_SELECTOR, "[data-institution=hl-jly] a").text
    assert link == f"{reports_service.base_url}/report/hl-jly"
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-institution=ny-jly]")  # another town's
    browser.execute_script("arguments[0].scrollIntoView()", qr)
    picture = cv2.imdecode(np.frombuffer(qr.screenshot_as_png, np.uint8), cv2.IMREAD_COLOR)
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(picture)
    assert decoded == link
    browser.save_screenshot(str(artifacts_dir() / "reports-triage.png"))

    with _public(reports_service, "127.0.0.7") as public:
        status = public.get(f"/api/public/reports/{receipt}").json()
    assert status["state"] == "accepted" and status["case_state"] == "open"

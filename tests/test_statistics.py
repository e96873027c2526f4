"""Compliance statistics through a real running service: the JSON a dashboard reads, the CSV, the Excel workbook
read back with openpyxl cell by cell (and its charts), the printable report, scope (a town officer sees nothing
of another town), and the 首页 dashboard in real Chromium drawing its ECharts charts and drilling from the bureau
to a town to an institution. The store is filled before the service starts with what a month of work leaves."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from core.cases import Action
from core.statistics import CHINA, parse_period
from core.store import Store
from core.store.cases import Actor, NewEvidence
from core.store.health import HealthSample
from service.configuration import parse_config
from tests.conftest import ORGANISATION
from tests.rig.browser import artifacts_dir, chromium, log_in
from tests.rig.violations import add_violation
from tests.running_service import ADMIN_PASSWORD, RunningService

HOUR = 3600.0
PASSWORD = "statistics-test-password"
PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 20
BY = Actor(None, None)


def _periods() -> tuple[str, str]:
    """Last month (ended, on Beijing's calendar) and yesterday, as period keys."""
    today = dt.datetime.now(CHINA).date()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    yesterday = today - dt.timedelta(days=1)
    return f"{last_month.year}-{last_month.month:02d}", f"{yesterday}..{yesterday}"


MONTH, YESTERDAY = _periods()


def _config(clip: Path) -> dict[str, Any]:
    def camera(camera_id: str, institution: str, role: str) -> dict[str, Any]:
        return {"id": camera_id, "name": camera_id, "institution": institution, "role": role,
                "source": {"url": str(clip)}}  # fmt: skip

    # 汇龙镇敬老院 has no kitchen camera (3 of 4); 南阳镇中心敬老院 only its gate (1 of 4).
    return {
        "organisation": ORGANISATION,
        "cameras": [
            camera("hl-gate", "hl-jly", "gate"),
            camera("hl-duty", "hl-jly", "duty_room"),
            camera("hl-exit", "hl-jly", "evacuation_route"),
            camera("ny-gate", "ny-jly", "gate"),
        ],
    }


def _case(store: Store, institution: str, opened: float, kind: str, source: str = "violation") -> int:
    return store.cases.open(
        institution_id=institution, camera_id=None, kind=kind, zone=None, severity="major", description=None,
        source=source, source_id=None, deadline_at=opened + 72 * HOUR, assignee_id=None, by=BY, now=opened,
    ).id  # fmt: skip


def _fill(store: Store) -> None:
    """Last month: 汇龙镇 rectified one case in 30 hours, dismissed a false alarm and let an inspector's finding
    run late; 南阳镇 left a case open. 汇龙镇's institution and the town itself were inspected, 南阳镇's were not.
    Yesterday: the gate was online for 15 of 20 samples."""
    month = parse_period(MONTH)
    day = 86400.0
    verified = _case(store, "hl-jly", month.start + day, "blocked_route")
    store.cases.transition(verified, Action.ACKNOWLEDGE, BY, now=month.start + day + HOUR)
    store.cases.transition(verified, Action.START_RECTIFYING, BY, now=month.start + day + 2 * HOUR)
    store.cases.add_evidence(
        verified, BY, NewEvidence("upload", None, "image/png", PNG), now=month.start + day + 3 * HOUR
    )
    store.cases.transition(verified, Action.RECTIFIED, BY, now=month.start + day + 4 * HOUR)
    store.cases.transition(verified, Action.VERIFY, BY, now=month.start + day + 30 * HOUR)
    dismissed = _case(store, "hl-jly", month.start + 2 * day, "covered_lens")
    store.cases.transition(dismissed, Action.DISMISS, BY, detail="误报：阴影", now=month.start + 2 * day + HOUR)
    _case(store, "hl-jly", month.start + 3 * day, "gas_alarm_missing", source="spot_check")
    _case(store, "ny-jly", month.start + 4 * day, "blocked_route")
    add_violation(store, "hl-exit", "hl-jly", month.start + day, "blocked_route")
    add_violation(store, "hl-exit", "hl-jly", month.start + 5 * day, "blocked_route")
    add_violation(store, "hl-gate", "hl-jly", month.start + 2 * day, "covered_lens")
    add_violation(store, "ny-gate", "ny-jly", month.start + 4 * day, "blocked_route")
    quarter = f"{MONTH[:4]}-Q{(int(MONTH[5:]) - 1) // 3 + 1}"
    with store.db.write() as cur:
        for unit, level, period in (("hl-jly", "institution", MONTH), ("hl", "town", quarter)):
            cur.execute(
                "INSERT INTO inspections (unit_id, level, period, mode, inspector, started_at, finished_at)"
                " VALUES (?, ?, ?, 'on_site', 'zhang', ?, ?)",
                (unit, level, period, month.start + 6 * day, month.start + 6 * day + HOUR),
            )
    noon = parse_period(YESTERDAY).start + 12 * HOUR
    store.health.add_samples(
        [
            HealthSample("hl-gate", noon + 60 * i, "online" if i < 15 else "offline", 25.0, 1e6, 0, 0.1)
            for i in range(20)
        ]
    )


@pytest.fixture(scope="module")
def statistics_service(tmp_path_factory: pytest.TempPathFactory, clip_h264: Path) -> Iterator[RunningService]:
    workdir = tmp_path_factory.mktemp("statistics")
    config = _config(clip_h264)
    service = RunningService(workdir, config)
    store = Store.open(parse_config({**config, "storage": {"data_dir": str(service.data_dir)}}).storage.database_path)
    try:
        _fill(store)
    finally:
        store.close()
    service.start()
    try:
        with service.client() as admin:
            created = admin.post(
                "/api/users",
                json={"username": "ny-officer", "password": PASSWORD, "org_unit_id": "ny", "role": "town_officer"},
            )
            assert created.status_code == 201, created.text
            service.wait_for(admin, "hl-gate", lambda c: (c["health"] or {}).get("state") == "online")
        yield service
    finally:
        service.stop()


def test_figures_per_town_and_institution_as_json(statistics_service: RunningService) -> None:
    with statistics_service.client() as admin:
        answer = admin.get("/api/statistics", params={"period": MONTH})
        assert answer.status_code == 200, answer.text
        stats = answer.json()
        assert stats["period"]["key"] == MONTH and stats["unit"]["id"] == "qd"
        hl, ny = stats["children"]
        assert (hl["name"], ny["name"]) == ("汇龙镇", "南阳镇")
        assert (hl["cameras_required"], hl["cameras_installed"], hl["installation_rate"]) == (4, 3, 0.75)
        assert [(m["institution"], m["role"]) for m in hl["missing"]] == [("汇龙镇敬老院", "kitchen")]
        assert hl["cases"] == 3 and hl["cases_by_state"]["verified"] == 1 and hl["cases_by_state"]["dismissed"] == 1
        assert (hl["cases_open"], hl["cases_overdue"], hl["rectify_hours_mean"]) == (1, 1, 30.0)
        assert (hl["violation_cases"], hl["false_alarms"], hl["false_alarm_rate"]) == (2, 1, 0.5)
        assert hl["violations_by_kind"] == {"blocked_route": 2, "covered_lens": 1}
        assert (hl["inspections_due"], hl["inspections_done"], hl["inspections_overdue"]) == (1, 1, 0)
        assert (hl["town_inspections_due"], hl["town_inspections_done"]) == (1, 1)
        assert (ny["installation_rate"], ny["cases"], ny["cases_overdue"], ny["violations"]) == (0.25, 1, 1, 1)
        assert (ny["inspections_due"], ny["inspections_done"], ny["inspections_overdue"]) == (1, 0, 1)
        total = stats["unit"]
        assert (total["installation_rate"], total["cases"], total["violations"]) == (0.5, 4, 4)
        assert total["false_alarm_rate"] == round(1 / 3, 4)

        # Drilling down: a town's rows are its institutions, an institution's figures come with its cameras.
        town = admin.get("/api/statistics", params={"unit": "hl", "period": MONTH}).json()
        assert [row["id"] for row in town["children"]] == ["hl-jly"] and town["unit"]["cases"] == 3
        institution = admin.get("/api/statistics", params={"unit": "hl-jly", "period": YESTERDAY}).json()
        assert institution["children"] == []
        gate = next(c for c in institution["cameras"] if c["id"] == "hl-gate")
        assert (gate["online_rate"], gate["online_samples"]) == (0.75, 20)

        # Today: the cameras have been recording since the service started.
        time.sleep(2)
        today = admin.get("/api/statistics", params={"unit": "hl-jly"}).json()["unit"]
        assert today["expected_hours"] > 0 and 0 < today["recording_completeness"] <= 1

        for params, code in (
            ({"period": "2026-13"}, 400),
            ({"period": "yesterday"}, 400),
            ({"unit": "nowhere"}, 404),
            ({"unit": "x" * 65}, 422),
        ):
            refused = admin.get("/api/statistics", params=params)
            assert refused.status_code == code, (params, refused.text)


def test_a_town_officer_sees_only_their_town(statistics_service: RunningService) -> None:
    with statistics_service.client("ny-officer", PASSWORD) as officer:
        own = officer.get("/api/statistics", params={"period": MONTH})
        assert own.status_code == 200 and own.json()["unit"]["id"] == "ny"
        assert officer.get("/api/statistics", params={"unit": "ny-jly", "period": MONTH}).status_code == 200
        for path in ("/api/statistics", "/api/statistics/export.csv", "/api/statistics/export.xlsx",
                     "/api/statistics/report"):  # fmt: skip
            for unit in ("hl", "hl-jly", "qd"):
                assert officer.get(path, params={"unit": unit}).status_code == 404, (path, unit)
    assert httpx.get(statistics_service.base_url + "/api/statistics").status_code == 401


def test_csv_for_excel(statistics_service: RunningService) -> None:
    with statistics_service.client() as admin:
        answer = admin.get("/api/statistics/export.csv", params={"period": MONTH})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert f'filename="statistics-qd-{MONTH}.csv"' in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("【概况】启东市民政局视频监管合规统计")
    headers = rows[1]
    summary = {row[0]: dict(zip(headers, row, strict=False)) for row in rows[2:5]}
    assert list(summary) == ["汇龙镇", "南阳镇", "合计（启东市民政局）"]
    assert summary["汇龙镇"]["安装率"] == "75.0%" and summary["南阳镇"]["安装率"] == "25.0%"
    assert summary["合计（启东市民政局）"]["隐患数"] == "4" and summary["合计（启东市民政局）"]["误报率"] == "33.3%"
    assert summary["汇龙镇"]["平均整改用时(小时)"] == "30.0"
    sections = [row[0] for row in rows if row and row[0].startswith("【")]
    assert [s.split("】")[0] + "】" for s in sections] == [
        "【概况】", "【隐患状态】", "【隐患类型】", "【违规事件】", "【摄像机】", "【缺装摄像机】"
    ]  # fmt: skip
    missing = rows[rows.index(next(r for r in rows if r and r[0].startswith("【缺装摄像机】"))) + 2 :]
    assert sorted(tuple(r) for r in missing) == [
        ("南阳镇中心敬老院", "值班室"), ("南阳镇中心敬老院", "厨房"), ("南阳镇中心敬老院", "疏散通道"),
        ("汇龙镇敬老院", "厨房"),
    ]  # fmt: skip


def test_workbook_read_back_cell_by_cell_with_its_charts(statistics_service: RunningService) -> None:
    with statistics_service.client() as admin:
        answer = admin.get("/api/statistics/export.xlsx", params={"period": MONTH})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["概况", "隐患状态", "隐患类型", "违规事件", "摄像机", "缺装摄像机"]

    sheet = book["概况"]
    assert sheet["A1"].value == f"启东市民政局视频监管合规统计（{parse_period(MONTH).label}）"
    headers = ["单位", "类别", "机构数", "摄像机数", "应装摄像机", "已装摄像机", "安装率", "安装齐全机构"]
    assert [c.value for c in sheet[2]][:8] == headers
    hl = [c.value for c in sheet[3]]
    # 单位 … 安装齐全机构, then (online and recording: columns I–L) cases, inspections.
    assert hl[:8] == ["汇龙镇", "镇", 1, 3, 4, 3, 0.75, 0]
    assert hl[12:] == [3, 1, 1, 1, 30.0, 3, 2, 1, 0.5, 1, 1, 0, 1, 1, 0]
    ny = [c.value for c in sheet[4]]
    assert ny[:8] == ["南阳镇", "镇", 1, 1, 4, 1, 0.25, 0]
    assert ny[12:21] == [1, 1, 1, 0, None, 1, 1, 0, 0.0]
    assert ny[21:24] == [1, 0, 1]
    total = [c.value for c in sheet[5]]
    assert total[:8] == ["合计（启东市民政局）", "民政局", 2, 4, 8, 4, 0.5, 0]
    assert total[12:21] == [4, 2, 2, 1, 30.0, 4, 3, 1, round(1 / 3, 4)]
    assert sheet["G3"].number_format == "0.0%" and sheet["U5"].number_format == "0.0%"

    states = book["隐患状态"]
    assert [c.value for c in states[2]] == [
        "单位",
        "待处理",
        "已确认",
        "整改中",
        "待验收",
        "已验收",
        "误报撤销",
        "合计",
        "超期",
    ]
    assert [c.value for c in states[3]] == ["汇龙镇", 1, 0, 0, 0, 1, 1, 3, 1]
    assert [c.value for c in states[4]] == ["南阳镇", 1, 0, 0, 0, 0, 0, 1, 1]
    kinds = {row[0]: row[1:] for row in book["隐患类型"].iter_rows(min_row=3, values_only=True)}
    assert kinds == {"消防通道占用": (1, 1, 2), "镜头遮挡": (1, 0, 1), "燃气报警器缺失或故障": (1, 0, 1)}
    violations = {row[0]: row[1:] for row in book["违规事件"].iter_rows(min_row=3, values_only=True)}
    assert violations == {"消防通道占用": (2, 1, 3), "镜头遮挡": (1, 0, 1)}
    cameras = [row[:5] for row in book["摄像机"].iter_rows(min_row=3, values_only=True)]
    assert cameras == [
        ("汇龙镇", "汇龙镇敬老院", "hl-gate", "大门", "是"),
        ("汇龙镇", "汇龙镇敬老院", "hl-duty", "值班室", "是"),
        ("汇龙镇", "汇龙镇敬老院", "hl-exit", "疏散通道", "是"),
        ("南阳镇", "南阳镇中心敬老院", "ny-gate", "大门", "是"),
    ]

    # openpyxl does not read charts back: they are in the package, each drawn from the sheet's own cells.
    with zipfile.ZipFile(io.BytesIO(answer.content)) as package:
        charts = sorted(n for n in package.namelist() if n.startswith("xl/charts/chart"))
        xml = {name: package.read(name).decode() for name in charts}
    assert len(charts) == 3
    rates = next(text for text in xml.values() if "安装率、在线率、录像完整率" in text)
    assert "'概况'!$G$3:$G$4" in rates and "'概况'!$I$3:$I$4" in rates and "'概况'!$L$3:$L$4" in rates
    assert any("'隐患状态'!$B$3:$B$4" in text for text in xml.values())


def test_printable_report(statistics_service: RunningService) -> None:
    with statistics_service.client() as admin:
        answer = admin.get("/api/statistics/report", params={"period": MONTH})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page = answer.text
    assert f"启东市民政局视频监管合规统计（{parse_period(MONTH).label}）" in page
    assert "<script" not in page and "style=" not in page  # the policy allows neither inline
    assert "<svg" in page and "汇龙镇敬老院" in page and "@page" not in page
    css = httpx.get(statistics_service.base_url + "/ui/statistics-report.css")
    assert css.status_code == 200 and "@page" in css.text


def _wait(driver: WebDriver, condition: Any, timeout: float = 15.0) -> Any:
    # The page re-renders when an answer arrives: an element read just before is stale, and is read again.
    wait = WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(lambda d: condition(d))


def _unit_rows(driver: WebDriver) -> list[str]:
    # Read in one go: the page replaces its table when it has loaded.
    rows: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('#dash-units a.drill')].map((a) => a.textContent)"
    )
    return rows


def test_dashboard_charts_and_drill_down_in_a_real_browser(statistics_service: RunningService) -> None:
    driver = chromium()
    try:
        log_in(driver, statistics_service.base_url + "/ui/#/home", "admin", ADMIN_PASSWORD)
        _wait(driver, lambda d: _unit_rows(d) == ["汇龙镇", "南阳镇"])
        Select(driver.find_element(By.ID, "dash-period")).select_by_value(MONTH)
        _wait(driver, lambda d: parse_period(MONTH).label in d.find_element(By.ID, "dash-label").text)
        cards = {c.get_attribute("data-figure"): c.text for c in driver.find_elements(By.CSS_SELECTOR, ".dash-card")}
        assert "50.0%" in cards["installation"] and "4" in cards["cases"] and "33.3%" in cards["falseAlarms"]
        # ECharts drew each chart on a canvas.
        for name in ("rates", "states", "kinds"):
            _wait(driver, lambda d, n=name: d.find_elements(By.CSS_SELECTOR, f"#dash-chart-{n} canvas"))
        assert not driver.find_element(By.ID, "dash-no-charts").is_displayed()
        xlsx = driver.find_element(By.ID, "dash-xlsx").get_attribute("href")
        assert xlsx.endswith(f"/api/statistics/export.xlsx?unit=qd&period={MONTH}")
        driver.save_screenshot(str(artifacts_dir() / "statistics-dashboard.png"))

        driver.find_element(By.LINK_TEXT, "汇龙镇").click()
        _wait(driver, lambda d: _unit_rows(d) == ["汇龙镇敬老院"])
        assert driver.find_element(By.ID, "dash-trail").text.replace(" ", "") == "启东市民政局›汇龙镇"
        driver.find_element(By.LINK_TEXT, "汇龙镇敬老院").click()
        _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#dash-cameras tbody tr")) == 3)
        assert "汇龙镇敬老院：厨房" in driver.find_element(By.ID, "dash-missing").text
        assert driver.find_element(By.ID, "dash-xlsx").get_attribute("href").endswith(f"unit=hl-jly&period={MONTH}")
        driver.find_element(By.LINK_TEXT, "启东市民政局").click()  # back up the trail
        _wait(driver, lambda d: _unit_rows(d) == ["汇龙镇", "南阳镇"])

        # Without the chart library the figures are still there, and the page says what is missing.
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*echarts.min.js"]})
        driver.refresh()
        _wait(driver, lambda d: _unit_rows(d) == ["汇龙镇", "南阳镇"])
        _wait(driver, lambda d: d.find_element(By.ID, "dash-no-charts").is_displayed())
        driver.save_screenshot(str(artifacts_dir() / "statistics-dashboard-without-charts.png"))
        assert not driver.find_elements(By.CSS_SELECTOR, ".dash-chart canvas")
    finally:
        driver.quit()

"""core/store/reports.py and service/public_reports.py over a store in memory: the per-address limit, receipts,
triage into a case or a rejection, and the reward only for a report whose case was verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cases import Action
from core.receipts import normalise
from core.store import Store
from core.store.cases import Actor, NewEvidence
from core.store.reports import NewPhoto, RateLimited, ReportPolicy, ReportStateError
from service.cases import CaseDesk
from service.configuration import parse_config
from service.public_reports import ReportDesk
from service.service import Service
from tests.rig.case_desk import Told, case_desk
from tests.rig.violations import JPEG

ZHANG = Actor(7, "zhang")


def _desk(store: Store, tmp_path: Path) -> tuple[CaseDesk, Told]:
    return case_desk(store, tmp_path, "major")


def _submit(store: Store, client: str = "10.0.0.1", now: float = 1000.0, photos: int = 0) -> tuple[int, str]:
    report, receipt = store.reports.submit(
        institution_id="hl-jly",
        description="二楼走廊堆放杂物，堵住了安全出口",
        place="二楼东侧",
        contact="13800000000",
        photos=[NewPhoto("image/jpeg", JPEG)] * photos,
        client=client,
        now=now,
    )
    return report.id, receipt


def test_the_limit_per_address_holds_for_the_window_and_stores_nothing_past_it() -> None:
    store = Store.open(":memory:")
    store.reports.policy = ReportPolicy(per_client=3, window_s=3600)
    for i in range(3):
        _submit(store, now=1000.0 + i)
    with pytest.raises(RateLimited) as limited:
        _submit(store, now=1010.0)
    assert limited.value.retry_after_s == 3590  # the first of the three leaves the window then
    with pytest.raises(RateLimited):
        store.reports.check_rate("10.0.0.1", now=1010.0)
    assert len(store.reports.find(["hl-jly"])) == 3
    _submit(store, client="10.0.0.2", now=1010.0)  # another address has its own share
    _submit(store, now=4600.5)  # an hour after the first
    assert len(store.reports.find(["hl-jly"])) == 5


def test_the_receipt_finds_the_report_and_is_not_stored() -> None:
    store = Store.open(":memory:")
    report_id, receipt = _submit(store, photos=2)
    found = store.reports.by_receipt(receipt)
    assert found is not None and found.id == report_id and found.state == "received" and found.photos == 2
    assert normalise(receipt.lower()) == receipt
    stored = store.db.read("SELECT * FROM public_reports")[0]
    assert receipt not in [str(value) for value in tuple(stored)]
    assert store.reports.by_receipt("ABCDEFGHJK") is None


def test_accepting_opens_a_case_with_the_photos_and_the_reward_waits_for_its_verification(tmp_path: Path) -> None:
    store = Store.open(":memory:")
    cases, told = _desk(store, tmp_path)
    desk = ReportDesk(store, cases)
    report_id, _ = _submit(store, photos=1)
    report, case = desk.accept(report_id, kind="evacuation_route_blocked", severity="major", note="属实", by=ZHANG)
    assert (report.state, report.case_id, report.triaged_by) == ("accepted", case.id, "zhang")
    assert (case.source, case.source_id, case.kind, case.severity) == (
        "public_report",
        str(report_id),
        "evacuation_route_blocked",
        "major",
    )
    assert case.description is not None and "二楼东侧" in case.description and "属实" in case.description
    assert [e.note for e in store.cases.evidence(case.id)] == ["举报人照片"]
    assert told.seen == [("opened", case.id)]
    with pytest.raises(ReportStateError, match="accepted"):
        desk.accept(report_id, kind="other_hazard", severity="minor", note=None, by=ZHANG)
    with pytest.raises(ReportStateError, match="accepted"):
        store.reports.rejected(report_id, "重复", "zhang")

    with pytest.raises(ReportStateError, match="verified"):
        store.reports.rewarded(report_id, None, "zhang")
    cases.transition(case.id, Action.ACKNOWLEDGE, ZHANG)
    cases.transition(case.id, Action.START_RECTIFYING, ZHANG)
    store.cases.add_evidence(case.id, ZHANG, NewEvidence("upload", "fixed.jpg", "image/jpeg", JPEG))
    cases.transition(case.id, Action.RECTIFIED, ZHANG)
    cases.transition(case.id, Action.VERIFY, ZHANG)
    rewarded = store.reports.rewarded(report_id, "奖励 200 元", "zhang")
    assert rewarded.reward and rewarded.case_state == "verified" and rewarded.reward_note == "奖励 200 元"
    with pytest.raises(ReportStateError, match="already"):
        store.reports.rewarded(report_id, None, "zhang")


def test_an_acceptance_cut_short_is_finished_with_the_case_it_opened(tmp_path: Path) -> None:
    store = Store.open(":memory:")
    cases, _ = _desk(store, tmp_path)
    report_id, _ = _submit(store)
    orphan = store.cases.open(
        institution_id="hl-jly", camera_id=None, kind="other_hazard", zone=None, severity="minor", description="x",
        source="public_report", source_id=str(report_id), deadline_at=1e12, assignee_id=None, by=ZHANG,
    )  # fmt: skip
    report, case = ReportDesk(store, cases).accept(
        report_id, kind="other_hazard", severity="minor", note=None, by=ZHANG
    )
    assert case.id == orphan.id == report.case_id
    assert len(store.db.read("SELECT id FROM cases")) == 1


def test_a_rejection_keeps_its_reason_and_ends_the_triage() -> None:
    store = Store.open(":memory:")
    report_id, receipt = _submit(store)
    rejected = store.reports.rejected(report_id, "经核实，该处为临时堆放，已清理", "zhang")
    assert rejected.state == "rejected" and rejected.reject_reason is not None
    with pytest.raises(ReportStateError):
        store.reports.rejected(report_id, "again", "zhang")
    with pytest.raises(ReportStateError, match="verified"):
        store.reports.rewarded(report_id, None, "zhang")
    with pytest.raises(LookupError):
        store.reports.rejected(999, "no such", "zhang")
    assert store.reports.find(["hl-jly"], state="received") == []
    assert [r.id for r in store.reports.find(["hl-jly"], state="rejected")] == [report_id]
    assert store.reports.find(["ny-jly"]) == []


def test_the_configured_limit_is_the_one_the_store_applies(tmp_path: Path) -> None:
    config = parse_config(
        {
            "organisation": {"id": "qd", "name": "局"},
            "storage": {"data_dir": str(tmp_path)},
            "public_reports": {"per_address": 50, "within_minutes": 10},
        }
    )
    service = Service(config)
    try:
        assert service.store.reports.policy == ReportPolicy(per_client=50, window_s=600)
    finally:
        service.store.close()
    with pytest.raises(Exception, match="per_address"):
        parse_config({"organisation": {"id": "qd", "name": "局"}, "public_reports": {"per_address": 0}})

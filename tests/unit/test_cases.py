"""core/cases.py's lifecycle rules, with core/store/cases.py and service/cases.py applying them to a store in
memory: which change follows which, repeats joining the open case, overdue escalation, video released on close."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cases import TRANSITIONS, Action, CaseState, IllegalTransition, deadline, is_overdue, next_state
from core.store import Store
from core.store.cases import Actor, CaseFilter, MissingEvidence, NewEvidence
from recordings.evidence import reference
from service.cases import CaseDesk
from tests.rig.case_desk import Told, case_desk
from tests.rig.violations import JPEG, open_violation

PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 20
ZHANG = Actor(7, "zhang")


def _desk(store: Store, tmp_path: Path, hours: float = 72.0) -> tuple[CaseDesk, Told]:
    return case_desk(store, tmp_path, "urgent", hours)


@pytest.mark.parametrize(
    ("state", "action", "to"),
    [
        ("open", Action.ACKNOWLEDGE, CaseState.ACKNOWLEDGED),
        ("acknowledged", Action.START_RECTIFYING, CaseState.RECTIFYING),
        ("rectifying", Action.RECTIFIED, CaseState.RECTIFIED),
        ("rectified", Action.VERIFY, CaseState.VERIFIED),
        ("rectified", Action.REJECT, CaseState.RECTIFYING),
        ("open", Action.DISMISS, CaseState.DISMISSED),
        ("rectifying", Action.DISMISS, CaseState.DISMISSED),
    ],
)
def test_each_step_of_the_loop_leads_to_the_next(state: str, action: Action, to: CaseState) -> None:
    assert next_state(1, state, action) is to


def test_every_other_step_is_refused_naming_the_state_and_what_it_needs() -> None:
    refused = [
        (state, action) for state in CaseState for action in Action if state not in TRANSITIONS[action].allowed_from
    ]
    assert ("open", Action.VERIFY) in refused and ("verified", Action.DISMISS) in refused
    assert ("rectified", Action.DISMISS) in refused and ("open", Action.START_RECTIFYING) in refused
    for state, action in refused:
        with pytest.raises(IllegalTransition):
            next_state(5, state, action)
    with pytest.raises(IllegalTransition, match="case 5 is open: 'verify' needs a case that is rectified"):
        next_state(5, "open", Action.VERIFY)


def test_deadline_by_severity_and_overdue_only_while_with_the_institution() -> None:
    hours = {"urgent": 24.0, "major": 72.0, "minor": 168.0}
    assert deadline("urgent", 1000.0, hours) == 1000.0 + 86400
    assert deadline("minor", 0.0, hours) == 7 * 86400
    assert is_overdue("rectifying", 10.0, 11.0) and not is_overdue("rectifying", 10.0, 9.0)
    assert not is_overdue("rectified", 10.0, 11.0) and not is_overdue("verified", 10.0, 11.0)


def test_a_violation_opens_a_case_and_a_repeat_joins_it_until_it_closes(tmp_path: Path) -> None:
    store = Store.open(":memory:")
    desk, told = _desk(store, tmp_path)
    first = open_violation(store, "cam", "hl-jly", 100.0)
    store.violations.close(first, ended_at=105.0, reason="clear", confidence=0.9, bbox=None, clip_end=115.0)
    second = open_violation(store, "cam", "hl-jly", 200.0)
    other_kind = open_violation(store, "cam", "hl-jly", 210.0, kind="video_loss")
    assert desk.intake() == 4 and desk.intake() == 0  # the cursor moved past every event
    listed = store.cases.find(CaseFilter())
    assert [(c.kind, c.violations, c.state, c.source) for c in listed] == [
        ("video_loss", 1, "open", "violation"),
        ("covered_lens", 2, "open", "violation"),
    ]
    covered = listed[1]
    assert store.cases.violations(covered.id) == [first, second]
    assert store.cases.case_of_violation(other_kind) == listed[0].id
    assert told.seen == [("opened", covered.id), ("opened", listed[0].id)]
    assert [h.action for h in store.cases.history(covered.id)] == ["opened", "violation_joined"]

    store.recordings.hold("cam", 90.0, 300.0, reference(first))
    desk.transition(covered.id, Action.DISMISS, ZHANG, "a cleaner's trolley")
    assert store.recordings.hold_state(reference(first))[1] is not None  # released: kept an hour more
    assert store.cases.dismissals("cam") == {"covered_lens": 1}
    third = open_violation(store, "cam", "hl-jly", 400.0)
    desk.intake()
    assert store.cases.case_of_violation(third) not in (None, covered.id)  # the closed case takes no more


def test_rectified_needs_a_photo_taken_since_rectification_began(tmp_path: Path) -> None:
    store = Store.open(":memory:")
    desk, _ = _desk(store, tmp_path)
    case = store.cases.open(
        institution_id="hl-jly", camera_id=None, kind="gas_alarm_missing", zone=None, severity="major",
        description="厨房燃气报警器损坏", source="spot_check", source_id="3", deadline_at=1e12, assignee_id=None,
        by=ZHANG, evidence=[NewEvidence("spot_check", "3/1", "image/jpeg", JPEG)],
    )  # fmt: skip
    desk.transition(case.id, Action.ACKNOWLEDGE, ZHANG)
    desk.transition(case.id, Action.START_RECTIFYING, ZHANG)
    with pytest.raises(MissingEvidence, match="upload a photo"):
        desk.transition(case.id, Action.RECTIFIED, ZHANG)
    store.cases.add_evidence(case.id, ZHANG, NewEvidence("upload", "fixed.png", "image/png", PNG))
    assert desk.transition(case.id, Action.RECTIFIED, ZHANG).state == "rectified"
    rejected = desk.transition(case.id, Action.REJECT, Actor(8, "li"), "报警器仍未通电")
    assert rejected.state == "rectifying"
    with pytest.raises(MissingEvidence):  # the photo before the rejection does not count again
        desk.transition(case.id, Action.RECTIFIED, ZHANG)
    store.cases.add_evidence(case.id, ZHANG, NewEvidence("upload", "fixed-2.png", "image/png", PNG))
    desk.transition(case.id, Action.RECTIFIED, ZHANG)
    closed = desk.transition(case.id, Action.VERIFY, Actor(8, "li"))
    assert closed.state == "verified" and closed.closed_at is not None
    with pytest.raises(IllegalTransition, match="closed case takes no more evidence"):
        store.cases.add_evidence(case.id, ZHANG, NewEvidence("upload", None, "image/png", PNG))
    with pytest.raises(IllegalTransition):
        store.cases.assign(case.id, 7, ZHANG)
    with pytest.raises(LookupError):
        store.cases.transition(999, Action.ACKNOWLEDGE, ZHANG)
    history = store.cases.history(case.id)
    assert [(h.username, h.action, h.to_state) for h in history if h.to_state] == [
        ("zhang", "opened", "open"),
        ("zhang", "acknowledge", "acknowledged"),
        ("zhang", "start_rectifying", "rectifying"),
        ("zhang", "rectified", "rectified"),
        ("li", "reject", "rectifying"),
        ("zhang", "rectified", "rectified"),
        ("li", "verify", "verified"),
    ]


def test_overdue_cases_are_escalated_to_their_town_once(tmp_path: Path) -> None:
    store = Store.open(":memory:")
    desk, told = _desk(store, tmp_path, hours=1.0)
    violation = open_violation(store, "cam", "hl-jly", 100.0)
    desk.intake()
    case_id = store.cases.case_of_violation(violation)
    assert case_id is not None
    case = store.cases.get(case_id)
    assert case is not None
    assert desk.sweep(now=case.deadline_at - 1) == []
    escalated = desk.sweep(now=case.deadline_at + 1)
    assert [(c.id, c.escalated_to) for c in escalated] == [(case_id, "hl")]
    assert desk.sweep(now=case.deadline_at + 100) == []  # flagged once
    assert told.seen[-1] == ("overdue", case_id)
    assert store.cases.history(case_id)[-1].detail == "escalated to hl"


def test_the_overdue_list_is_newest_first_and_read_from_the_running_cases_alone(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "vms.db")
    deadlines = [100.0, 300.0, 200.0, 50.0]
    opened = [
        store.cases.open(
            institution_id=institution, camera_id=None, kind="blocked_route", zone=None, severity="urgent",
            description=None, source="inspection", source_id=None, deadline_at=deadline, assignee_id=None, by=ZHANG,
            now=10.0,
        ).id
        for institution, deadline in zip(("hl-jly", "hl-fly", "hl-jly", "hl-fly"), deadlines, strict=True)
    ]  # fmt: skip
    store.cases.transition(opened[3], Action.DISMISS, ZHANG, "误报")
    statements: list[str] = []
    reader = store.db._reader()
    reader.set_trace_callback(statements.append)
    found = store.cases.find(CaseFilter(["hl-jly", "hl-fly"], overdue=True, now=250.0))
    reader.set_trace_callback(None)
    # Past its deadline and still with its institution: the dismissed case and the one due at 300 are not.
    assert [c.id for c in found] == [opened[2], opened[0]]
    plan = " / ".join(row[3] for row in reader.execute("EXPLAIN QUERY PLAN " + statements[-1]))
    assert "cases_running_by_id" in plan and "TEMP B-TREE" not in plan, plan
    store.db.close()

"""core/statistics over a store in memory filled as the service fills it: installation rate (安装率), online rate,
recording completeness, cases by state, time to rectify, overdue, false alarms, inspections due and done, and the
period calendar (Beijing's midnight, not UTC's)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.cases import Action
from core.config.models import Config
from core.organisation import OrgTree
from core.statistics import CHINA, PeriodError, Statistics, compute, parse_period
from core.store import Store
from core.store.cases import Actor, NewEvidence
from core.store.health import HealthSample
from core.store.recordings import NewSegment
from service.configuration import parse_config
from tests.rig.violations import add_violation

HOUR = 3600.0
NOVEMBER = parse_period("2026-11")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=CHINA).timestamp()  # inside November: it has not ended yet
ZHANG = Actor(7, "zhang")
PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 20


def _camera(camera_id: str, institution: str, role: str, **extra: object) -> dict[str, object]:
    return {"id": camera_id, "name": camera_id, "institution": institution, "role": role,
            "source": {"url": "rtsp://127.0.0.1/x"}, **extra}  # fmt: skip


def _config() -> Config:
    return parse_config(
        {
            "organisation": {
                "id": "qd",
                "name": "启东市民政局",
                "towns": [
                    {
                        "id": "hl",
                        "name": "汇龙镇",
                        "institutions": [
                            {"id": "hl-jly", "name": "汇龙镇敬老院"},  # a canteen (the default) but no kitchen camera
                            {"id": "hl-day", "name": "汇龙日间照料中心", "canteen": False},
                        ],
                    },
                    {"id": "ny", "name": "南阳镇", "institutions": [{"id": "ny-jly", "name": "南阳镇敬老院"}]},
                ],
            },
            "cameras": [
                _camera("hl-gate", "hl-jly", "gate"),
                _camera("hl-duty", "hl-jly", "duty_room"),
                _camera("hl-exit", "hl-jly", "evacuation_route"),
                _camera("day-gate", "hl-day", "gate"),
                _camera("day-duty", "hl-day", "duty_room"),
                _camera("day-exit", "hl-day", "evacuation_route"),
                _camera("ny-gate", "ny-jly", "gate"),
                _camera("ny-kitchen", "ny-jly", "kitchen", enabled=False),  # switched off: not installed
            ],
        }
    )


@pytest.fixture
def store() -> Store:
    store = Store.open(":memory:")
    config = _config()
    store.cameras.sync(config.cameras)
    # Configured since before the period, so the whole of it is expected.
    with store.db.write() as cur:
        cur.execute("UPDATE cameras SET created_at = ?", (NOVEMBER.start - 86400,))
    return store


def _stats(store: Store, unit: str, period: str = "2026-11", now: float = NOW) -> Statistics:
    config = _config()
    return compute(config, OrgTree(config), store.statistics, unit, parse_period(period), now)


def _case(store: Store, institution: str, opened: float, *, kind: str = "blocked_route", camera: str = "hl-exit",
          hours: float = 72.0, source: str = "violation") -> int:  # fmt: skip
    case = store.cases.open(
        institution_id=institution, camera_id=camera, kind=kind, zone=None, severity="major", description=None,
        source=source, source_id=None, deadline_at=opened + hours * HOUR, assignee_id=None, by=ZHANG, now=opened,
    )  # fmt: skip
    return case.id


def _verify(store: Store, case_id: int, at: float) -> None:
    store.cases.transition(case_id, Action.ACKNOWLEDGE, ZHANG, now=at - 3 * HOUR)
    store.cases.transition(case_id, Action.START_RECTIFYING, ZHANG, now=at - 2 * HOUR)
    store.cases.add_evidence(case_id, ZHANG, NewEvidence("upload", None, "image/png", PNG), now=at - HOUR)
    store.cases.transition(case_id, Action.RECTIFIED, ZHANG, now=at - HOUR)
    store.cases.transition(case_id, Action.VERIFY, ZHANG, now=at)


def test_periods_follow_the_beijing_calendar() -> None:
    assert NOVEMBER.start == dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC).timestamp()
    assert NOVEMBER.end - NOVEMBER.start == 30 * 86400
    assert NOVEMBER.label == "2026年11月"
    quarter = parse_period("2026-Q4")
    assert (quarter.first_day, quarter.last_day) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert quarter.months() == ["2026-10", "2026-11", "2026-12"] and quarter.quarters() == ["2026-Q4"]
    days = parse_period("2026-11-25..2026-12-05")
    assert days.months() == ["2026-11", "2026-12"] and days.end - days.start == 11 * 86400
    for bad in ("2026-13", "2026-Q5", "1999", "2026-12-05..2026-11-25", "2026-02-30..2026-03-01", "now", ""):
        with pytest.raises(PeriodError):
            parse_period(bad)


def test_installation_rate_counts_required_roles_and_the_kitchen_only_with_a_canteen(store: Store) -> None:
    bureau = _stats(store, "qd")
    by_id = {row.id: row for row in bureau.children}
    hl = _stats(store, "hl")
    institutions = {row.id: row for row in hl.children}
    # 汇龙镇敬老院: gate, duty room, route of 4 (its canteen needs a kitchen camera); the day centre: 3 of 3.
    assert (institutions["hl-jly"].cameras_required, institutions["hl-jly"].cameras_installed) == (4, 3)
    assert institutions["hl-jly"].installation_rate == 0.75
    assert [(m.institution, m.role) for m in institutions["hl-jly"].missing] == [("汇龙镇敬老院", "kitchen")]
    assert institutions["hl-day"].installation_rate == 1.0 and institutions["hl-day"].missing == []
    assert (hl.unit.cameras_required, hl.unit.cameras_installed, hl.unit.institutions_complete) == (7, 6, 1)
    # 南阳镇: only the gate; the kitchen camera is configured but switched off.
    assert (by_id["ny"].cameras_required, by_id["ny"].cameras_installed) == (4, 1)
    assert {m.role for m in by_id["ny"].missing} == {"duty_room", "evacuation_route", "kitchen"}
    assert (bureau.unit.cameras_required, bureau.unit.cameras_installed) == (11, 7)
    assert bureau.unit.installation_rate == round(7 / 11, 4)
    assert bureau.unit.cameras == 7 and bureau.unit.institutions == 3


def test_online_rate_is_the_share_of_samples_taken_online(store: Store) -> None:
    samples = [
        HealthSample("hl-gate", NOW - 3600 + 60 * i, "online" if i < 45 else "offline", 25.0, 1e6, 0, 0.1)
        for i in range(60)
    ] + [HealthSample("hl-duty", NOW - 3600 + 60 * i, "online", 25.0, 1e6, 0, 0.1) for i in range(60)]
    # Before the period: not counted.
    samples.append(HealthSample("hl-gate", NOVEMBER.start - 60, "offline", 0.0, 0.0, 0, None))
    store.health.add_samples(samples)
    stats = _stats(store, "hl-jly")
    cameras = {c.id: c for c in stats.cameras}
    assert cameras["hl-gate"].online_rate == 0.75 and cameras["hl-gate"].online_samples == 60
    assert cameras["hl-duty"].online_rate == 1.0
    assert cameras["hl-exit"].online_rate is None  # never sampled: no figure rather than 0 %
    assert stats.unit.online_rate == round(105 / 120, 4)


def test_recording_completeness_shows_a_gap_within_the_retained_hours(store: Store) -> None:
    def segment(start: float, end: float) -> None:
        new = NewSegment("hl-gate", f"hl-gate/{start}.mp4", start, 100, "h264", 640, 360, "p")
        store.recordings.add_closed_segment(new, end, 1000, [0.0])

    # The last 24 h (the gate's retention) recorded but for a 3-hour gap; older video was deleted on purpose.
    segment(NOW - 24 * HOUR, NOW - 10 * HOUR)
    segment(NOW - 7 * HOUR, NOW)
    stats = _stats(store, "hl-jly")
    gate = next(c for c in stats.cameras if c.id == "hl-gate")
    assert (gate.expected_hours, gate.recorded_hours) == (24.0, 21.0)
    assert gate.recording_completeness == 0.875
    duty = next(c for c in stats.cameras if c.id == "hl-duty")
    assert (duty.expected_hours, duty.recorded_hours, duty.recording_completeness) == (24.0, 0.0, 0.0)
    assert stats.unit.expected_hours == 72.0 and stats.unit.recorded_hours == 21.0
    # A camera configured an hour ago is expected to have recorded one hour, not the whole day.
    with store.db.write() as cur:
        cur.execute("UPDATE cameras SET created_at = ? WHERE id = 'hl-duty'", (NOW - HOUR,))
    assert next(c for c in _stats(store, "hl-jly").cameras if c.id == "hl-duty").expected_hours == 1.0
    # A period wholly before the retained hours expects nothing: no figure, not 0 %.
    october = _stats(store, "hl-jly", "2026-10")
    assert october.unit.expected_hours == 0.0 and october.unit.recording_completeness is None


def test_cases_by_state_time_to_rectify_overdue_and_false_alarms(store: Store) -> None:
    day = 86400.0
    verified = _case(store, "hl-jly", NOVEMBER.start + day)
    _verify(store, verified, at=NOVEMBER.start + day + 30 * HOUR)  # rectified and verified in 30 hours
    _case(store, "hl-jly", NOVEMBER.start + 2 * day, hours=24)  # still open, past its deadline
    dismissed = _case(store, "hl-jly", NOVEMBER.start + 3 * day, kind="covered_lens", camera="hl-gate")
    store.cases.transition(dismissed, Action.DISMISS, ZHANG, detail="a shadow", now=NOVEMBER.start + 3 * day + HOUR)
    _case(store, "hl-jly", NOW - HOUR, kind="gas_alarm_missing", camera="", source="spot_check")
    _case(store, "ny-jly", NOVEMBER.start + day, camera="ny-gate")
    _case(store, "hl-jly", NOVEMBER.start - day)  # October's: not this period's
    for at in (NOVEMBER.start + day, NOVEMBER.start + 2 * day, NOVEMBER.start + 3 * day):
        add_violation(store, "hl-exit", "hl-jly", at, "blocked_route")
    add_violation(store, "hl-gate", "hl-jly", NOVEMBER.start + 3 * day, "covered_lens")

    inst = _stats(store, "hl-jly").unit
    assert inst.cases == 4
    assert inst.cases_by_state == {"open": 2, "acknowledged": 0, "rectifying": 0, "rectified": 0,
                                   "verified": 1, "dismissed": 1}  # fmt: skip
    assert inst.cases_by_kind == {"blocked_route": 2, "covered_lens": 1, "gas_alarm_missing": 1}
    assert (inst.cases_open, inst.cases_verified, inst.cases_overdue) == (2, 1, 1)
    assert inst.rectify_hours_mean == 30.0
    assert (inst.violation_cases, inst.false_alarms, inst.false_alarm_rate) == (3, 1, round(1 / 3, 4))
    assert inst.violations == 4 and inst.violations_by_kind == {"blocked_route": 3, "covered_lens": 1}
    gate = next(c for c in _stats(store, "hl-jly").cameras if c.id == "hl-gate")
    assert (gate.violations, gate.false_alarms) == (1, 1)
    # The sweep's flag counts too, once the case has moved on.
    with store.db.write() as cur:
        cur.execute("UPDATE cases SET overdue_at = ? WHERE id = ?", (NOVEMBER.start + 5 * day, verified))
    assert _stats(store, "hl-jly").unit.cases_overdue == 2
    # The bureau's figures are its towns' sums.
    bureau = _stats(store, "qd")
    assert bureau.unit.cases == 5 and [c.cases for c in bureau.children] == [4, 1]


def _inspect(store: Store, unit: str, level: str, period: str, finished: bool = True) -> None:
    with store.db.write() as cur:
        cur.execute(
            "INSERT INTO inspections (unit_id, level, period, mode, inspector, started_at, finished_at)"
            " VALUES (?, ?, ?, 'on_site', 'zhang', ?, ?)",
            (unit, level, period, NOW - HOUR, NOW if finished else None),
        )


def test_inspections_due_done_and_overdue(store: Store) -> None:
    _inspect(store, "hl-jly", "institution", "2026-10")
    _inspect(store, "hl-jly", "institution", "2026-11")
    _inspect(store, "hl-day", "institution", "2026-10", finished=False)  # begun, never finished: not done
    _inspect(store, "hl", "town", "2026-Q4")
    # Q4 as of 20 November: October and November have begun (October has ended), December has not.
    town = _stats(store, "hl", "2026-Q4")
    institutions = {row.id: row for row in town.children}
    assert (institutions["hl-jly"].inspections_due, institutions["hl-jly"].inspections_done) == (2, 2)
    assert (institutions["hl-day"].inspections_due, institutions["hl-day"].inspections_done) == (2, 0)
    assert institutions["hl-day"].inspections_overdue == 1  # October's; November's is still due
    assert (town.unit.inspections_due, town.unit.inspections_done, town.unit.inspections_overdue) == (4, 2, 1)
    assert (town.unit.town_inspections_due, town.unit.town_inspections_done) == (1, 1)
    bureau = _stats(store, "qd", "2026-Q4")
    assert (bureau.unit.inspections_due, bureau.unit.inspections_done) == (6, 2)
    assert (bureau.unit.town_inspections_due, bureau.unit.town_inspections_done) == (2, 1)
    # A period still ahead has nothing due yet.
    assert _stats(store, "qd", "2027-01").unit.inspections_due == 0


def test_canteen_defaults_to_true_and_takes_only_a_boolean() -> None:
    from pydantic import ValidationError

    from core.config.models import InstitutionConfig

    assert InstitutionConfig(id="a", name="院").canteen is True
    assert InstitutionConfig(id="a", name="院", canteen=False).canteen is False
    with pytest.raises(ValidationError, match="canteen"):
        InstitutionConfig(id="a", name="院", canteen="sometimes")  # type: ignore[arg-type]

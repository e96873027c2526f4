"""Compliance statistics of one organisation unit over a period, from the configuration and the store.

Everything is counted per institution first (and per camera), then summed up the tree, so a town's row is
exactly the sum of its institutions' and the bureau's the sum of its towns'. Rates are taken from the sums
(time-weighted), never averaged from the children's rates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from core.cases import CLOSED, CaseState
from core.config import Config
from core.organisation import OrgTree, OrgUnit
from core.statistics.figures import (
    KITCHEN,
    REQUIRED_ROLES,
    CameraFigures,
    MissingCamera,
    PeriodView,
    Statistics,
    UnitFigures,
)
from core.statistics.period import Period, parse_period
from core.store.statistics import StatisticsRepository

HOUR = 3600.0


@dataclass
class _Tally:
    """Running sums of one unit while the figures are counted."""

    unit: OrgUnit
    institutions: int = 0
    cameras: int = 0
    required: int = 0
    installed: int = 0
    complete: int = 0
    missing: list[MissingCamera] = field(default_factory=list)
    online: int = 0
    samples: int = 0
    recorded_s: float = 0.0
    expected_s: float = 0.0
    by_state: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    overdue: int = 0
    rectify_s: float = 0.0
    violation_cases: int = 0
    false_alarms: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    inspections: list[int] = field(default_factory=lambda: [0, 0, 0])  # due, done, overdue
    town_inspections: list[int] = field(default_factory=lambda: [0, 0, 0])

    def add(self, other: _Tally) -> None:
        for name in ("institutions", "cameras", "required", "installed", "complete", "online", "samples"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("recorded_s", "expected_s", "overdue", "rectify_s", "violation_cases", "false_alarms"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.missing += other.missing
        self.by_state.update(other.by_state)
        self.by_kind.update(other.by_kind)
        self.violations.update(other.violations)
        self.inspections = [a + b for a, b in zip(self.inspections, other.inspections, strict=True)]
        self.town_inspections = [a + b for a, b in zip(self.town_inspections, other.town_inspections, strict=True)]

    def figures(self) -> UnitFigures:
        cases = sum(self.by_state.values())
        verified = self.by_state[CaseState.VERIFIED]
        return UnitFigures(
            id=self.unit.id,
            name=self.unit.name,
            kind=self.unit.kind,
            institutions=self.institutions,
            cameras=self.cameras,
            cameras_required=self.required,
            cameras_installed=self.installed,
            installation_rate=_rate(self.installed, self.required),
            institutions_complete=self.complete,
            missing=list(self.missing),
            online_rate=_rate(self.online, self.samples),
            online_samples=self.samples,
            recorded_hours=round(self.recorded_s / HOUR, 3),
            expected_hours=round(self.expected_s / HOUR, 3),
            recording_completeness=_rate(self.recorded_s, self.expected_s),
            cases=cases,
            cases_by_state={state.value: self.by_state[state] for state in CaseState},
            cases_by_kind=dict(self.by_kind.most_common()),
            cases_open=sum(n for state, n in self.by_state.items() if state not in CLOSED),
            cases_overdue=self.overdue,
            cases_verified=verified,
            rectify_hours_mean=round(self.rectify_s / verified / HOUR, 2) if verified else None,
            violation_cases=self.violation_cases,
            false_alarms=self.false_alarms,
            false_alarm_rate=_rate(self.false_alarms, self.violation_cases),
            violations=sum(self.violations.values()),
            violations_by_kind=dict(self.violations.most_common()),
            inspections_due=self.inspections[0],
            inspections_done=self.inspections[1],
            inspections_overdue=self.inspections[2],
            town_inspections_due=self.town_inspections[0],
            town_inspections_done=self.town_inspections[1],
            town_inspections_overdue=self.town_inspections[2],
        )


def compute(
    config: Config, tree: OrgTree, repo: StatisticsRepository, unit_id: str, period: Period, now: float
) -> Statistics:
    """The figures of `unit_id` (which must be in `tree`) over `period`, as of `now`. Blocking: run it in a
    worker thread."""
    unit = tree.units[unit_id]
    towns = [t for t in config.organisation.towns if tree.contains(unit_id, t.id) or tree.contains(t.id, unit_id)]
    institutions = [i for t in towns for i in t.institutions if tree.contains(unit_id, i.id)]
    inst_ids = [i.id for i in institutions]
    tallies = {i.id: _Tally(tree.units[i.id], institutions=1) for i in institutions}
    cameras = [c for c in config.cameras if c.institution in tallies]

    # 安装率: a role slot per required camera of each institution.
    for inst in institutions:
        tally = tallies[inst.id]
        roles = REQUIRED_ROLES + ((KITCHEN,) if inst.canteen else ())
        present = {c.role for c in cameras if c.institution == inst.id and c.enabled}
        tally.required = len(roles)
        tally.installed = sum(role in present for role in roles)
        tally.complete = int(tally.installed == tally.required)
        tally.missing = [MissingCamera(inst.id, inst.name, role) for role in roles if role not in present]

    # Health and recordings, per camera, only over what has happened: the period clipped to now.
    until = min(period.end, now)
    enabled = [c.id for c in cameras if c.enabled]
    samples = repo.health_samples(enabled, period.start, until)
    spans = repo.camera_spans([c.id for c in cameras])
    camera_rows: dict[str, list[float]] = {}  # online, samples, recorded_s, expected_s
    for cam in cameras:
        tally = tallies[cam.institution]
        online, taken = samples.get(cam.id, (0, 0)) if cam.enabled else (0, 0)
        recorded = expected = 0.0
        if cam.enabled and cam.record and config.recording.enabled:
            span = spans.get(cam.id)
            # Expected from when the camera was configured, and only as far back as its retention: older video
            # has been deleted on purpose and its index rows with it.
            start = max(
                period.start, span.created_at if span else period.start, now - config.retention_hours(cam) * HOUR
            )
            end = min(until, span.removed_at or until) if span else until
            expected = max(0.0, end - start)
            recorded = min(expected, repo.recorded_seconds(cam.id, start, end)) if expected else 0.0
        tally.cameras += int(cam.enabled)
        tally.online += online
        tally.samples += taken
        tally.recorded_s += recorded
        tally.expected_s += expected
        camera_rows[cam.id] = [online, taken, recorded, expected]

    # Cases opened in the period and violations started in it.
    camera_violations: Counter[str] = Counter()
    camera_false_alarms: Counter[str] = Counter()
    for group in repo.case_groups(inst_ids, period.start, period.end, now):
        tally = tallies[group.institution_id]
        tally.by_state[group.state] += group.count
        tally.by_kind[group.kind] += group.count
        tally.overdue += group.overdue
        tally.rectify_s += group.rectify_s
        if group.source == "violation":
            tally.violation_cases += group.count
            if group.state == CaseState.DISMISSED:
                tally.false_alarms += group.count
                camera_false_alarms[group.camera_id or ""] += group.count
    for institution_id, camera_id, kind, count in repo.violation_counts(inst_ids, period.start, period.end):
        tallies[institution_id].violations[kind] += count
        camera_violations[camera_id] += count

    # Inspections: one per institution per month, one per town per quarter, of the months and quarters begun.
    months = [m for m in period.months() if parse_period(m).start < now]
    done = repo.finished_inspections("institution", inst_ids, months)
    for inst_id, tally in tallies.items():
        for month in months:
            tally.inspections[0] += 1
            if (inst_id, month) in done:
                tally.inspections[1] += 1
            elif parse_period(month).end <= now:
                tally.inspections[2] += 1
    town_ids = [t.id for t in towns if tree.contains(unit_id, t.id)]
    quarters = [q for q in period.quarters() if parse_period(q).start < now]
    town_done = repo.finished_inspections("town", town_ids, quarters)
    town_tallies: dict[str, _Tally] = {}
    for town in towns:
        town_tally = _Tally(tree.units[town.id])
        for inst in town.institutions:
            if inst.id in tallies:
                town_tally.add(tallies[inst.id])
        if town.id in town_ids:
            for quarter in quarters:
                town_tally.town_inspections[0] += 1
                if (town.id, quarter) in town_done:
                    town_tally.town_inspections[1] += 1
                elif parse_period(quarter).end <= now:
                    town_tally.town_inspections[2] += 1
        town_tallies[town.id] = town_tally

    if unit.kind == "institution":
        total, children = tallies[unit.id], []
    elif unit.id in town_tallies:
        total, children = town_tallies[unit.id], [tallies[i.id] for i in institutions]
    else:
        total = _Tally(unit)
        for town_tally in town_tallies.values():
            total.add(town_tally)
        children = list(town_tallies.values())

    return Statistics(
        period=PeriodView(
            key=period.key,
            kind=period.kind,
            label=period.label,
            first_day=period.first_day.isoformat(),
            last_day=period.last_day.isoformat(),
            start=period.start,
            end=period.end,
        ),
        generated_at=now,
        unit=total.figures(),
        children=[child.figures() for child in children],
        cameras=[
            CameraFigures(
                id=cam.id,
                name=cam.name,
                role=cam.role,
                institution_id=cam.institution,
                institution=tree.units[cam.institution].name,
                town=parent.name if (parent := tree.town_of(cam.institution)) else "",
                enabled=cam.enabled,
                online_rate=_rate(camera_rows[cam.id][0], camera_rows[cam.id][1]),
                online_samples=int(camera_rows[cam.id][1]),
                recorded_hours=round(camera_rows[cam.id][2] / HOUR, 3),
                expected_hours=round(camera_rows[cam.id][3] / HOUR, 3),
                recording_completeness=_rate(camera_rows[cam.id][2], camera_rows[cam.id][3]),
                violations=camera_violations[cam.id],
                false_alarms=camera_false_alarms[cam.id],
            )
            for cam in cameras
        ],
    )


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None

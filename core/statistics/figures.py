"""What compliance statistics report: the figures of one organisation unit, or one camera, over a period.

Rates are fractions (0–1), None where there is nothing to divide by (no camera sampled, nothing expected to be
recorded, no case closed): "no data" must not read as 0 % or 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Every institution must watch these (the plan's 安装率); the kitchen only where it has a canteen.
REQUIRED_ROLES = ("gate", "duty_room", "evacuation_route")
KITCHEN = "kitchen"


@dataclass(frozen=True, slots=True)
class MissingCamera:
    """A required camera an institution lacks."""

    institution_id: str
    institution: str
    role: str


@dataclass(frozen=True, slots=True)
class UnitFigures:
    id: str
    name: str
    kind: str  # bureau | town | park | subdistrict | institution
    institutions: int
    cameras: int  # configured and enabled
    # 安装率: of the required cameras (a role slot per institution), how many are there.
    cameras_required: int
    cameras_installed: int
    installation_rate: float | None
    institutions_complete: int  # institutions with every required camera
    missing: list[MissingCamera]
    # 在线率: share of the health samples (one a minute) taken while the camera was online.
    online_rate: float | None
    online_samples: int
    # 录像完整率: hours the recordings index holds / hours it should hold.
    recorded_hours: float
    expected_hours: float
    recording_completeness: float | None
    # Cases (隐患) opened in the period, as they stand now.
    cases: int
    cases_by_state: dict[str, int]
    cases_by_kind: dict[str, int]
    cases_open: int  # not yet verified or dismissed
    cases_overdue: int  # ran past their deadline
    cases_verified: int
    rectify_hours_mean: float | None  # opening to verification, of the verified ones
    violation_cases: int  # opened by a violation
    false_alarms: int  # of those, dismissed as false alarms
    false_alarm_rate: float | None
    # Violations started in the period.
    violations: int
    violations_by_kind: dict[str, int]
    # Inspections (巡查): a town's of each institution monthly, the bureau's of each town quarterly. Due: those of
    # the period that have begun; overdue: those whose month or quarter has ended unfinished.
    inspections_due: int
    inspections_done: int
    inspections_overdue: int
    town_inspections_due: int
    town_inspections_done: int
    town_inspections_overdue: int


@dataclass(frozen=True, slots=True)
class CameraFigures:
    id: str
    name: str
    role: str
    institution_id: str
    institution: str
    town: str
    enabled: bool
    online_rate: float | None
    online_samples: int
    recorded_hours: float
    expected_hours: float
    recording_completeness: float | None
    violations: int
    false_alarms: int


@dataclass(frozen=True, slots=True)
class PeriodView:
    key: str
    kind: str
    label: str
    first_day: str
    last_day: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Statistics:
    """A unit's figures over a period, a row per child unit (drill-down) and a row per camera below it."""

    period: PeriodView
    generated_at: float
    unit: UnitFigures
    children: list[UnitFigures] = field(default_factory=list)
    cameras: list[CameraFigures] = field(default_factory=list)

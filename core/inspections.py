"""Periodic inspections (定期巡查): who inspects whom how often, the periods they fall in, and what is due.

Each town inspects every one of its institutions once a month; the bureau inspects every town once a quarter.
An inspection belongs to the period of the day it started, in the service's local time (the county's). A unit's
inspection of a period is *due* while the period runs and none is finished, *overdue* once the period has ended
without one, and *done* once one is finished. Nothing is scheduled ahead: what is due is read from the
organisation and the inspections recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.organisation import OrgTree
from core.roles import TOWN_KINDS


class Level(StrEnum):
    INSTITUTION = "institution"  # a town inspects its institution, monthly
    TOWN = "town"  # the bureau inspects a town, quarterly


class Mode(StrEnum):
    REMOTE = "remote"  # through a spot check of the cameras; its snapshots are the evidence
    ON_SITE = "on_site"  # in person; photos uploaded


class Result(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: str
    label: str
    label_en: str
    hazard: str  # the case kind (core/cases.HAZARD_KINDS) a failure of it opens


# The plan's checklist (检查项目).
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        "gate", "大门管理（门卫在岗、出入登记）", "Gate: guard on duty, visitors registered", "gate_unattended"
    ),
    ChecklistItem("duty_room", "值班室有人值守", "Duty / fire-control room staffed", "duty_room_unattended"),
    ChecklistItem(
        "evacuation_routes", "疏散通道、安全出口畅通", "Evacuation routes and exits clear", "evacuation_route_blocked"
    ),
    ChecklistItem("kitchen_cameras", "厨房摄像机正常工作", "Kitchen cameras working", "kitchen_camera_fault"),
    ChecklistItem("gas_alarm", "燃气泄漏报警装置完好", "Gas-leak alarm working", "gas_alarm_missing"),
    ChecklistItem(
        "electrical_fire_alarm",
        "电气火灾监控装置完好",
        "Electrical-fire alarm working",
        "electrical_fire_alarm_missing",
    ),
    ChecklistItem("sprinklers", "自动喷水灭火设施完好", "Fire sprinklers working", "sprinklers_faulty"),
    ChecklistItem("fire_team", "微型消防站（志愿消防队）到位", "Volunteer fire team in place", "fire_team_absent"),
)
CHECKLIST_BY_ID = {item.id: item for item in CHECKLIST}
CHECKLIST_IDS = tuple(CHECKLIST_BY_ID)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class NotInspectable(ValueError):
    """A unit that no one inspects by this plan (the bureau itself), or a period of the wrong shape."""


def level_of(kind: str) -> Level:
    if kind == "institution":
        return Level.INSTITUTION
    if kind in TOWN_KINDS:
        return Level.TOWN
    raise NotInspectable(f"a {kind} is not inspected: the plan inspects institutions and towns")


def period_of(level: Level, at: float) -> str:
    """The period a moment falls in: '2026-12' for institutions, '2026-Q4' for towns."""
    day = dt.datetime.fromtimestamp(at)
    if level is Level.INSTITUTION:
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def period_bounds(period: str) -> tuple[float, float]:
    """[start, end) of a period, as Unix seconds in local time."""
    if match := _MONTH.match(period):
        year, month = int(match.group(1)), int(match.group(2))
        first, months = dt.datetime(year, month, 1), 1
    elif match := _QUARTER.match(period):
        year, quarter = int(match.group(1)), int(match.group(2))
        first, months = dt.datetime(year, 3 * quarter - 2, 1), 3
    else:
        raise NotInspectable(f"period {period!r}: expected YYYY-MM or YYYY-Qn")
    following = first.month - 1 + months
    end = dt.datetime(first.year + following // 12, following % 12 + 1, 1)
    return first.timestamp(), end.timestamp()


def level_of_period(period: str) -> Level:
    if _MONTH.match(period):
        return Level.INSTITUTION
    if _QUARTER.match(period):
        return Level.TOWN
    raise NotInspectable(f"period {period!r}: expected YYYY-MM or YYYY-Qn")


def inspector_unit(tree: OrgTree, unit_id: str) -> str | None:
    """The unit whose people inspect `unit_id`: an institution's town, a town's bureau."""
    unit = tree.units.get(unit_id)
    return unit.parent_id if unit is not None else None


class DueState(StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Due:
    unit_id: str
    level: Level
    period: str
    ends_at: float
    state: DueState
    inspection_id: int | None  # the finished one, or the one under way


def due_inspections(
    tree: OrgTree,
    scope_id: str,
    periods: Mapping[Level, Iterable[str]],
    recorded: Mapping[tuple[str, str], tuple[int, bool]],
    now: float,
) -> list[Due]:
    """Every inspection the plan asks for in `scope_id`'s subtree over the given periods, with its state.

    `recorded` maps (unit, period) to (inspection id, finished) for the inspections on record (a finished one
    preferred where there are several).
    """
    found = []
    for level, level_periods in periods.items():
        units = [
            unit
            for unit in tree.units.values()
            if (unit.kind == "institution" if level is Level.INSTITUTION else unit.kind in TOWN_KINDS)
            and tree.contains(scope_id, unit.id)
        ]
        for period in level_periods:
            _, ends_at = period_bounds(period)
            for unit in units:
                inspection_id, finished = recorded.get((unit.id, period), (None, False))
                if finished:
                    state = DueState.DONE
                else:
                    state = DueState.OVERDUE if now >= ends_at else DueState.DUE
                found.append(Due(unit.id, level, period, ends_at, state, inspection_id))
    return found

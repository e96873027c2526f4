"""The inspection plan (core/inspections.py): periods, who is inspected, what is due, done or overdue."""

from __future__ import annotations

import datetime as dt

import pytest

from core.inspections import (
    DueState,
    Level,
    NotInspectable,
    due_inspections,
    level_of,
    period_bounds,
    period_of,
)
from core.organisation import OrgTree
from service.configuration import parse_config

TREE = OrgTree(
    parse_config(
        {
            "organisation": {
                "id": "qd",
                "name": "启东市民政局",
                "towns": [
                    {
                        "id": "hl",
                        "name": "汇龙镇",
                        "institutions": [{"id": "hl-a", "name": "A"}, {"id": "hl-b", "name": "B"}],
                    },
                    {"id": "ny", "name": "南阳镇", "institutions": [{"id": "ny-a", "name": "C"}]},
                ],
            }
        }
    )
)


def at(*when: int) -> float:
    return dt.datetime(*when).timestamp()  # type: ignore[arg-type]


def test_periods_are_local_months_and_quarters() -> None:
    assert period_of(Level.INSTITUTION, at(2026, 12, 31, 23, 59)) == "2026-12"
    assert period_of(Level.TOWN, at(2026, 12, 31, 23, 59)) == "2026-Q4"
    assert period_of(Level.TOWN, at(2027, 1, 1, 0, 0)) == "2027-Q1"
    assert period_bounds("2026-12") == (at(2026, 12, 1), at(2027, 1, 1))
    assert period_bounds("2026-Q1") == (at(2026, 1, 1), at(2026, 4, 1))
    assert period_bounds("2026-02")[1] == at(2026, 3, 1)
    for bad in ("2026-13", "2026-Q5", "December"):
        with pytest.raises(NotInspectable):
            period_bounds(bad)


def test_who_is_inspected() -> None:
    assert level_of("institution") is Level.INSTITUTION and level_of("subdistrict") is Level.TOWN
    with pytest.raises(NotInspectable):
        level_of("bureau")


def test_due_done_and_overdue_in_the_callers_unit() -> None:
    periods = {Level.INSTITUTION: ["2026-11", "2026-12"], Level.TOWN: ["2026-Q4"]}
    recorded = {("hl-a", "2026-11"): (7, True), ("hl-b", "2026-12"): (9, False)}
    now = at(2026, 12, 10)
    found = {(d.unit_id, d.period): d for d in due_inspections(TREE, "hl", periods, recorded, now)}
    assert set(found) == {("hl-a", "2026-11"), ("hl-b", "2026-11"), ("hl-a", "2026-12"), ("hl-b", "2026-12"),
                          ("hl", "2026-Q4")}  # fmt: skip
    assert found["hl-a", "2026-11"].state is DueState.DONE and found["hl-a", "2026-11"].inspection_id == 7
    assert found["hl-b", "2026-11"].state is DueState.OVERDUE  # November ended without one
    assert found["hl-b", "2026-12"].state is DueState.DUE and found["hl-b", "2026-12"].inspection_id == 9
    assert found["hl", "2026-Q4"].state is DueState.DUE
    bureau = due_inspections(TREE, "qd", {Level.TOWN: ["2026-Q4"]}, {}, now)
    assert {d.unit_id for d in bureau} == {"hl", "ny"}


def test_every_failed_checklist_item_opens_a_known_kind_of_case() -> None:
    from core.cases import HAZARD_KINDS
    from core.inspections import CHECKLIST

    assert len(CHECKLIST) == 8 and all(item.hazard in HAZARD_KINDS for item in CHECKLIST)

"""The life of a case (隐患): which change may follow which, when it is due, when it is overdue.

    open → acknowledged → rectifying → rectified → verified (closed)
                                          ↑______________| rejected by the verifier
    open / acknowledged / rectifying → dismissed (a false alarm, with its reason)

The rules are here, apart from the store and the API, so that both apply the same ones and a unit test can
read them whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class CaseState(StrEnum):
    OPEN = "open"  # 待处理
    ACKNOWLEDGED = "acknowledged"  # 已确认
    RECTIFYING = "rectifying"  # 整改中
    RECTIFIED = "rectified"  # 已整改, waiting for the verifier
    VERIFIED = "verified"  # 已验收: closed
    DISMISSED = "dismissed"  # 误报: closed


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    START_RECTIFYING = "start_rectifying"
    RECTIFIED = "rectified"
    VERIFY = "verify"
    REJECT = "reject"
    DISMISS = "dismiss"


SEVERITIES = ("urgent", "major", "minor")
CLOSED = frozenset({CaseState.VERIFIED, CaseState.DISMISSED})
# A case in one of these states can run late: once rectified it waits on the verifier, not the institution.
RUNNING = frozenset({CaseState.OPEN, CaseState.ACKNOWLEDGED, CaseState.RECTIFYING})


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[CaseState]
    to: CaseState
    zh: str


TRANSITIONS: dict[Action, Transition] = {
    Action.ACKNOWLEDGE: Transition(frozenset({CaseState.OPEN}), CaseState.ACKNOWLEDGED, "确认"),
    Action.START_RECTIFYING: Transition(frozenset({CaseState.ACKNOWLEDGED}), CaseState.RECTIFYING, "开始整改"),
    Action.RECTIFIED: Transition(frozenset({CaseState.RECTIFYING}), CaseState.RECTIFIED, "整改完成"),
    Action.VERIFY: Transition(frozenset({CaseState.RECTIFIED}), CaseState.VERIFIED, "验收通过"),
    Action.REJECT: Transition(frozenset({CaseState.RECTIFIED}), CaseState.RECTIFYING, "验收不通过"),
    Action.DISMISS: Transition(RUNNING, CaseState.DISMISSED, "误报撤销"),
}


class IllegalTransition(Exception):
    """The change does not follow from the case's state (the API answers 409 with this message)."""


def next_state(case_id: int, state: str, action: Action) -> CaseState:
    """The state `action` leads to from `state`; IllegalTransition naming both when it cannot be taken."""
    rule = TRANSITIONS[action]
    if state not in rule.allowed_from:
        allowed = " or ".join(sorted(rule.allowed_from))
        raise IllegalTransition(f"case {case_id} is {state}: '{action}' needs a case that is {allowed}")
    return rule.to


def deadline(severity: str, opened_at: float, hours: Mapping[str, float]) -> float:
    """When the institution must have rectified a case of `severity` opened at `opened_at`."""
    return opened_at + hours[severity] * 3600.0


def is_overdue(state: str, deadline_at: float, now: float) -> bool:
    return state in RUNNING and now > deadline_at


# Hazards an inspector records during a spot check (the plan's checklist), beside the detectors' violation kinds.
HAZARD_KINDS: dict[str, tuple[str, str]] = {
    "gate_unattended": ("门岗无人值守", "Gate unattended"),
    "duty_room_unattended": ("值班室脱岗", "Duty room unattended"),
    "evacuation_route_blocked": ("疏散通道堵塞", "Evacuation route blocked"),
    "kitchen_camera_fault": ("厨房摄像机故障", "Kitchen camera not working"),
    "gas_alarm_missing": ("燃气报警器缺失或故障", "Gas-leak alarm missing or faulty"),
    "electrical_fire_alarm_missing": ("电气火灾报警缺失或故障", "Electrical-fire alarm missing or faulty"),
    "sprinklers_faulty": ("喷淋设施故障", "Fire sprinklers faulty"),
    "fire_team_absent": ("微型消防站未落实", "Volunteer fire team not in place"),
    "other_hazard": ("其他隐患", "Other hazard"),
}

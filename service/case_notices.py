"""Cases told to the notifiers: an urgent case opened (`urgent_case_opened`) and any case past its deadline
(`case_overdue`). A `CaseListener` of the case desk, called from its worker thread; `Notifications.notify` only
writes the messages to the store, so the desk is not held up by a slow receiver."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.cases import HAZARD_KINDS
from core.config.notifications import Event, Severity
from core.organisation import OrgTree
from core.store.cases import Case
from detectors.registry import KINDS
from notify.notice import case_notice
from notify.service import Notifications


def kind_label(kind: str) -> str:
    known = KINDS.get(kind)
    if known is not None:
        return known.zh
    return HAZARD_KINDS[kind][0] if kind in HAZARD_KINDS else kind


def _severity(severity: str) -> Severity:
    if severity == "urgent":
        return "urgent"
    return "minor" if severity == "minor" else "major"


class CaseNotices:
    def __init__(
        self, notifications: Notifications, tree: Callable[[], OrgTree], public_url: Callable[[], str | None]
    ) -> None:
        self._notifications = notifications
        self._tree = tree
        self._public_url = public_url

    def opened(self, case: Case) -> None:
        if case.severity == "urgent":
            self._tell("urgent_case_opened", case)

    def overdue(self, case: Case) -> None:
        self._tell("case_overdue", case)

    def _tell(self, event: Event, case: Case) -> None:
        institution = self._tree().units.get(case.institution_id)
        deadline = dt.datetime.fromtimestamp(case.deadline_at).astimezone().strftime("%Y-%m-%d %H:%M")
        detail = [f"摄像机：{case.camera_id}" if case.camera_id else "", case.description or ""]
        if event == "case_overdue" and case.escalated_to:
            escalated = self._tree().units.get(case.escalated_to)
            detail.append(f"已上报：{escalated.name if escalated else case.escalated_to}")
        self._notifications.notify(
            case_notice(
                event,
                case_id=case.id,
                kind_label=kind_label(case.kind),
                severity=_severity(case.severity),
                institution_id=case.institution_id,
                institution_name=institution.name if institution else case.institution_id,
                deadline=deadline,
                detail="\n".join(line for line in detail if line),
                public_url=self._public_url(),
            )
        )

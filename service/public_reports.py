"""Public reports in the running service: accepting one opens a case through the case desk, with the report's
photos as its first evidence, so the hazard then follows the normal case flow (assigned to the institution's
safety manager, deadline by severity, verified by the town).

Opening the case and marking the report are two transactions of two repositories; an acceptance cut short
between them leaves a case whose `source_id` names the report, and the next acceptance adopts it instead of
opening a second. One lock makes two officers accepting at once take turns.
"""

from __future__ import annotations

import threading
import time

from core.store import Store
from core.store.cases import Actor, Case, NewEvidence
from core.store.reports import Report, ReportStateError
from service.cases import CaseDesk

SOURCE = "public_report"


class ReportDesk:
    def __init__(self, store: Store, cases: CaseDesk) -> None:
        self._store = store
        self._cases = cases
        self._lock = threading.Lock()

    def accept(self, report_id: int, *, kind: str, severity: str, note: str | None, by: Actor) -> tuple[Report, Case]:
        """The report becomes a case of `kind` and `severity`; LookupError when there is no such report,
        ReportStateError when it was triaged already."""
        store = self._store
        with self._lock:
            report = store.reports.get(report_id)
            if report is None:
                raise LookupError(f"no report {report_id}")
            if report.state != "received":
                raise ReportStateError(f"report {report_id} is {report.state}: only a received report can be accepted")
            adopted = store.reports.case_opened_for(report_id)
            case = store.cases.get(adopted) if adopted is not None else None
            opened = case is None
            if case is None:
                case = self._open(report, kind, severity, note, by)
            accepted = store.reports.accepted(report_id, case.id, by.username or "", time.time())
        if opened:
            self._cases.tell("opened", case)
        return accepted, case

    def _open(self, report: Report, kind: str, severity: str, note: str | None, by: Actor) -> Case:
        store = self._store
        photos = []
        for photo in store.reports.photos(report.id):
            found = store.reports.photo_data(report.id, photo.id)
            if found is not None:
                photos.append(NewEvidence("public_report", f"{report.id}/{photo.id}", found[0], found[1], "举报人照片"))
        description = report.description if not report.place else f"{report.description}\n地点：{report.place}"
        if note:
            description += f"\n受理意见：{note}"
        now = time.time()
        return store.cases.open(
            institution_id=report.institution_id,
            camera_id=None,
            kind=kind,
            zone=None,
            severity=severity,
            description=description,
            source=SOURCE,
            source_id=str(report.id),
            deadline_at=self._cases.deadline_for(severity, now),
            assignee_id=store.cases.safety_manager(report.institution_id),
            by=by,
            evidence=photos,
            now=now,
        )

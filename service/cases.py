"""Cases in the running service: every violation that starts becomes a case (or joins its open one), a sweep
flags and escalates overdue cases, closing a case lets its video go, and listeners (notifiers) are told.

Both loops follow durable state (the violation event log, the cases' deadlines), so nothing is lost when the
service stops between a violation and its case; blocking work runs in threads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from core.cases import CLOSED, Action, deadline
from core.config.cases import CasesConfig
from core.organisation import OrgTree
from core.store import Store
from core.store.cases import Actor, Case, NewEvidence
from detectors.violations.feed import ViolationFeed

log = logging.getLogger(__name__)

_POLL_S = 2.0  # the intake also looks this often when no live event woke it


class CaseListener(Protocol):
    """Told of cases that need someone's attention (the notifiers plug in here). Called from a worker
    thread; an exception is logged and does not stop the others."""

    def opened(self, case: Case) -> None:
        """A case was opened (look at `case.severity`: 'urgent' ones call for a message at once)."""

    def overdue(self, case: Case) -> None:
        """A case passed its deadline unrectified and was escalated to its town."""


class VideoHolds(Protocol):
    """What holds a violation's recorded video (recordings.evidence.EvidenceClips)."""

    def release(self, violation_id: int) -> None: ...


class CaseDesk:
    """The service's side of cases: intake from violations, the overdue sweep, closing, listeners."""

    def __init__(
        self,
        store: Store,
        config: Callable[[], CasesConfig],
        tree: Callable[[], OrgTree],
        severity_of: Callable[[str], str],
        holds: VideoHolds,
        feed: ViolationFeed,
    ) -> None:
        self._store = store
        self._config = config
        self._tree = tree
        self._severity_of = severity_of
        self._holds = holds
        self._feed = feed
        self._listeners: list[CaseListener] = []
        self._tasks: list[asyncio.Task[None]] = []

    def add_listener(self, listener: CaseListener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._intake_loop()), asyncio.create_task(self._sweep_loop())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def deadline_for(self, severity: str, opened_at: float) -> float:
        return deadline(severity, opened_at, self._config().deadline_hours.model_dump())

    # --- intake -------------------------------------------------------------------------------

    def intake(self) -> int:
        """Turn the violations started since the last call into cases; returns how many events were read."""
        cases = self._store.cases
        events = self._store.violations.events_after(cases.intake_cursor())
        for event in events:
            if event.phase != "started":
                cases.skip_to(event.id)
                continue
            record = event.violation
            severity = self._severity_of(record.type)
            now = time.time()
            taken = cases.take_violation(
                event_id=event.id,
                violation_id=record.id,
                institution_id=record.institution_id,
                camera_id=record.camera_id,
                kind=record.type,
                zone=record.zone,
                severity=severity,
                deadline_at=self.deadline_for(severity, now),
                assignee_id=cases.safety_manager(record.institution_id),
                now=now,
            )
            if taken is None:
                continue
            case, opened = taken
            if opened:
                log.info("case %s opened for violation %s (%s)", case.id, record.id, record.type)
                self.tell("opened", case)
            else:
                log.info("violation %s joined case %s", record.id, case.id)
        return len(events)

    async def _intake_loop(self) -> None:
        async with self._feed.listen() as wake:
            while True:
                try:
                    while await asyncio.to_thread(self.intake) >= 500:
                        pass  # a backlog: read on before waiting
                except Exception:
                    log.exception("cases: turning violations into cases failed; trying again")
                try:
                    await asyncio.wait_for(wake.get(), _POLL_S)
                    while not wake.empty():
                        wake.get_nowait()
                except TimeoutError:
                    pass

    # --- overdue ------------------------------------------------------------------------------

    def sweep(self, now: float | None = None) -> list[Case]:
        """Flag the cases past their deadline and escalate each to its institution's town."""
        tree = self._tree()
        towns = {
            unit.id: (town.id if (town := tree.town_of(unit.id)) else None)
            for unit in tree.units.values()
            if unit.kind == "institution"
        }
        escalated = self._store.cases.escalate_overdue(time.time() if now is None else now, towns)
        for case in escalated:
            log.warning("case %s is overdue: escalated to %s", case.id, case.escalated_to)
            self.tell("overdue", case)
        return escalated

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:
                log.exception("cases: the overdue sweep failed")
            await asyncio.sleep(self._config().sweep_s)

    # --- changes that reach beyond the store --------------------------------------------------

    def transition(self, case_id: int, action: Action, by: Actor, detail: str | None = None) -> Case:
        """Take `action` (see CaseRepository.transition); a case that closes lets its violations' video go."""
        case = self._store.cases.transition(case_id, action, by, detail)
        if case.state in CLOSED:
            for violation_id in self._store.cases.violations(case.id):
                try:
                    self._holds.release(violation_id)
                except Exception:
                    log.exception("case %s: releasing the video of violation %s failed", case.id, violation_id)
        return case

    def open_from_spot_check(
        self,
        *,
        check_id: int,
        institution_id: str,
        camera_id: str | None,
        kind: str,
        zone: str | None,
        severity: str,
        description: str | None,
        evidence_ids: list[int],
        by: Actor,
    ) -> Case:
        """A hazard an inspector recorded during a spot check, with its snapshots copied in as evidence."""
        pictures = []
        for evidence_id in evidence_ids:
            jpeg = self._store.spot_checks.evidence_jpeg(check_id, evidence_id)
            if jpeg is None:
                raise LookupError(f"no evidence {evidence_id} in spot check {check_id}")
            pictures.append(NewEvidence("spot_check", f"{check_id}/{evidence_id}", "image/jpeg", jpeg))
        now = time.time()
        case = self._store.cases.open(
            institution_id=institution_id,
            camera_id=camera_id,
            kind=kind,
            zone=zone,
            severity=severity,
            description=description,
            source="spot_check",
            source_id=str(check_id),
            deadline_at=self.deadline_for(severity, now),
            assignee_id=self._store.cases.safety_manager(institution_id),
            by=by,
            evidence=pictures,
            now=now,
        )
        self.tell("opened", case)
        return case

    def tell(self, what: str, case: Case) -> None:
        for listener in list(self._listeners):
            try:
                getattr(listener, what)(case)
            except Exception:
                log.exception("case listener %r failed on %s of case %s", listener, what, case.id)

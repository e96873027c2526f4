"""Cases (隐患), the violations they stand for, their history, comments and evidence.

Every change is one transaction that also appends its history row, and a state change is taken against the
state read inside that transaction, so two people acting at once cannot both move the same case.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.cases import CLOSED, RUNNING, Action, CaseState, IllegalTransition, next_state
from core.store.database import Database
from core.store.scope import institutions_clause


class MissingEvidence(IllegalTransition):
    """A rectification reported without a photo of it."""


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    institution_id: str
    camera_id: str | None
    kind: str
    zone: str | None
    severity: str
    description: str | None
    source: str  # violation | spot_check | public_report …
    source_id: str | None
    state: str
    assignee_id: int | None
    assignee: str | None  # the assignee's user name
    opened_at: float
    opened_by: str | None  # None: opened by the service (a violation)
    deadline_at: float
    rectifying_at: float | None
    closed_at: float | None
    dismiss_reason: str | None
    overdue_at: float | None  # when the sweep first found it past its deadline
    escalated_at: float | None
    escalated_to: str | None  # the unit it was escalated to (the town)
    updated_at: float
    violations: int  # how many violations it stands for


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    at: float
    username: str | None  # None: the service itself
    action: str
    from_state: str | None
    to_state: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    at: float
    username: str
    text: str


@dataclass(frozen=True, slots=True)
class Evidence:
    id: int
    at: float
    username: str | None
    origin: str  # upload | violation | spot_check
    origin_ref: str | None
    content_type: str
    size: int
    note: str | None


@dataclass(frozen=True, slots=True)
class NewEvidence:
    origin: str
    origin_ref: str | None
    content_type: str
    data: bytes
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changes a case: a user, or the service itself (user_id and username None)."""

    user_id: int | None
    username: str | None


SERVICE = Actor(None, None)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    institutions: Sequence[str] | None = None  # None: any (already narrowed to the caller's scope)
    state: str | None = None
    kind: str | None = None
    overdue: bool | None = None
    now: float = 0.0  # what `overdue` is judged against
    limit: int = 100
    before_id: int | None = None  # paging: older than this id


_COLUMNS = (
    "c.id, c.institution_id, c.camera_id, c.kind, c.zone, c.severity, c.description, c.source, c.source_id,"
    " c.state, c.assignee_id, u.username AS assignee, c.opened_at, c.opened_by, c.deadline_at, c.rectifying_at,"
    " c.closed_at, c.dismiss_reason, c.overdue_at, c.escalated_at, c.escalated_to, c.updated_at,"
    " (SELECT COUNT(*) FROM case_violations cv WHERE cv.case_id = c.id) AS violations"
)
_FROM = "FROM cases c LEFT JOIN users u ON u.id = c.assignee_id"
_RUNNING = ", ".join(f"'{s.value}'" for s in sorted(RUNNING))
_CLOSED = ", ".join(f"'{s.value}'" for s in sorted(CLOSED))


class CaseRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- opening ------------------------------------------------------------------------------

    def open(
        self,
        *,
        institution_id: str,
        camera_id: str | None,
        kind: str,
        zone: str | None,
        severity: str,
        description: str | None,
        source: str,
        source_id: str | None,
        deadline_at: float,
        assignee_id: int | None,
        by: Actor,
        evidence: Iterable[NewEvidence] = (),
        now: float | None = None,
    ) -> Case:
        now = time.time() if now is None else now
        with self._db.write() as cur:
            case_id = _insert(
                cur, institution_id, camera_id, kind, zone, severity, description, source, source_id, deadline_at,
                assignee_id, by, now,
            )  # fmt: skip
            for item in evidence:
                _add_evidence(cur, case_id, by, item, now)
            return _get(cur, case_id)

    def intake_cursor(self) -> int:
        """The last violation event already turned into cases."""
        return int(self._db.read("SELECT last_event_id FROM case_intake WHERE id = 1")[0]["last_event_id"])

    def skip_to(self, event_id: int) -> None:
        """Events up to `event_id` need no case (ends, reopenings, clips)."""
        with self._db.write() as cur:
            cur.execute("UPDATE case_intake SET last_event_id = MAX(last_event_id, ?) WHERE id = 1", (event_id,))

    def take_violation(
        self,
        *,
        event_id: int,
        violation_id: int,
        institution_id: str,
        camera_id: str,
        kind: str,
        zone: str | None,
        severity: str,
        deadline_at: float,
        assignee_id: int | None,
        now: float | None = None,
    ) -> tuple[Case, bool] | None:
        """A violation started (event `event_id` of the log): it joins the open case of its camera, kind and
        zone, or opens one. Returns the case and whether it is new; None when the event was taken already.
        The intake cursor moves in the same transaction, so a restart neither loses nor repeats one."""
        now = time.time() if now is None else now
        with self._db.write() as cur:
            row = cur.execute("SELECT last_event_id FROM case_intake WHERE id = 1").fetchone()
            if row["last_event_id"] >= event_id:
                return None
            cur.execute("UPDATE case_intake SET last_event_id = ? WHERE id = 1", (event_id,))
            if cur.execute("SELECT 1 FROM case_violations WHERE violation_id = ?", (violation_id,)).fetchone():
                return None
            found = cur.execute(
                "SELECT id FROM cases INDEXED BY cases_running_by_camera"
                f" WHERE camera_id = ? AND kind = ? AND zone IS ? AND state NOT IN ({_CLOSED})"
                " ORDER BY id DESC LIMIT 1",
                (camera_id, kind, zone),
            ).fetchone()
            opened = found is None
            if found is None:
                case_id = _insert(
                    cur, institution_id, camera_id, kind, zone, severity, None, "violation", str(violation_id),
                    deadline_at, assignee_id, SERVICE, now,
                )  # fmt: skip
            else:
                case_id = int(found["id"])
                _history(cur, case_id, SERVICE, "violation_joined", None, None, f"violation {violation_id}", now)
                cur.execute("UPDATE cases SET updated_at = ? WHERE id = ?", (now, case_id))
            cur.execute(
                "INSERT INTO case_violations (violation_id, case_id, linked_at) VALUES (?, ?, ?)",
                (violation_id, case_id, now),
            )
            return _get(cur, case_id), opened

    def safety_manager(self, institution_id: str) -> int | None:
        """The institution's safety manager (the first, if it has several), who is assigned its cases."""
        rows = self._db.read(
            "SELECT id FROM users WHERE role = 'safety_manager' AND org_unit_id = ? AND disabled = 0"
            " ORDER BY id LIMIT 1",
            (institution_id,),
        )
        return int(rows[0]["id"]) if rows else None

    # --- changing -----------------------------------------------------------------------------

    def transition(
        self,
        case_id: int,
        action: Action,
        by: Actor,
        detail: str | None = None,
        now: float | None = None,
    ) -> Case:
        """Take `action`; IllegalTransition (or MissingEvidence) when the case's state does not allow it, and
        LookupError when there is no such case. Closing sets `closed_at`; a dismissal keeps `detail` as
        its reason."""
        now = time.time() if now is None else now
        with self._db.write() as cur:
            state = _state(cur, case_id)
            to = next_state(case_id, state, action)
            if action is Action.RECTIFIED:
                since = cur.execute("SELECT rectifying_at FROM cases WHERE id = ?", (case_id,)).fetchone()[0]
                photos = cur.execute(
                    "SELECT COUNT(*) FROM case_evidence WHERE case_id = ? AND origin = 'upload' AND at >= ?",
                    (case_id, since or 0.0),
                ).fetchone()[0]
                if not photos:
                    raise MissingEvidence(f"case {case_id}: upload a photo of the rectification first")
            cur.execute(
                "UPDATE cases SET state = ?, updated_at = ?,"
                " rectifying_at = CASE WHEN ? = 'rectifying' THEN ? ELSE rectifying_at END,"
                " closed_at = CASE WHEN ? IN ('verified', 'dismissed') THEN ? ELSE closed_at END,"
                " dismiss_reason = CASE WHEN ? = 'dismissed' THEN ? ELSE dismiss_reason END"
                " WHERE id = ?",
                (to.value, now, to.value, now, to.value, now, to.value, detail, case_id),
            )
            _history(cur, case_id, by, action.value, state, to.value, detail, now)
            return _get(cur, case_id)

    def assign(self, case_id: int, assignee_id: int, by: Actor, now: float | None = None) -> Case:
        now = time.time() if now is None else now
        with self._db.write() as cur:
            state = _state(cur, case_id)
            if state in CLOSED:
                raise IllegalTransition(f"case {case_id} is {state}: a closed case is not assigned")
            name = cur.execute("SELECT username FROM users WHERE id = ?", (assignee_id,)).fetchone()
            cur.execute("UPDATE cases SET assignee_id = ?, updated_at = ? WHERE id = ?", (assignee_id, now, case_id))
            _history(cur, case_id, by, "assign", None, None, name["username"] if name else str(assignee_id), now)
            return _get(cur, case_id)

    def comment(self, case_id: int, by: Actor, text: str, now: float | None = None) -> Comment:
        now = time.time() if now is None else now
        with self._db.write() as cur:
            _state(cur, case_id)
            cur.execute(
                "INSERT INTO case_comments (case_id, at, user_id, username, text) VALUES (?, ?, ?, ?, ?)",
                (case_id, now, by.user_id, by.username or "", text),
            )
            comment_id = int(cur.lastrowid or 0)
            _history(cur, case_id, by, "comment", None, None, None, now)
            cur.execute("UPDATE cases SET updated_at = ? WHERE id = ?", (now, case_id))
            return Comment(comment_id, now, by.username or "", text)

    def add_evidence(self, case_id: int, by: Actor, item: NewEvidence, now: float | None = None) -> Evidence:
        """A picture added to a case still being handled (a closed case's record stays as it was closed)."""
        now = time.time() if now is None else now
        with self._db.write() as cur:
            state = _state(cur, case_id)
            if state in CLOSED:
                raise IllegalTransition(f"case {case_id} is {state}: a closed case takes no more evidence")
            evidence = _add_evidence(cur, case_id, by, item, now)
            cur.execute("UPDATE cases SET updated_at = ? WHERE id = ?", (now, case_id))
            return evidence

    def escalate_overdue(self, now: float, to: dict[str, str | None]) -> list[Case]:
        """Cases past their deadline and still with the institution, not yet flagged: flagged overdue and
        escalated to the unit `to[institution]` (its town). Returns them."""
        with self._db.write() as cur:
            rows = cur.execute(
                f"SELECT id, institution_id FROM cases INDEXED BY cases_unflagged_by_deadline"
                f" WHERE state IN ({_RUNNING}) AND overdue_at IS NULL AND deadline_at < ? ORDER BY id",
                (now,),
            ).fetchall()
            escalated = []
            for row in rows:
                unit = to.get(row["institution_id"])
                cur.execute(
                    "UPDATE cases SET overdue_at = ?, escalated_at = ?, escalated_to = ?, updated_at = ? WHERE id = ?",
                    (now, now, unit, now, row["id"]),
                )
                _history(cur, row["id"], SERVICE, "overdue", None, None, f"escalated to {unit}" if unit else None, now)
                escalated.append(_get(cur, row["id"]))
            return escalated

    # --- reading ------------------------------------------------------------------------------

    def get(self, case_id: int) -> Case | None:
        rows = self._db.read(f"SELECT {_COLUMNS} {_FROM} WHERE c.id = ?", (case_id,))
        return _case(rows[0]) if rows else None

    def find(self, query: CaseFilter) -> list[Case]:
        where: list[str] = []
        params: list[object] = []
        if query.institutions is not None:
            if not query.institutions:
                return []
            where.append(institutions_clause("c", query.institutions))
            params += list(query.institutions)
        for column, value in (("state", query.state), ("kind", query.kind)):
            if value is not None:
                where.append(f"c.{column} = ?")
                params.append(value)
        if query.overdue is not None:
            overdue = f"(c.state IN ({_RUNNING}) AND c.deadline_at < ?)"
            where.append(overdue if query.overdue else f"NOT {overdue}")
            params.append(query.now)
        if query.before_id is not None:
            where.append("c.id < ?")
            params.append(query.before_id)
        sql = f"SELECT {_COLUMNS} {_FROM}"
        if query.overdue:
            # Without it SQLite takes cases_by_state, gathers every overdue case and sorts them (migration 0014).
            sql = sql.replace("FROM cases c", "FROM cases c INDEXED BY cases_running_by_id", 1)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.id DESC LIMIT ?"
        params.append(query.limit)
        return [_case(row) for row in self._db.read(sql, tuple(params))]

    def history(self, case_id: int) -> list[HistoryEntry]:
        rows = self._db.read(
            "SELECT id, at, username, action, from_state, to_state, detail FROM case_history WHERE case_id = ?"
            " ORDER BY id",
            (case_id,),
        )
        return [
            HistoryEntry(r["id"], r["at"], r["username"], r["action"], r["from_state"], r["to_state"], r["detail"])
            for r in rows
        ]

    def comments(self, case_id: int) -> list[Comment]:
        rows = self._db.read(
            "SELECT id, at, username, text FROM case_comments WHERE case_id = ? ORDER BY id", (case_id,)
        )
        return [Comment(r["id"], r["at"], r["username"], r["text"]) for r in rows]

    def evidence(self, case_id: int) -> list[Evidence]:
        rows = self._db.read(
            "SELECT id, at, username, origin, origin_ref, content_type, size, note FROM case_evidence"
            " WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [_evidence(r) for r in rows]

    def evidence_data(self, case_id: int, evidence_id: int) -> tuple[str, bytes] | None:
        rows = self._db.read(
            "SELECT content_type, data FROM case_evidence WHERE id = ? AND case_id = ?", (evidence_id, case_id)
        )
        return (rows[0]["content_type"], bytes(rows[0]["data"])) if rows else None

    def violations(self, case_id: int) -> list[int]:
        rows = self._db.read(
            "SELECT violation_id FROM case_violations WHERE case_id = ? ORDER BY violation_id", (case_id,)
        )
        return [int(r["violation_id"]) for r in rows]

    def case_of_violation(self, violation_id: int) -> int | None:
        rows = self._db.read("SELECT case_id FROM case_violations WHERE violation_id = ?", (violation_id,))
        return int(rows[0]["case_id"]) if rows else None

    def dismissals(self, camera_id: str) -> dict[str, int]:
        """False alarms: the camera's violation cases dismissed, by kind."""
        rows = self._db.read(
            "SELECT kind, COUNT(*) AS n FROM cases WHERE camera_id = ? AND source = 'violation'"
            " AND state = 'dismissed' GROUP BY kind",
            (camera_id,),
        )
        return {r["kind"]: int(r["n"]) for r in rows}


def _insert(
    cur: sqlite3.Cursor,
    institution_id: str,
    camera_id: str | None,
    kind: str,
    zone: str | None,
    severity: str,
    description: str | None,
    source: str,
    source_id: str | None,
    deadline_at: float,
    assignee_id: int | None,
    by: Actor,
    now: float,
) -> int:
    cur.execute(
        "INSERT INTO cases (institution_id, camera_id, kind, zone, severity, description, source, source_id, state,"
        " assignee_id, opened_at, opened_by, deadline_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            institution_id,
            camera_id,
            kind,
            zone,
            severity,
            description,
            source,
            source_id,
            CaseState.OPEN.value,
            assignee_id,
            now,
            by.username,
            deadline_at,
            now,
        ),
    )
    case_id = int(cur.lastrowid or 0)
    _history(
        cur, case_id, by, "opened", None, CaseState.OPEN.value, f"{source} {source_id}" if source_id else source, now
    )
    return case_id


def _state(cur: sqlite3.Cursor, case_id: int) -> str:
    row = cur.execute("SELECT state FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise LookupError(f"no case {case_id}")
    return str(row["state"])


def _history(
    cur: sqlite3.Cursor,
    case_id: int,
    by: Actor,
    action: str,
    from_state: str | None,
    to_state: str | None,
    detail: str | None,
    now: float,
) -> None:
    cur.execute(
        "INSERT INTO case_history (case_id, at, user_id, username, action, from_state, to_state, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, now, by.user_id, by.username, action, from_state, to_state, detail),
    )


def _add_evidence(cur: sqlite3.Cursor, case_id: int, by: Actor, item: NewEvidence, now: float) -> Evidence:
    cur.execute(
        "INSERT INTO case_evidence (case_id, at, user_id, username, origin, origin_ref, content_type, size, note, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            now,
            by.user_id,
            by.username,
            item.origin,
            item.origin_ref,
            item.content_type,
            len(item.data),
            item.note,
            item.data,
        ),
    )
    evidence_id = int(cur.lastrowid or 0)
    _history(cur, case_id, by, "evidence", None, None, f"{item.origin} #{evidence_id}", now)
    return Evidence(
        evidence_id, now, by.username, item.origin, item.origin_ref, item.content_type, len(item.data), item.note
    )


def _get(cur: sqlite3.Cursor, case_id: int) -> Case:
    return _case(cur.execute(f"SELECT {_COLUMNS} {_FROM} WHERE c.id = ?", (case_id,)).fetchone())


def _case(row: sqlite3.Row) -> Case:
    return Case(**{key: row[key] for key in row.keys()})


def _evidence(row: sqlite3.Row) -> Evidence:
    return Evidence(
        row["id"], row["at"], row["username"], row["origin"], row["origin_ref"], row["content_type"], row["size"],
        row["note"],
    )  # fmt: skip

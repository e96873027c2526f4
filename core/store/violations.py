"""Violations and their snapshots."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass

from core.store.database import Database
from core.store.scope import institutions_clause


@dataclass(frozen=True, slots=True)
class ViolationRecord:
    id: int
    camera_id: str
    institution_id: str
    type: str
    zone: str | None
    zone_points: list[list[float]] | None
    state: str  # active | ended
    onset_at: float
    started_at: float
    ended_at: float | None
    end_reason: str | None
    confidence: float
    bbox: list[float] | None
    clip_start: float
    clip_end: float | None
    clip_status: str  # waiting (violation still running) | pending (range known, no clip yet) | requested | ready
    # | unavailable (nothing recorded in the range)
    clip_ref: str | None
    has_snapshot: bool


@dataclass(frozen=True, slots=True)
class ViolationEvent:
    """One change of a violation (started, reopened, ended, updated: its clip settled), with the violation as
    it stood after the change."""

    id: int
    violation_id: int
    camera_id: str
    institution_id: str
    phase: str
    at: float
    violation: ViolationRecord


@dataclass(frozen=True, slots=True)
class ViolationFilter:
    institutions: Sequence[str] | None = None  # None: any (already narrowed to the user's scope by the caller)
    camera_id: str | None = None
    type: str | None = None
    state: str | None = None
    since: float | None = None  # overlapping [since, until]
    until: float | None = None
    limit: int = 100
    before_id: int | None = None  # paging: older than this id


# How much later than its start a violation may be written and still be found by a list with `until` (`find`): the
# detectors write it when they raise it, seconds after its start at most; a day leaves room for any backlog.
WRITE_LAG_S = 86400.0

_COLUMNS = (
    "v.id, v.camera_id, v.institution_id, v.type, v.zone, v.zone_points, v.state, v.onset_at, v.started_at,"
    " v.ended_at, v.end_reason, v.confidence, v.bbox, v.clip_start, v.clip_end, v.clip_status, v.clip_ref,"
    " EXISTS (SELECT 1 FROM violation_snapshots s WHERE s.violation_id = v.id) AS has_snapshot"
)


class ViolationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def open(
        self,
        *,
        camera_id: str,
        institution_id: str,
        type: str,
        zone: str | None,
        zone_points: Sequence[Sequence[float]] | None,
        onset_at: float,
        started_at: float,
        confidence: float,
        bbox: Sequence[float] | None,
        clip_start: float,
        snapshot: bytes | None,
    ) -> int:
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO violations (camera_id, institution_id, type, zone, zone_points, state, onset_at,"
                " started_at, confidence, bbox, clip_start, clip_status, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, 'waiting', ?)",
                (
                    camera_id,
                    institution_id,
                    type,
                    zone,
                    _json(zone_points),
                    onset_at,
                    started_at,
                    confidence,
                    _json(bbox),
                    clip_start,
                    time.time(),
                ),
            )
            violation_id = int(cur.lastrowid or 0)
            if snapshot is not None:
                cur.execute(
                    "INSERT INTO violation_snapshots (violation_id, jpeg) VALUES (?, ?)", (violation_id, snapshot)
                )
            _log(cur, violation_id, "started")
            return violation_id

    def reopen(self, violation_id: int) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE violations SET state = 'active', ended_at = NULL, end_reason = NULL, clip_end = NULL,"
                " clip_status = 'waiting', updated_at = ? WHERE id = ?",
                (time.time(), violation_id),
            )
            _log(cur, violation_id, "reopened")

    def close(
        self,
        violation_id: int,
        *,
        ended_at: float,
        reason: str,
        confidence: float,
        bbox: Sequence[float] | None,
        clip_end: float,
    ) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE violations SET state = 'ended', ended_at = ?, end_reason = ?, confidence = MAX(confidence, ?),"
                " bbox = COALESCE(?, bbox), clip_end = ?, clip_status = 'pending', updated_at = ? WHERE id = ?",
                (ended_at, reason, confidence, _json(bbox), clip_end, time.time(), violation_id),
            )
            _log(cur, violation_id, "ended")

    def set_clip(self, violation_id: int, status: str, ref: str | None = None) -> None:
        """For the recordings component: the clip was requested, or is ready (`ref`: its file), or unavailable."""
        with self._db.write() as cur:
            cur.execute(
                "UPDATE violations SET clip_status = ?, clip_ref = ?, updated_at = ? WHERE id = ?",
                (status, ref, time.time(), violation_id),
            )
            if status in ("ready", "unavailable"):  # settled: worth telling whoever follows the violation
                _log(cur, violation_id, "updated")

    def close_all_active(
        self,
        at: float,
        reason: str,
        cameras: Collection[str] | None = None,
        started_before: float | None = None,
    ) -> int:
        """At start-up: violations a previous run left active ended when it stopped. With `cameras`: only
        theirs (the worker process that analysed them died), and with `started_before` only those begun before
        (the cameras' new worker may have raised others meanwhile)."""
        where, params = "state = 'active'", tuple[str | float, ...]()
        if cameras is not None:
            where += f" AND camera_id IN ({', '.join('?' * len(cameras))})"
            params = tuple(cameras)
        if started_before is not None:
            where += " AND started_at < ?"
            params = (*params, started_before)
        with self._db.write() as cur:
            active = [row["id"] for row in cur.execute(f"SELECT id FROM violations WHERE {where}", params).fetchall()]
            if active:
                cur.execute(
                    "UPDATE violations SET state = 'ended', ended_at = MAX(started_at, ?), end_reason = ?,"
                    " clip_end = MAX(started_at, ?), clip_status = 'pending', updated_at = ?"
                    f" WHERE id IN ({', '.join('?' * len(active))})",
                    (at, reason, at, time.time(), *active),
                )
            for violation_id in active:
                _log(cur, violation_id, "ended")
            return len(active)

    def events_after(self, event_id: int, limit: int = 500) -> list[ViolationEvent]:
        """The log of violation changes after `event_id`, oldest first."""
        rows = self._db.read(
            "SELECT id, violation_id, camera_id, institution_id, phase, at, record FROM violation_events"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (event_id, limit),
        )
        return [_event(row) for row in rows]

    def event(self, event_id: int) -> ViolationEvent | None:
        rows = self._db.read(
            "SELECT id, violation_id, camera_id, institution_id, phase, at, record FROM violation_events WHERE id = ?",
            (event_id,),
        )
        return _event(rows[0]) if rows else None

    def last_event_id(self) -> int:
        return int(self._db.read("SELECT COALESCE(MAX(id), 0) AS n FROM violation_events")[0]["n"])

    def get(self, violation_id: int) -> ViolationRecord | None:
        rows = self._db.read(f"SELECT {_COLUMNS} FROM violations v WHERE v.id = ?", (violation_id,))
        return _record(rows[0]) if rows else None

    def snapshot(self, violation_id: int) -> bytes | None:
        rows = self._db.read("SELECT jpeg FROM violation_snapshots WHERE violation_id = ?", (violation_id,))
        return bytes(rows[0]["jpeg"]) if rows else None

    def find(self, query: ViolationFilter) -> list[ViolationRecord]:
        where: list[str] = []
        params: list[object] = []
        if query.institutions is not None:
            if not query.institutions:
                return []
            where.append(institutions_clause("v", query.institutions))
            params += list(query.institutions)
        for column, value in (("camera_id", query.camera_id), ("type", query.type), ("state", query.state)):
            if value is not None:
                where.append(f"v.{column} = ?")
                params.append(value)
        if query.until is not None:
            where.append("v.started_at <= ?")
            # Ids follow start times to within the analysis' lag (seconds: a violation is written when raised), so
            # one started by `until` has an id below that of the first started a day later: a bound the rowid
            # takes, where the list would otherwise walk back from the newest violation (bench/api.py).
            where.append(
                "v.id < coalesce((SELECT later.id FROM violations later WHERE later.started_at > ?"
                " ORDER BY later.started_at LIMIT 1), 9223372036854775807)"
            )
            params += [query.until, query.until + WRITE_LAG_S]
        if query.since is not None:
            where.append("(v.ended_at IS NULL OR v.ended_at >= ?)")
            params.append(query.since)
        if query.before_id is not None:
            where.append("v.id < ?")
            params.append(query.before_id)
        sql = f"SELECT {_COLUMNS} FROM violations v"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY v.id DESC LIMIT ?"
        params.append(query.limit)
        return [_record(r) for r in self._db.read(sql, tuple(params))]


def _log(cur: sqlite3.Cursor, violation_id: int, phase: str) -> None:
    """The violation as it stands after a change, appended to the event log in the change's own transaction."""
    row = cur.execute(f"SELECT {_COLUMNS} FROM violations v WHERE v.id = ?", (violation_id,)).fetchone()
    if row is None:
        return
    record = _record(row)
    cur.execute(
        "INSERT INTO violation_events (violation_id, camera_id, institution_id, phase, at, record)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (violation_id, record.camera_id, record.institution_id, phase, time.time(), json.dumps(asdict(record))),
    )


def _event(row: sqlite3.Row) -> ViolationEvent:
    return ViolationEvent(
        row["id"],
        row["violation_id"],
        row["camera_id"],
        row["institution_id"],
        row["phase"],
        row["at"],
        ViolationRecord(**json.loads(row["record"])),
    )


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value)


def _record(row: sqlite3.Row) -> ViolationRecord:
    return ViolationRecord(
        id=row["id"],
        camera_id=row["camera_id"],
        institution_id=row["institution_id"],
        type=row["type"],
        zone=row["zone"],
        zone_points=json.loads(row["zone_points"]) if row["zone_points"] else None,
        state=row["state"],
        onset_at=row["onset_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
        confidence=row["confidence"],
        bbox=json.loads(row["bbox"]) if row["bbox"] else None,
        clip_start=row["clip_start"],
        clip_end=row["clip_end"],
        clip_status=row["clip_status"],
        clip_ref=row["clip_ref"],
        has_snapshot=bool(row["has_snapshot"]),
    )

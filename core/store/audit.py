"""The audit log: who did what to which camera, over which time range, from where, and when.

Append-only (migration 0009's triggers refuse UPDATE and DELETE) and chained: every row is written with the hash
of its predecessor's hash and its own fields (`audit_chain.py`), inside the write transaction that picks its id,
so rows written by several threads (or processes) still form one chain. `verify` walks it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from core.store.audit_chain import GENESIS, Field, link
from core.store.database import Database

_COLUMNS = "id, at, user_id, username, action, target, detail, client, range_start, range_end, hash"
# Rows read per query while walking the whole log (verification, CSV export): memory stays flat.
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    user_id: int | None
    username: str | None
    action: str
    target: str | None
    detail: str | None
    client: str | None = None
    range_start: float | None = None
    range_end: float | None = None
    hash: str | None = None

    def chained_fields(self) -> tuple[Field, ...]:
        return (
            self.id,
            self.at,
            self.user_id,
            self.username,
            self.action,
            self.target,
            self.detail,
            self.client,
            self.range_start,
            self.range_end,
        )


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which rows a reader asks for, and which they may see."""

    since: float | None = None
    until: float | None = None
    username: str | None = None
    # An action, or a family of them: "live_view" also matches "live_view.end", "recordings" "recordings.playback".
    action: str | None = None
    target: str | None = None
    # The targets (cameras, institutions) the reader may see; None: every row, those without a target too.
    scope: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What `verify` found: `ok` when every row links to its predecessor."""

    rows: int
    ok: bool
    first_broken_id: int | None
    reason: str | None
    head_id: int | None
    head_hash: str | None
    checked_at: float


def _entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        row["id"],
        row["at"],
        row["user_id"],
        row["username"],
        row["action"],
        row["target"],
        row["detail"],
        row["client"],
        row["range_start"],
        row["range_end"],
        row["hash"],
    )


def _where(query: AuditQuery) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if query.since is not None:
        clauses.append("at >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("at < ?")
        params.append(query.until)
    if query.username is not None:
        clauses.append("username = ?")
        params.append(query.username)
    if query.action is not None:
        # A prefix test without LIKE: actions contain '_', which LIKE reads as a wildcard.
        clauses.append("(action = ? OR substr(action, 1, ?) = ?)")
        params += [query.action, len(query.action) + 1, query.action + "."]
    if query.target is not None:
        clauses.append("target = ?")
        params.append(query.target)
    if query.scope is not None:
        if not query.scope:
            clauses.append("0")
        else:
            clauses.append(f"target IN ({', '.join('?' * len(query.scope))})")
            params += list(query.scope)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Rows written before the chain existed (migration 0009) are chained before anything new is written.
        self.seal()

    def record(
        self,
        action: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        target: str | None = None,
        detail: str | None = None,
        client: str | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> AuditEntry:
        """Append one row, chained to the last; `start`/`end`: the time range the action concerns."""
        with self._db.write() as cur:
            last = cur.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
            if last is not None and last["hash"] is None:
                self._seal(cur)
                last = cur.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
            entry = AuditEntry(
                id=(last["id"] + 1) if last is not None else 1,
                at=time.time(),
                user_id=user_id,
                username=username,
                action=action,
                target=target,
                detail=detail,
                client=client,
                range_start=float(start) if start is not None else None,
                range_end=float(end) if end is not None else None,
            )
            digest = link(last["hash"] if last is not None else GENESIS, entry.chained_fields())
            cur.execute(
                f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*entry.chained_fields(), digest),
            )
        return replace(entry, hash=digest)

    def seal(self) -> int:
        """Chain the rows written before the chain existed; returns how many (0 once done)."""
        last = self._db.read("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
        if not last or last[0]["hash"] is not None:
            return 0  # rows are sealed in id order, so a sealed last row means every row is
        with self._db.write() as cur:
            return self._seal(cur)

    def _seal(self, cur: sqlite3.Cursor) -> int:
        before = cur.execute("SELECT hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
        previous = before["hash"] if before is not None else GENESIS
        rows = cur.execute(f"SELECT {_COLUMNS} FROM audit_log WHERE hash IS NULL ORDER BY id").fetchall()
        for row in rows:
            entry = _entry(row)
            previous = link(previous, entry.chained_fields())
            cur.execute("UPDATE audit_log SET hash = ? WHERE id = ?", (previous, entry.id))
        return len(rows)

    # --- reading ----------------------------------------------------------------------------------

    def search(self, query: AuditQuery, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        """The newest rows matching `query`, below `before_id` (keyset paging), newest first."""
        where, params = _where(query)
        if before_id is not None:
            where += (" AND " if where else " WHERE ") + "id < ?"
            params.append(before_id)
        rows = self._db.read(f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [_entry(r) for r in rows]

    def each(self, query: AuditQuery) -> Iterator[AuditEntry]:
        """Every row matching `query`, oldest first, read in batches (for exports of any size)."""
        where, params = _where(query)
        where += (" AND " if where else " WHERE ") + "id > ?"
        after = 0
        while True:
            rows = self._db.read(
                f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY id LIMIT ?", (*params, after, _BATCH)
            )
            for row in rows:
                yield _entry(row)
            if len(rows) < _BATCH:
                return
            after = rows[-1]["id"]

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        return self.search(AuditQuery(), limit)

    def verify(self) -> ChainReport:
        """Walk the chain from the first row; the first row whose hash does not follow is reported."""
        previous = GENESIS
        count = 0
        head_id: int | None = None
        after = 0
        while True:
            rows = self._db.read(f"SELECT {_COLUMNS} FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", (after, _BATCH))
            for row in rows:
                entry = _entry(row)
                count += 1
                if entry.hash is None:
                    return self._broken(count, entry.id, "the row is not chained", head_id, previous)
                if link(previous, entry.chained_fields()) != entry.hash:
                    reason = _why_broken(head_id, entry.id)
                    return self._broken(count, entry.id, reason, head_id, previous)
                previous, head_id = entry.hash, entry.id
            if len(rows) < _BATCH:
                break
            after = rows[-1]["id"]
        return ChainReport(count, True, None, None, head_id, previous if head_id else None, time.time())

    @staticmethod
    def _broken(count: int, row_id: int, reason: str, head_id: int | None, head_hash: str) -> ChainReport:
        # The head reported is the last row that still verifies: what can be trusted.
        return ChainReport(count, False, row_id, reason, head_id, head_hash if head_id else None, time.time())


def _why_broken(head_id: int | None, row_id: int) -> str:
    expected = (head_id or 0) + 1
    if row_id == expected:
        return "the row was changed, or a row before it was removed and the chain recomputed"
    missing = f"row {expected} is" if row_id == expected + 1 else f"rows {expected}–{row_id - 1} are"
    return f"{missing} missing, or the row was changed"

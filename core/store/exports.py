"""Clip exports: requested ranges, their progress and the files they produced."""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass

from core.store.database import Database


@dataclass(frozen=True, slots=True)
class Export:
    id: str
    camera_id: str
    user_id: int | None
    username: str | None
    start_ts: float
    end_ts: float
    state: str  # queued | running | done | failed
    progress: float  # 0..1
    clip_start: float | None
    duration_s: float | None
    size_bytes: int | None
    file_name: str | None
    error: str | None
    created_at: float
    finished_at: float | None


def _export(row: sqlite3.Row) -> Export:
    return Export(**{name: row[name] for name in Export.__slots__})


class ExportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self, camera_id: str, start_ts: float, end_ts: float, user_id: int | None, username: str | None
    ) -> Export:
        export_id = secrets.token_hex(8)
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO exports (id, camera_id, user_id, username, start_ts, end_ts, state, progress, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?)",
                (export_id, camera_id, user_id, username, start_ts, end_ts, time.time()),
            )
        found = self.get(export_id)
        assert found is not None
        return found

    def get(self, export_id: str) -> Export | None:
        rows = self._db.read("SELECT * FROM exports WHERE id = ?", (export_id,))
        return _export(rows[0]) if rows else None

    def recent(self, camera_ids: list[str], limit: int = 100) -> list[Export]:
        if not camera_ids:
            return []
        marks = ",".join("?" * len(camera_ids))
        rows = self._db.read(
            f"SELECT * FROM exports WHERE camera_id IN ({marks}) ORDER BY created_at DESC LIMIT ?",
            (*camera_ids, limit),
        )
        return [_export(r) for r in rows]

    def unfinished(self) -> list[Export]:
        rows = self._db.read("SELECT * FROM exports WHERE state IN ('queued', 'running') ORDER BY created_at")
        return [_export(r) for r in rows]

    def running(self, export_id: str) -> None:
        with self._db.write() as cur:
            cur.execute("UPDATE exports SET state = 'running', progress = 0 WHERE id = ?", (export_id,))

    def progress(self, export_id: str, progress: float) -> None:
        with self._db.write() as cur:
            cur.execute("UPDATE exports SET progress = ? WHERE id = ?", (progress, export_id))

    def done(self, export_id: str, file_name: str, clip_start: float, duration_s: float, size_bytes: int) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE exports SET state = 'done', progress = 1, file_name = ?, clip_start = ?, duration_s = ?,"
                " size_bytes = ?, finished_at = ? WHERE id = ?",
                (file_name, clip_start, duration_s, size_bytes, time.time(), export_id),
            )

    def failed(self, export_id: str, error: str) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE exports SET state = 'failed', error = ?, finished_at = ? WHERE id = ?",
                (error, time.time(), export_id),
            )

    def finished_before(self, before_ts: float) -> list[Export]:
        rows = self._db.read("SELECT * FROM exports WHERE finished_at IS NOT NULL AND finished_at < ?", (before_ts,))
        return [_export(r) for r in rows]

    def delete(self, export_id: str) -> None:
        with self._db.write() as cur:
            cur.execute("DELETE FROM exports WHERE id = ?", (export_id,))

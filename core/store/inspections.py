"""Inspections (定期巡查), their checklist results and their photos (migration 0012)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.store.database import Database


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: str
    result: str
    note: str | None
    case_id: int | None


@dataclass(frozen=True, slots=True)
class Photo:
    id: int
    item: str | None
    at: float
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Inspection:
    id: int
    unit_id: str
    level: str
    period: str
    mode: str
    spot_check_id: int | None
    inspector_id: int | None
    inspector: str
    started_at: float
    finished_at: float | None
    summary: str | None
    items: tuple[ItemResult, ...] = ()
    photos: tuple[Photo, ...] = ()


class AlreadyFinished(Exception):
    """A finished inspection is a record: it takes no more results or photos."""


def _inspection(row: sqlite3.Row) -> Inspection:
    return Inspection(
        row["id"],
        row["unit_id"],
        row["level"],
        row["period"],
        row["mode"],
        row["spot_check_id"],
        row["inspector_id"],
        row["inspector"],
        row["started_at"],
        row["finished_at"],
        row["summary"],
    )


class InspectionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(
        self,
        unit_id: str,
        level: str,
        period: str,
        mode: str,
        inspector_id: int,
        inspector: str,
        spot_check_id: int | None = None,
        now: float | None = None,
    ) -> Inspection:
        now = time.time() if now is None else now
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO inspections (unit_id, level, period, mode, spot_check_id, inspector_id, inspector,"
                " started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (unit_id, level, period, mode, spot_check_id, inspector_id, inspector, now),
            )
            inspection_id = int(cur.lastrowid or 0)
        found = self.get(inspection_id)
        assert found is not None
        return found

    def get(self, inspection_id: int) -> Inspection | None:
        rows = self._db.read("SELECT * FROM inspections WHERE id = ?", (inspection_id,))
        if not rows:
            return None
        items = tuple(
            ItemResult(r["item"], r["result"], r["note"], r["case_id"])
            for r in self._db.read(
                "SELECT item, result, note, case_id FROM inspection_items WHERE inspection_id = ?", (inspection_id,)
            )
        )
        photos = tuple(
            Photo(r["id"], r["item"], r["at"], r["content_type"], r["size"])
            for r in self._db.read(
                "SELECT id, item, at, content_type, size FROM inspection_photos WHERE inspection_id = ? ORDER BY id",
                (inspection_id,),
            )
        )
        return replace(_inspection(rows[0]), items=items, photos=photos)

    def find(self, units: Sequence[str], period: str | None = None, limit: int = 200) -> list[Inspection]:
        """Inspections of these units (newest first), of one period or any."""
        if not units:
            return []
        marks = ", ".join("?" for _ in units)
        query = f"SELECT * FROM inspections WHERE unit_id IN ({marks})"  # only placeholders are formatted in
        params: list[object] = list(units)
        if period is not None:
            query += " AND period = ?"
            params.append(period)
        rows = self._db.read(query + " ORDER BY started_at DESC, id DESC LIMIT ?", (*params, limit))
        found = [self.get(row["id"]) for row in rows]  # with their results and photos: a page of at most `limit`
        return [inspection for inspection in found if inspection is not None]

    def recorded(self, periods: Sequence[str]) -> dict[tuple[str, str], tuple[int, bool]]:
        """(unit, period) → (inspection id, finished) for these periods; a finished inspection wins."""
        if not periods:
            return {}
        marks = ", ".join("?" for _ in periods)
        rows = self._db.read(
            f"SELECT id, unit_id, period, finished_at FROM inspections WHERE period IN ({marks})"
            " ORDER BY (finished_at IS NOT NULL), id",
            tuple(periods),
        )
        return {(r["unit_id"], r["period"]): (r["id"], r["finished_at"] is not None) for r in rows}

    def set_item(self, inspection_id: int, item: str, result: str, note: str | None) -> None:
        with self._db.write() as cur:
            _open(cur, inspection_id)
            cur.execute(
                "INSERT INTO inspection_items (inspection_id, item, result, note) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (inspection_id, item) DO UPDATE SET result = excluded.result, note = excluded.note",
                (inspection_id, item, result, note),
            )

    def link_case(self, inspection_id: int, item: str, case_id: int) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE inspection_items SET case_id = ? WHERE inspection_id = ? AND item = ?",
                (case_id, inspection_id, item),
            )

    def add_photo(self, inspection_id: int, item: str | None, content_type: str, data: bytes) -> Photo:
        now = time.time()
        with self._db.write() as cur:
            _open(cur, inspection_id)
            cur.execute(
                "INSERT INTO inspection_photos (inspection_id, item, at, content_type, size, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (inspection_id, item, now, content_type, len(data), data),
            )
            photo_id = int(cur.lastrowid or 0)
        return Photo(photo_id, item, now, content_type, len(data))

    def photo(self, inspection_id: int, photo_id: int) -> tuple[str, bytes] | None:
        rows = self._db.read(
            "SELECT content_type, data FROM inspection_photos WHERE inspection_id = ? AND id = ?",
            (inspection_id, photo_id),
        )
        return (rows[0]["content_type"], bytes(rows[0]["data"])) if rows else None

    def finish(self, inspection_id: int, summary: str | None, now: float | None = None) -> None:
        with self._db.write() as cur:
            _open(cur, inspection_id)
            cur.execute(
                "UPDATE inspections SET finished_at = ?, summary = ? WHERE id = ?",
                (time.time() if now is None else now, summary, inspection_id),
            )


def _open(cur: sqlite3.Cursor, inspection_id: int) -> None:
    row = cur.execute("SELECT finished_at FROM inspections WHERE id = ?", (inspection_id,)).fetchone()
    if row is not None and row[0] is not None:
        raise AlreadyFinished(f"inspection {inspection_id} is finished: its record can no longer change")

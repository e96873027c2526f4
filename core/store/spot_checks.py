"""Spot checks and the snapshots kept as their evidence."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from core.store.database import Database


@dataclass(frozen=True, slots=True)
class Evidence:
    id: int
    spot_check_id: int
    camera_id: str
    frame_at: float
    taken_at: float
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class SpotCheck:
    id: int
    institution_id: str
    username: str
    started_at: float
    finished_at: float | None
    result: str | None
    remark: str | None
    evidence: tuple[Evidence, ...] = ()


class SpotCheckRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, institution_id: str, user_id: int, username: str) -> SpotCheck:
        now = time.time()
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO spot_checks (institution_id, user_id, username, started_at) VALUES (?, ?, ?, ?)",
                (institution_id, user_id, username, now),
            )
            check_id = int(cur.lastrowid or 0)
        return SpotCheck(check_id, institution_id, username, now, None, None, None)

    def add_evidence(
        self, check_id: int, camera_id: str, jpeg: bytes, frame_at: float, width: int, height: int
    ) -> Evidence:
        now = time.time()
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO spot_check_evidence (spot_check_id, camera_id, frame_at, taken_at, width, height, jpeg)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (check_id, camera_id, frame_at, now, width, height, jpeg),
            )
            evidence_id = int(cur.lastrowid or 0)
        return Evidence(evidence_id, check_id, camera_id, frame_at, now, width, height)

    def finish(self, check_id: int, result: str, remark: str | None) -> bool:
        """Record the outcome; False if the check does not exist or was already finished."""
        with self._db.write() as cur:
            cur.execute(
                "UPDATE spot_checks SET finished_at = ?, result = ?, remark = ? WHERE id = ? AND finished_at IS NULL",
                (time.time(), result, remark, check_id),
            )
            return cur.rowcount == 1

    def get(self, check_id: int) -> SpotCheck | None:
        rows = self._db.read(
            "SELECT id, institution_id, username, started_at, finished_at, result, remark FROM spot_checks"
            " WHERE id = ?",
            (check_id,),
        )
        if not rows:
            return None
        return self._with_evidence(rows[0])

    def recent(self, institution_ids: list[str], limit: int = 50) -> list[SpotCheck]:
        if not institution_ids:
            return []
        marks = ", ".join("?" for _ in institution_ids)
        rows = self._db.read(
            "SELECT id, institution_id, username, started_at, finished_at, result, remark FROM spot_checks"
            f" WHERE institution_id IN ({marks}) ORDER BY started_at DESC, id DESC LIMIT ?",
            (*institution_ids, limit),
        )
        return [self._with_evidence(row) for row in rows]

    def evidence_jpeg(self, check_id: int, evidence_id: int) -> bytes | None:
        rows = self._db.read(
            "SELECT jpeg FROM spot_check_evidence WHERE id = ? AND spot_check_id = ?", (evidence_id, check_id)
        )
        return bytes(rows[0]["jpeg"]) if rows else None

    def _with_evidence(self, row: sqlite3.Row) -> SpotCheck:
        items = self._db.read(
            "SELECT id, spot_check_id, camera_id, frame_at, taken_at, width, height FROM spot_check_evidence"
            " WHERE spot_check_id = ? ORDER BY taken_at, id",
            (row["id"],),
        )
        evidence = tuple(
            Evidence(e["id"], e["spot_check_id"], e["camera_id"], e["frame_at"], e["taken_at"], e["width"], e["height"])
            for e in items
        )
        return SpotCheck(
            row["id"],
            row["institution_id"],
            row["username"],
            row["started_at"],
            row["finished_at"],
            row["result"],
            row["remark"],
            evidence,
        )

"""Cameras as configured; removed cameras keep their row (marked) so history still names them."""

from __future__ import annotations

import time
from collections.abc import Sequence

from core.config import CameraConfig
from core.store.database import Database


class CameraRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def sync(self, cameras: Sequence[CameraConfig]) -> None:
        now = time.time()
        with self._db.write() as cur:
            for cam in cameras:
                cur.execute(
                    "INSERT INTO cameras (id, institution_id, name, role, enabled, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET institution_id = excluded.institution_id,"
                    " name = excluded.name, role = excluded.role, enabled = excluded.enabled,"
                    " updated_at = excluded.updated_at, removed_at = NULL",
                    (cam.id, cam.institution, cam.name, cam.role, int(cam.enabled), now, now),
                )
            placeholders = ",".join("?" for _ in cameras) or "NULL"
            cur.execute(
                f"UPDATE cameras SET removed_at = ? WHERE removed_at IS NULL AND id NOT IN ({placeholders})",
                (now, *(cam.id for cam in cameras)),
            )

    def active_ids(self) -> list[str]:
        return [r["id"] for r in self._db.read("SELECT id FROM cameras WHERE removed_at IS NULL ORDER BY id")]

"""The audit log: who did what to which camera, and when."""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.store.database import Database


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: float
    username: str | None
    action: str
    target: str | None
    detail: str | None
    client: str | None = None


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        action: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        target: str | None = None,
        detail: str | None = None,
        client: str | None = None,
    ) -> None:
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO audit_log (at, user_id, username, action, target, detail, client)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), user_id, username, action, target, detail, client),
            )

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        rows = self._db.read(
            "SELECT at, username, action, target, detail, client FROM audit_log ORDER BY at DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(r["at"], r["username"], r["action"], r["target"], r["detail"], r["client"]) for r in rows]

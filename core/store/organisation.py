"""Organisation units as configured, kept in the store for joins and statistics."""

from __future__ import annotations

import time

from core.organisation import OrgTree
from core.store.database import Database


class OrgRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def sync(self, tree: OrgTree) -> None:
        now = time.time()
        # Parents first, so the foreign key holds on every insert.
        ordered = sorted(tree.units.values(), key=lambda u: len(tree.ancestors(u.id)))
        with self._db.write() as cur:
            for unit in ordered:
                cur.execute(
                    "INSERT INTO org_units (id, parent_id, kind, name, updated_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, kind = excluded.kind,"
                    " name = excluded.name, updated_at = excluded.updated_at",
                    (unit.id, unit.parent_id, unit.kind, unit.name, now),
                )

    def ids(self) -> set[str]:
        return {row["id"] for row in self._db.read("SELECT id FROM org_units")}

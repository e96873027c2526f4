"""What each upper platform still has to be told: its cursor over the violation event log, and its deliveries.

Forwarding takes the log's new events in one transaction (deliveries for the events the platform sees, and the
cursor past them), so an event is handed to each platform exactly once, whatever stops the service when.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from core.store.database import Database


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    platform_id: str
    event_id: int
    camera_id: str
    state: str  # pending | delivered | parked
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    pending: int
    oldest_pending_at: float | None
    delivered: int
    parked: int
    last_delivered_at: float | None
    last_error: str | None


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(*(row[name] for name in Delivery.__slots__))


class UplinkRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def cursor(self, platform_id: str) -> int | None:
        rows = self._db.read("SELECT last_event_id FROM uplink_cursors WHERE platform_id = ?", (platform_id,))
        return int(rows[0]["last_event_id"]) if rows else None

    def take(self, platform_id: str, events: Sequence[tuple[int, str]], through: int) -> None:
        """Deliveries for `events` ((event id, camera id) the platform sees), and the cursor past `through`."""
        now = time.time()
        with self._db.write() as cur:
            cur.executemany(
                "INSERT OR IGNORE INTO uplink_deliveries (platform_id, event_id, camera_id, state, next_attempt_at,"
                " created_at) VALUES (?, ?, ?, 'pending', ?, ?)",
                [(platform_id, event_id, camera_id, now, now) for event_id, camera_id in events],
            )
            cur.execute(
                "INSERT INTO uplink_cursors (platform_id, last_event_id) VALUES (?, ?)"
                " ON CONFLICT (platform_id) DO UPDATE SET last_event_id = MAX(last_event_id, excluded.last_event_id)",
                (platform_id, through),
            )

    def due(self, platform_id: str, now: float, limit: int) -> list[Delivery]:
        """The next pending delivery of each camera (in event order), where it is due."""
        rows = self._db.read(
            "SELECT d.* FROM uplink_deliveries d JOIN ("
            " SELECT camera_id, MIN(event_id) AS event_id FROM uplink_deliveries"
            " WHERE platform_id = ? AND state = 'pending' GROUP BY camera_id"
            ") head ON head.camera_id = d.camera_id AND head.event_id = d.event_id"
            " WHERE d.platform_id = ? AND d.next_attempt_at <= ? ORDER BY d.event_id LIMIT ?",
            (platform_id, platform_id, now, limit),
        )
        return [_delivery(r) for r in rows]

    def next_due_at(self, platform_id: str) -> float | None:
        rows = self._db.read(
            "SELECT MIN(next_attempt_at) AS t FROM uplink_deliveries WHERE platform_id = ? AND state = 'pending'",
            (platform_id,),
        )
        due: float | None = rows[0]["t"]
        return due

    def delivered(self, delivery_id: int) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE uplink_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?,"
                " last_error = NULL WHERE id = ?",
                (time.time(), delivery_id),
            )

    def failed(self, delivery_id: int, error: str, next_attempt_at: float) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE uplink_deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
                " WHERE id = ?",
                (error, next_attempt_at, delivery_id),
            )

    def park(self, delivery_id: int, error: str) -> None:
        """The platform refused the message for good: it waits aside, and the camera's next ones go on."""
        with self._db.write() as cur:
            cur.execute(
                "UPDATE uplink_deliveries SET state = 'parked', attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error, delivery_id),
            )

    def retry(self, platform_id: str, delivery_id: int) -> bool:
        """A parked delivery goes again (after the platform's side was fixed); False if there is none such."""
        with self._db.write() as cur:
            cur.execute(
                "UPDATE uplink_deliveries SET state = 'pending', next_attempt_at = ? WHERE id = ? AND platform_id = ?"
                " AND state = 'parked'",
                (time.time(), delivery_id, platform_id),
            )
            return cur.rowcount == 1

    def parked(self, platform_id: str, limit: int = 100) -> list[Delivery]:
        rows = self._db.read(
            "SELECT * FROM uplink_deliveries WHERE platform_id = ? AND state = 'parked' ORDER BY event_id DESC LIMIT ?",
            (platform_id, limit),
        )
        return [_delivery(r) for r in rows]

    def stats(self, platform_id: str) -> DeliveryStats:
        counts = {
            row["state"]: (row["n"], row["oldest"], row["newest_delivered"])
            for row in self._db.read(
                "SELECT state, COUNT(*) AS n, MIN(created_at) AS oldest, MAX(delivered_at) AS newest_delivered"
                " FROM uplink_deliveries WHERE platform_id = ? GROUP BY state",
                (platform_id,),
            )
        }
        error = self._db.read(
            "SELECT last_error FROM uplink_deliveries WHERE platform_id = ? AND last_error IS NOT NULL"
            " AND state != 'delivered' ORDER BY event_id DESC LIMIT 1",
            (platform_id,),
        )
        pending = counts.get("pending", (0, None, None))
        delivered = counts.get("delivered", (0, None, None))
        return DeliveryStats(
            pending=pending[0],
            oldest_pending_at=pending[1],
            delivered=delivered[0],
            parked=counts.get("parked", (0, None, None))[0],
            last_delivered_at=delivered[2],
            last_error=error[0]["last_error"] if error else None,
        )

"""Notification deliveries: one row per message to a notifier (and recipient), with its attempts and outcome."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from core.store.database import Database

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    notifier_id: str
    recipient: str  # a phone for an SMS gateway; '' for the others
    event: str
    ref: str  # what the notice is about: violation:12, case:7
    severity: str
    institution_id: str | None
    title: str
    text: str
    url: str | None
    state: str  # pending | delivered | failed (given up)
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    delivered_at: float | None


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        row["id"],
        row["notifier_id"],
        row["recipient"],
        row["event"],
        row["ref"],
        row["severity"],
        row["institution_id"],
        row["title"],
        row["text"],
        row["url"],
        row["state"],
        row["attempts"],
        row["next_attempt_at"],
        row["last_error"],
        row["created_at"],
        row["delivered_at"],
    )


@dataclass(frozen=True, slots=True)
class NewDelivery:
    notifier_id: str
    recipient: str
    event: str
    ref: str
    severity: str
    institution_id: str | None
    title: str
    text: str
    url: str | None


class NotificationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def enqueue(self, deliveries: list[NewDelivery], now: float) -> int:
        """Store the messages of one notice, due now; one already stored (same notifier, recipient, event and
        thing) is not stored again. Returns how many are new."""
        added = 0
        with self._db.write() as cur:
            for d in deliveries:
                cur.execute(
                    "INSERT INTO notification_deliveries (notifier_id, recipient, event, ref, severity, institution_id,"
                    " title, text, url, state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (notifier_id, recipient, event, ref) DO NOTHING",
                    (
                        d.notifier_id,
                        d.recipient,
                        d.event,
                        d.ref,
                        d.severity,
                        d.institution_id,
                        d.title,
                        d.text,
                        d.url,
                        PENDING,
                        now,
                        now,
                    ),
                )
                added += cur.rowcount
        return added

    def due(self, now: float, limit: int = 100) -> list[Delivery]:
        rows = self._db.read(
            "SELECT * FROM notification_deliveries WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at"
            " LIMIT ?",
            (PENDING, now, limit),
        )
        return [_delivery(r) for r in rows]

    def still_due(self, delivery_id: int, now: float) -> Delivery | None:
        """The delivery as it stands, if it is still pending and due now."""
        rows = self._db.read(
            "SELECT * FROM notification_deliveries WHERE id = ? AND state = ? AND next_attempt_at <= ?",
            (delivery_id, PENDING, now),
        )
        return _delivery(rows[0]) if rows else None

    def next_due_after(self, now: float) -> float | None:
        """When the next retry falls due (the earliest pending delivery not yet due), or None."""
        rows = self._db.read(
            "SELECT MIN(next_attempt_at) AS t FROM notification_deliveries WHERE state = ? AND next_attempt_at > ?",
            (PENDING, now),
        )
        found = rows[0]["t"]
        return float(found) if found is not None else None

    def delivered(self, delivery_id: int, at: float) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE notification_deliveries SET state = ?, attempts = attempts + 1, delivered_at = ?,"
                " last_error = NULL WHERE id = ?",
                (DELIVERED, at, delivery_id),
            )

    def attempt_failed(self, delivery_id: int, error: str, retry_at: float | None) -> None:
        """One more failed attempt; `retry_at` None: given up."""
        with self._db.write() as cur:
            cur.execute(
                "UPDATE notification_deliveries SET attempts = attempts + 1, last_error = ?, state = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
                (error[:500], PENDING if retry_at is not None else FAILED, retry_at, delivery_id),
            )

    def give_up(self, delivery_id: int, reason: str) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE notification_deliveries SET state = ?, last_error = ? WHERE id = ?",
                (FAILED, reason[:500], delivery_id),
            )

    def find(
        self,
        *,
        state: str | None = None,
        notifier_id: str | None = None,
        institutions: list[str] | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[Delivery]:
        """Newest first; `institutions`: only deliveries about these (None: all, those about none too)."""
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (("state", state), ("notifier_id", notifier_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if institutions is not None:
            clauses.append(f"institution_id IN ({', '.join('?' * len(institutions))})" if institutions else "0")
            params += institutions
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._db.read(f"SELECT * FROM notification_deliveries{where} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [_delivery(r) for r in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        """(notifier, state) -> deliveries."""
        rows = self._db.read(
            "SELECT notifier_id, state, COUNT(*) AS n FROM notification_deliveries GROUP BY notifier_id, state"
        )
        return {(r["notifier_id"], r["state"]): int(r["n"]) for r in rows}

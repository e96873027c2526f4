"""Camera health history: state changes with their cause, and periodic measurements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.store.database import Database


@dataclass(frozen=True, slots=True)
class HealthEvent:
    camera_id: str
    at: float
    state: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class HealthSample:
    camera_id: str
    at: float
    state: str
    fps: float
    bitrate_bps: float
    reconnects: int
    last_packet_age_s: float | None


class HealthRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add_events(self, events: Sequence[HealthEvent]) -> None:
        if not events:
            return
        with self._db.write() as cur:
            cur.executemany(
                "INSERT INTO camera_health_events (camera_id, at, state, detail) VALUES (?, ?, ?, ?)",
                [(e.camera_id, e.at, e.state, e.detail) for e in events],
            )

    def add_samples(self, samples: Sequence[HealthSample]) -> None:
        if not samples:
            return
        with self._db.write() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO camera_health_samples"
                " (camera_id, at, state, fps, bitrate_bps, reconnects, last_packet_age_s)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (s.camera_id, s.at, s.state, s.fps, s.bitrate_bps, s.reconnects, s.last_packet_age_s)
                    for s in samples
                ],
            )

    def events(self, camera_id: str, since: float = 0.0, limit: int = 100) -> list[HealthEvent]:
        rows = self._db.read(
            "SELECT camera_id, at, state, detail FROM camera_health_events"
            " WHERE camera_id = ? AND at >= ? ORDER BY at DESC, id DESC LIMIT ?",
            (camera_id, since, limit),
        )
        return [HealthEvent(r["camera_id"], r["at"], r["state"], r["detail"]) for r in rows]

    def samples(self, camera_id: str, since: float = 0.0, limit: int = 1440) -> list[HealthSample]:
        rows = self._db.read(
            "SELECT * FROM camera_health_samples WHERE camera_id = ? AND at >= ? ORDER BY at DESC LIMIT ?",
            (camera_id, since, limit),
        )
        return [
            HealthSample(
                r["camera_id"],
                r["at"],
                r["state"],
                r["fps"],
                r["bitrate_bps"],
                r["reconnects"],
                r["last_packet_age_s"],
            )
            for r in rows
        ]

    def prune(self, before: float) -> int:
        with self._db.write() as cur:
            cur.execute("DELETE FROM camera_health_events WHERE at < ?", (before,))
            removed = cur.rowcount
            cur.execute("DELETE FROM camera_health_samples WHERE at < ?", (before,))
            return removed + cur.rowcount

"""The aggregates compliance statistics are computed from: counted and summed by SQLite over a time range, so a
year of a town's cases or a month of its health samples never crosses into Python row by row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.cases import RUNNING
from core.store.database import Database

_RUNNING = ", ".join(f"'{s.value}'" for s in sorted(RUNNING))


@dataclass(frozen=True, slots=True)
class CaseGroup:
    """Cases of one institution opened in the range, alike in kind, state and source."""

    institution_id: str
    camera_id: str | None
    kind: str
    state: str
    source: str
    count: int
    overdue: int  # flagged overdue by the sweep, or still with the institution past their deadline
    rectify_s: float  # verified ones: seconds from opening to verification, summed


@dataclass(frozen=True, slots=True)
class CameraSpan:
    """When the store first saw a camera configured, and when it left the configuration (None: still there)."""

    created_at: float
    removed_at: float | None


class StatisticsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def camera_spans(self, camera_ids: Sequence[str]) -> dict[str, CameraSpan]:
        rows = self._db.read(
            f"SELECT id, created_at, removed_at FROM cameras WHERE id IN ({_marks(camera_ids)})", tuple(camera_ids)
        )
        return {r["id"]: CameraSpan(r["created_at"], r["removed_at"]) for r in rows}

    def health_samples(self, camera_ids: Sequence[str], start: float, end: float) -> dict[str, tuple[int, int]]:
        """Per camera: (samples taken while online, samples taken) in [start, end)."""
        if not camera_ids:
            return {}
        rows = self._db.read(
            "SELECT camera_id, SUM(state = 'online') AS online, COUNT(*) AS n FROM camera_health_samples"
            f" WHERE camera_id IN ({_marks(camera_ids)}) AND at >= ? AND at < ? GROUP BY camera_id",
            (*camera_ids, start, end),
        )
        return {r["camera_id"]: (int(r["online"]), int(r["n"])) for r in rows}

    def recorded_seconds(self, camera_id: str, start: float, end: float) -> float:
        """Seconds of [start, end) the camera's indexed segments cover."""
        if end <= start:
            return 0.0
        rows = self._db.read(
            "SELECT COALESCE(SUM(MIN(end_ts, ?) - MAX(start_ts, ?)), 0) AS s FROM recording_segments"
            " WHERE camera_id = ? AND start_ts < ? AND end_ts > ?",
            (end, start, camera_id, end, start),
        )
        return float(rows[0]["s"])

    def case_groups(self, institution_ids: Sequence[str], start: float, end: float, now: float) -> list[CaseGroup]:
        if not institution_ids:
            return []
        rows = self._db.read(
            "SELECT institution_id, camera_id, kind, state, source, COUNT(*) AS n,"
            f" SUM(overdue_at IS NOT NULL OR (state IN ({_RUNNING}) AND deadline_at < ?)) AS overdue,"
            " COALESCE(SUM(CASE WHEN state = 'verified' THEN closed_at - opened_at END), 0) AS rectify_s"
            f" FROM cases WHERE institution_id IN ({_marks(institution_ids)}) AND opened_at >= ? AND opened_at < ?"
            " GROUP BY institution_id, camera_id, kind, state, source",
            (now, *institution_ids, start, end),
        )
        return [
            CaseGroup(
                r["institution_id"],
                r["camera_id"],
                r["kind"],
                r["state"],
                r["source"],
                int(r["n"]),
                int(r["overdue"]),
                float(r["rectify_s"]),
            )
            for r in rows
        ]

    def violation_counts(
        self, institution_ids: Sequence[str], start: float, end: float
    ) -> list[tuple[str, str, str, int]]:
        """(institution, camera, kind, violations started in [start, end))."""
        if not institution_ids:
            return []
        rows = self._db.read(
            "SELECT institution_id, camera_id, type, COUNT(*) AS n FROM violations"
            f" WHERE institution_id IN ({_marks(institution_ids)}) AND started_at >= ? AND started_at < ?"
            " GROUP BY institution_id, camera_id, type",
            (*institution_ids, start, end),
        )
        return [(r["institution_id"], r["camera_id"], r["type"], int(r["n"])) for r in rows]

    def finished_inspections(self, level: str, unit_ids: Sequence[str], periods: Sequence[str]) -> set[tuple[str, str]]:
        """(unit, period) of the units inspected at `level` with a finished inspection in one of `periods`."""
        if not unit_ids or not periods:
            return set()
        rows = self._db.read(
            "SELECT DISTINCT unit_id, period FROM inspections WHERE level = ? AND finished_at IS NOT NULL"
            f" AND unit_id IN ({_marks(unit_ids)}) AND period IN ({_marks(periods)})",
            (level, *unit_ids, *periods),
        )
        return {(r["unit_id"], r["period"]) for r in rows}


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values)) or "NULL"

"""The recordings index: segments, gaps and holds, addressed by camera and UTC time."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from core.store.database import Database


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    camera_id: str
    path: str
    start_ts: float
    end_ts: float
    size_bytes: int
    init_size: int
    codec: str
    width: int
    height: int
    params: str
    keyframes: tuple[float, ...]  # offsets from start_ts
    state: str

    @property
    def duration_s(self) -> float:
        return self.end_ts - self.start_ts

    def keyframe_at_or_before(self, at: float) -> float:
        """The UTC time of the last key frame at or before `at` (the segment's first one if none is)."""
        best = self.keyframes[0] if self.keyframes else 0.0
        for offset in self.keyframes:
            if self.start_ts + offset > at + 1e-6:
                break
            best = offset
        return self.start_ts + best


@dataclass(frozen=True, slots=True)
class NewSegment:
    """What the recorder knows when it opens a segment."""

    camera_id: str
    path: str
    start_ts: float
    init_size: int
    codec: str
    width: int
    height: int
    params: str


@dataclass(frozen=True, slots=True)
class Gap:
    id: int
    camera_id: str
    start_ts: float
    end_ts: float | None  # None while it lasts
    cause: str


def _keyframes_text(offsets: Iterable[float]) -> str:
    return ",".join(f"{o:.3f}" for o in offsets)


def _segment(row: sqlite3.Row) -> Segment:
    text = row["keyframes"]
    return Segment(
        row["id"],
        row["camera_id"],
        row["path"],
        row["start_ts"],
        row["end_ts"],
        row["size_bytes"],
        row["init_size"],
        row["codec"],
        row["width"],
        row["height"],
        row["params"],
        tuple(float(v) for v in text.split(",")) if text else (),
        row["state"],
    )


def _gap(row: sqlite3.Row) -> Gap:
    return Gap(row["id"], row["camera_id"], row["start_ts"], row["end_ts"], row["cause"])


class RecordingRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def together(self) -> AbstractContextManager[object]:
        """Changes made inside commit as one transaction; a change that raises undoes only itself."""
        return self._db.write()

    # --- segments -----------------------------------------------------------------------------

    def open_segment(self, new: NewSegment) -> int:
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO recording_segments (camera_id, path, start_ts, end_ts, size_bytes, init_size, codec,"
                " width, height, params, keyframes, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 'open')",
                (
                    new.camera_id,
                    new.path,
                    new.start_ts,
                    new.start_ts,
                    new.init_size,
                    new.init_size,
                    new.codec,
                    new.width,
                    new.height,
                    new.params,
                ),
            )
            return int(cur.lastrowid or 0)

    def update_segment(
        self,
        segment_id: int,
        end_ts: float,
        size_bytes: int,
        keyframes: Sequence[float],
        init_size: int,
        closed: bool = False,
        start_ts: float | None = None,
    ) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE recording_segments SET start_ts = COALESCE(?, start_ts), end_ts = ?, size_bytes = ?,"
                " keyframes = ?, init_size = ?, state = ? WHERE id = ?",
                (
                    start_ts,
                    end_ts,
                    size_bytes,
                    _keyframes_text(keyframes),
                    init_size,
                    "closed" if closed else "open",
                    segment_id,
                ),
            )

    def add_closed_segment(self, new: NewSegment, end_ts: float, size_bytes: int, keyframes: Sequence[float]) -> int:
        """Index a segment found on disk without a row (reconciliation)."""
        segment_id = self.open_segment(new)
        self.update_segment(segment_id, end_ts, size_bytes, keyframes, new.init_size, closed=True)
        return segment_id

    def delete_segments(self, segment_ids: Sequence[int]) -> None:
        with self._db.write() as cur:
            cur.executemany("DELETE FROM recording_segments WHERE id = ?", [(i,) for i in segment_ids])

    def segment(self, segment_id: int) -> Segment | None:
        rows = self._db.read("SELECT * FROM recording_segments WHERE id = ?", (segment_id,))
        return _segment(rows[0]) if rows else None

    def segments(self, camera_id: str, start_ts: float, end_ts: float) -> list[Segment]:
        """Segments of `camera_id` overlapping [start_ts, end_ts), in time order."""
        rows = self._db.read(
            "SELECT * FROM recording_segments WHERE camera_id = ? AND start_ts < ? AND end_ts > ? ORDER BY start_ts",
            (camera_id, end_ts, start_ts),
        )
        return [_segment(r) for r in rows]

    def open_segments(self) -> list[Segment]:
        return [_segment(r) for r in self._db.read("SELECT * FROM recording_segments WHERE state = 'open'")]

    def all_paths(self) -> dict[str, int]:
        return {r["path"]: r["id"] for r in self._db.read("SELECT id, path FROM recording_segments")}

    def last_end(self, camera_id: str, started_before: float | None = None) -> float | None:
        """The end of the camera's last video (of its segments started before `started_before`, if given)."""
        rows = self._db.read(
            "SELECT MAX(end_ts) AS e FROM recording_segments WHERE camera_id = ? AND (? IS NULL OR start_ts < ?)",
            (camera_id, started_before, started_before),
        )
        end: float | None = rows[0]["e"]
        return end

    def first_start(self, camera_id: str, since: float | None = None) -> float | None:
        """The start of the camera's first segment (of those started at or after `since`, if given)."""
        rows = self._db.read(
            "SELECT MIN(start_ts) AS s FROM recording_segments WHERE camera_id = ? AND (? IS NULL OR start_ts >= ?)",
            (camera_id, since, since),
        )
        start: float | None = rows[0]["s"]
        return start

    def total_bytes(self) -> int:
        return int(self._db.read("SELECT COALESCE(SUM(size_bytes), 0) AS n FROM recording_segments")[0]["n"])

    def expired(self, camera_id: str, before_ts: float, now: float, limit: int) -> list[Segment]:
        """Closed segments of a camera that ended before `before_ts` and no hold keeps, oldest first."""
        return self._deletable("s.camera_id = ? AND s.end_ts < ?", (camera_id, before_ts), now, limit)

    def oldest(self, now: float, limit: int) -> list[Segment]:
        """The oldest closed segments of any camera that no hold keeps."""
        return self._deletable("1 = 1", (), now, limit)

    def _deletable(self, where: str, params: tuple[object, ...], now: float, limit: int) -> list[Segment]:
        rows = self._db.read(
            f"SELECT s.* FROM recording_segments s WHERE {where} AND s.state = 'closed' AND NOT EXISTS ("
            " SELECT 1 FROM recording_holds h WHERE h.camera_id = s.camera_id AND h.start_ts < s.end_ts"
            " AND h.end_ts > s.start_ts AND (h.held_until IS NULL OR h.held_until > ?))"
            " ORDER BY s.end_ts LIMIT ?",
            (*params, now, limit),
        )
        return [_segment(r) for r in rows]

    def camera_ids(self) -> list[str]:
        return [r["camera_id"] for r in self._db.read("SELECT DISTINCT camera_id FROM recording_segments")]

    # --- gaps ---------------------------------------------------------------------------------

    def open_gap(self, camera_id: str, start_ts: float, cause: str) -> None:
        """A gap begins, unless one is already open for the camera (the first cause is the real one)."""
        with self._db.write() as cur:
            cur.execute("SELECT 1 FROM recording_gaps WHERE camera_id = ? AND end_ts IS NULL", (camera_id,))
            if cur.fetchone() is None:
                cur.execute(
                    "INSERT INTO recording_gaps (camera_id, start_ts, end_ts, cause) VALUES (?, ?, NULL, ?)",
                    (camera_id, start_ts, cause),
                )

    def close_gap(self, camera_id: str, end_ts: float) -> None:
        """Recording resumed at `end_ts`: the camera's open gap, if any, ends there."""
        with self._db.write() as cur:
            cur.execute(
                "UPDATE recording_gaps SET end_ts = MAX(start_ts, ?) WHERE camera_id = ? AND end_ts IS NULL",
                (end_ts, camera_id),
            )

    def gaps(self, camera_id: str, start_ts: float, end_ts: float) -> list[Gap]:
        rows = self._db.read(
            "SELECT * FROM recording_gaps WHERE camera_id = ? AND start_ts < ? AND (end_ts IS NULL OR end_ts > ?)"
            " ORDER BY start_ts",
            (camera_id, end_ts, start_ts),
        )
        return [_gap(r) for r in rows]

    def prune_gaps(self, camera_id: str, before_ts: float) -> None:
        with self._db.write() as cur:
            cur.execute(
                "DELETE FROM recording_gaps WHERE camera_id = ? AND end_ts IS NOT NULL AND end_ts < ?",
                (camera_id, before_ts),
            )

    # --- holds --------------------------------------------------------------------------------

    def hold(self, camera_id: str, start_ts: float, end_ts: float, reference: str) -> None:
        """Keep this span of video whatever retention says, until `release(reference)`."""
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO recording_holds (camera_id, start_ts, end_ts, reference, held_until, created_at)"
                " VALUES (?, ?, ?, ?, NULL, ?)",
                (camera_id, start_ts, end_ts, reference, time.time()),
            )

    def set_hold_range(self, reference: str, start_ts: float, end_ts: float) -> None:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE recording_holds SET start_ts = ?, end_ts = ? WHERE reference = ?", (start_ts, end_ts, reference)
            )

    def release(self, reference: str, keep_for_s: float, now: float | None = None) -> None:
        """The reason to hold is gone (the case is closed): keep the video `keep_for_s` more, then let go."""
        now = time.time() if now is None else now
        with self._db.write() as cur:
            cur.execute(
                "UPDATE recording_holds SET held_until = ? WHERE reference = ? AND held_until IS NULL",
                (now + keep_for_s, reference),
            )

    def hold_state(self, reference: str) -> tuple[bool, float | None]:
        """Whether anything is held for `reference`, and until when once released (None: still held)."""
        rows = self._db.read("SELECT held_until FROM recording_holds WHERE reference = ?", (reference,))
        if not rows:
            return False, None
        ends = [row["held_until"] for row in rows]
        return True, None if any(end is None for end in ends) else max(ends)

    def prune_holds(self, now: float) -> None:
        with self._db.write() as cur:
            cur.execute("DELETE FROM recording_holds WHERE held_until IS NOT NULL AND held_until < ?", (now,))

"""recordings/index_writer.py: the recorders' changes to the index, queued and written by one thread into a real
SQLite file: many in one transaction, in order, none lost while the database cannot be written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.store import Store
from core.store.recordings import NewSegment
from recordings.index_writer import IndexWriter


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(str(tmp_path / "index.db"))


def _segment(camera: str, start: float) -> NewSegment:
    return NewSegment(camera, f"{camera}/x/{start:.0f}.mp4", start, 800, "h264", 1920, 1080, "p")


def test_changes_queued_while_the_database_is_busy_commit_together_in_their_order(store: Store) -> None:
    index = IndexWriter(store.recordings)
    with store.db.write():  # the process's write lock held elsewhere: the recorders' changes wait in the queue
        rows = []
        for n in range(48):
            index.open_gap(f"cam{n}", 100.0, "worker died")
            rows.append(index.open_segment(_segment(f"cam{n}", 110.0)))
            index.close_gap(f"cam{n}", 110.0)
        time.sleep(0.2)
        assert index.pending >= 143  # the first change may already be in the thread's hands
    assert index.flush(5)
    assert index.transactions <= 2  # 144 changes, 144 write transactions before
    for n, row in enumerate(rows):
        (segment,) = store.recordings.segments(f"cam{n}", 0, 1e9)
        assert (segment.id, segment.path, segment.state) == (row.id, row.path, "open")
        # The gap opened, then closed where the segment began: the order kept.
        assert [(g.start_ts, g.end_ts, g.cause) for g in store.recordings.gaps(f"cam{n}", 0, 1e9)] == [
            (100.0, 110.0, "worker died")
        ]
    index.stop()


def test_a_rows_updates_waiting_together_become_its_last(store: Store) -> None:
    index = IndexWriter(store.recordings)
    with store.db.write():
        row = index.open_segment(_segment("cam", 0.0))
        for second in range(1, 11):
            index.update_segment(row, second, second * 1000, range(0, second, 2), 800, closed=second == 10, start_ts=0)
        time.sleep(0.2)
        assert index.pending <= 2  # the insert and one update, not eleven changes
    assert index.flush(5)
    (segment,) = store.recordings.segments("cam", 0, 1e9)
    assert (segment.end_ts, segment.size_bytes, segment.keyframes, segment.state) == (
        10.0,
        10_000,
        (0.0, 2.0, 4.0, 6.0, 8.0),
        "closed",
    )
    index.stop()


def test_a_full_database_loses_no_change_they_are_written_once_there_is_room(store: Store) -> None:
    conn = store.db._conn  # SQLite's own limit on the file's size: a real "database or disk is full"
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    index = IndexWriter(store.recordings)
    row = index.open_segment(_segment("cam", 0.0))
    index.open_gap("cam", 60.0, "camera: connection reset " + "x" * 50_000)  # too big for the full file
    for second in range(1, 31):
        index.update_segment(row, second, second * 1000, [0.0], 800, start_ts=0)
    assert not index.flush(1.5)
    assert index.last_error is not None and "full" in index.last_error
    assert store.recordings.segments("cam", 0, 1e9) == []  # nothing half-written meanwhile
    assert index.pending <= 3  # the insert, the gap and one update: updates merged while it waited
    conn.execute(f"PRAGMA max_page_count = {pages + 10_000}")  # room again
    assert index.flush(5)
    assert index.last_error is None
    (segment,) = store.recordings.segments("cam", 0, 1e9)
    assert (segment.id, segment.end_ts, segment.size_bytes) == (row.id, 30.0, 30_000)
    assert [g.start_ts for g in store.recordings.gaps("cam", 0, 1e9)] == [60.0]
    index.stop()


def test_a_change_that_fails_by_itself_is_dropped_and_the_others_are_written(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    index = IndexWriter(store.recordings)
    first = index.open_segment(_segment("cam", 0.0))
    again = index.open_segment(_segment("cam", 0.0))  # the same path twice: the index refuses the second
    index.open_gap("cam", 60.0, "camera: connection reset")
    index.update_segment(again, 5.0, 5000, [0.0], 800)  # the refused row's update has no row to go to
    assert index.flush(5)
    assert first.id is not None and again.id is None
    assert [g.cause for g in store.recordings.gaps("cam", 0, 1e9)] == ["camera: connection reset"]
    assert "a change failed and is dropped" in caplog.text
    index.stop()

"""The recordings index as one process's recorders change it, written by a thread of its own.

A recorder that wrote its index rows itself waited for its process's one SQLite write lock, and for the other
processes' writers behind it: 96 cameras opening their segments in the same second (after a worker's restart, or
at a segment boundary all cameras share) held recorders 0.3-6 s with their packets queued. Here a recorder only
queues a change and goes on writing video; the thread takes every change queued meanwhile and commits them in
one transaction (group commit), so a burst of N changes costs one write lock, not N.

Nothing in the index is needed to keep video: a change still queued when the process dies is made good by
reconciliation (`recordings.reconcile` indexes a file without a row and closes an open one from its fragments).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.store.recordings import NewSegment, RecordingRepository

log = logging.getLogger(__name__)

_RETRY_S = 1.0  # after the database refused a transaction (a full disk, an I/O error, a lock held too long)


class SegmentRow:
    """A segment's row as its recorder knows it: queued to be written; its id is known once it is."""

    __slots__ = ("path", "id", "pending_update")

    def __init__(self, path: str) -> None:
        self.path = path
        self.id: int | None = None
        self.pending_update: _Update | None = None  # the row's last update, while it waits to be written


@dataclass(eq=False, slots=True)
class _Update:
    row: SegmentRow
    end_ts: float
    size_bytes: int
    keyframes: tuple[float, ...]
    init_size: int
    closed: bool
    start_ts: float | None

    def take(self, newer: _Update) -> None:
        """Become `newer` (an update sets the whole row: the later one is all that counts)."""
        self.end_ts, self.size_bytes, self.keyframes = newer.end_ts, newer.size_bytes, newer.keyframes
        self.init_size, self.closed, self.start_ts = newer.init_size, newer.closed, newer.start_ts

    def __call__(self, repository: RecordingRepository) -> None:
        if self.row.id is None:
            log.warning("recordings index: %s has no row to update (its insert failed)", self.row.path)
            return
        repository.update_segment(
            self.row.id,
            self.end_ts,
            self.size_bytes,
            self.keyframes,
            self.init_size,
            closed=self.closed,
            start_ts=self.start_ts,
        )


Change = Callable[[RecordingRepository], None]


class IndexWriter:
    """Queues the recorders' changes to the index, in order, and writes them from one daemon thread.

    Changes to one segment row keep their order with the others; an update of a row replaces the row's update
    still waiting (every update sets the whole row), so while the database cannot be written the queue grows by
    segments opened and gaps, not by every recorder's periodic update.
    """

    def __init__(self, repository: RecordingRepository, name: str = "recordings-index") -> None:
        self._repo = repository
        self._pending: deque[Change] = deque()
        self._changed = threading.Condition()
        self._in_flight = 0  # changes taken by the thread and not yet written
        self._stopping = False
        self.transactions = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # --- the recorders' side --------------------------------------------------------------------

    def open_segment(self, new: NewSegment) -> SegmentRow:
        row = SegmentRow(new.path)

        def insert(repository: RecordingRepository) -> None:
            row.id = repository.open_segment(new)

        self._queue(insert)
        return row

    def update_segment(
        self,
        row: SegmentRow,
        end_ts: float,
        size_bytes: int,
        keyframes: Sequence[float],
        init_size: int,
        closed: bool = False,
        start_ts: float | None = None,
    ) -> None:
        update = _Update(row, end_ts, size_bytes, tuple(keyframes), init_size, closed, start_ts)
        with self._changed:
            if row.pending_update is not None:
                row.pending_update.take(update)
                return
            row.pending_update = update
            self._append(update)

    def delete_segment(self, row: SegmentRow) -> None:
        def delete(repository: RecordingRepository) -> None:
            if row.id is not None:
                repository.delete_segments([row.id])

        self._queue(delete)

    def open_gap(self, camera_id: str, start_ts: float, cause: str) -> None:
        self._queue(lambda repository: repository.open_gap(camera_id, start_ts, cause))

    def close_gap(self, camera_id: str, end_ts: float) -> None:
        self._queue(lambda repository: repository.close_gap(camera_id, end_ts))

    # --- waiting for it -------------------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every change queued is written; False if `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not (self._pending or self._in_flight), timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (waiting at most `timeout`) and end the thread."""
        written = self.flush(timeout)
        with self._changed:
            self._stopping = True
            lost = self.pending
            self._changed.notify_all()
        if not written:
            log.error(
                "recordings index: %d change(s) not written at stop (%s); the next start indexes their files",
                lost,
                self.last_error or "the database did not answer",
            )
        self._thread.join(timeout=1.0)

    @property
    def pending(self) -> int:
        """Changes not yet written."""
        return len(self._pending) + self._in_flight

    # --- the thread -----------------------------------------------------------------------------

    def _queue(self, change: Change) -> None:
        with self._changed:
            self._append(change)

    def _append(self, change: Change) -> None:
        self._pending.append(change)
        self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._stopping)
                if self._stopping:
                    return
                batch = list(self._pending)
                self._pending.clear()
                self._in_flight = len(batch)
                for change in batch:  # taken: a later update of the row is a change of its own
                    if isinstance(change, _Update):
                        change.row.pending_update = None
            written = self._write(batch)
            with self._changed:
                self._in_flight = 0
                if written:
                    self._changed.notify_all()
                else:
                    self._requeue(batch)
                    self._changed.wait_for(lambda: self._stopping, _RETRY_S)

    def _requeue(self, batch: list[Change]) -> None:
        """Put a refused batch back in front, each row's update again the one later updates merge into (under
        the lock)."""
        for change in batch:
            if isinstance(change, _Update):
                newer = change.row.pending_update  # queued while the batch was tried
                if newer is not None:
                    change.take(newer)
                    self._pending.remove(newer)
                change.row.pending_update = change
        self._pending.extendleft(reversed(batch))

    def _write(self, batch: list[Change]) -> bool:
        """The batch in one transaction; False if the database refused it (every change of it is tried again)."""
        try:
            with self._repo.together():
                for change in batch:
                    try:
                        change(self._repo)
                    except Exception as error:
                        if isinstance(error, sqlite3.Error) and not isinstance(error, sqlite3.IntegrityError):
                            # The database, not the change (a full disk, an I/O error, which may have ended the
                            # transaction itself): the whole batch waits for the next try.
                            raise
                        log.exception("recordings index: a change failed and is dropped")
        except sqlite3.Error as error:
            text = f"{type(error).__name__}: {error}"
            if text != self.last_error:
                log.error(
                    "recordings index: cannot write (%s); %d change(s) wait and are tried again", text, len(batch)
                )
            self.last_error = text
            return False
        if self.last_error is not None:
            log.warning("recordings index: written again after %s", self.last_error)
            self.last_error = None
        self.transactions += 1
        return True

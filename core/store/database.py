"""SQLite connection, write-ahead logging and schema migrations.

Repositories talk to `Database` only through `read`/`write` and portable SQL with `?` placeholders, so a
PostgreSQL implementation of the same two calls can serve them unchanged.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)


class Database:
    """One SQLite connection for writes, shared by the service's threads and serialised by a lock; reads of a
    file database go through a connection of each reading thread's own.

    Under WAL readers never wait for the writer nor for each other, so twenty API requests listing cases run side
    by side instead of queueing behind one lock (bench/api.py). A read inside a write transaction uses the
    writer's connection, to see what the transaction wrote.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across process crashes under WAL; only a power loss may drop the last commits.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._local = threading.local()
        self._readers: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    @contextmanager
    def write(self) -> Iterator[sqlite3.Cursor]:
        """A cursor inside a transaction: committed on success, rolled back on error.

        Nested in another write of the same thread it is a savepoint of that transaction: an error undoes only
        its own changes, and nothing is committed before the outermost write ends (a batch of repository calls,
        each a write of its own, commits once: `recordings.index_writer`).
        """
        with self._lock:
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            begin, commit, rollback = (
                ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
                if depth == 0
                else (f"SAVEPOINT w{depth}", f"RELEASE w{depth}", f"ROLLBACK TO w{depth}")
            )
            cursor = self._conn.cursor()

            def undo() -> None:
                # Some errors (a full disk, an I/O error) end the transaction themselves: nothing to undo then.
                if self._conn.in_transaction:
                    cursor.execute(rollback)
                    if depth:
                        cursor.execute(commit)  # a savepoint rolled back to stays open until released

            try:
                cursor.execute(begin)
                try:
                    yield cursor
                    cursor.execute(commit)
                except BaseException:
                    undo()  # a failed COMMIT too: the connection must not stay inside the transaction
                    raise
            finally:
                cursor.close()
                self._local.depth = depth

    @property
    def _writing(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    def read(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        if self.path is None or self._writing:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        return self._reader().execute(sql, params).fetchall()

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if conn is not None:
            return conn
        # Used by its own thread only; closed by whichever thread finds that one gone, hence not same-thread.
        conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only=ON")
        with self._readers_lock:
            if self._closed:
                conn.close()
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            # Threads come and go (a camera reconnects, the pool shrinks): their connections go with them.
            for thread, old in [r for r in self._readers if (t := r[0]()) is None or not t.is_alive()]:
                old.close()
                self._readers.remove((thread, old))
            self._readers.append((weakref.ref(threading.current_thread()), conn))
        self._local.reader = conn
        return conn

    def close(self) -> None:
        with self._readers_lock:
            self._closed = True
            for _, conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._lock:
            self._conn.close()

    # --- migrations ---------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Apply the packaged migrations not yet applied, in order; returns the names applied."""
        with self.write() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
        done = {row["version"] for row in self.read("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in _migrations():
            if version in done:
                continue
            with self.write() as cur:
                for statement in _statements(sql):
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, time.time()),
                )
            log.info("store: applied migration %s", name)
            applied.append(name)
        return applied

    def schema_version(self) -> int:
        rows = self.read("SELECT MAX(version) AS v FROM schema_migrations")
        return int(rows[0]["v"] or 0)


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("core.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    # Split on ';', joining pieces until SQLite itself calls the text a complete statement: a trigger's body has
    # its own ';'s (executescript would do the splitting, but it commits first, outside the migration's transaction).
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    statements: list[str] = []
    pending = ""
    for piece in "\n".join(lines).split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending.strip().removesuffix(";"))
            pending = ""
    if pending.strip(" \n\t;"):
        statements.append(pending.strip().removesuffix(";"))
    return statements

"""core/store/audit.py and audit_chain.py: the audit log is append-only, chained, and says where it was broken."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from core.store.audit import AuditQuery, AuditRepository
from core.store.audit_chain import GENESIS, canonical, link
from core.store.database import Database, _migrations, _statements


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "vms.db")
    database.migrate()
    return database


def _raw(db: Database) -> sqlite3.Connection:
    """A second connection, as someone with the database file would open it."""
    assert db.path is not None
    return sqlite3.connect(db.path, isolation_level=None)


def test_rows_are_chained_and_verify(db: Database) -> None:
    audit = AuditRepository(db)
    first = audit.record("login", user_id=1, username="zhang", client="10.0.0.7")
    second = audit.record("recordings.playback", username="zhang", target="gate", start=100, end=160.5)
    assert first.hash == link(GENESIS, first.chained_fields())
    assert second.hash == link(first.hash or "", second.chained_fields())
    assert (second.range_start, second.range_end) == (100.0, 160.5)
    report = audit.verify()
    assert (report.ok, report.rows, report.head_id, report.head_hash) == (True, 2, 2, second.hash)
    # What a verifier elsewhere recomputes: SHA-256 of the previous hash, a newline and the fields as JSON.
    assert canonical(second.chained_fields()).startswith(b"[2,")
    assert b'"recordings.playback","gate",null,null,100.0,160.5]' in canonical(second.chained_fields())


def test_the_store_refuses_to_change_delete_or_insert_around_the_chain(db: Database) -> None:
    AuditRepository(db).record("snapshot", username="zhang", target="gate")
    with _raw(db) as raw:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("UPDATE audit_log SET username = 'li'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("UPDATE audit_log SET hash = ?", ("0" * 64,))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("DELETE FROM audit_log")
        with pytest.raises(sqlite3.IntegrityError, match="chained"):
            raw.execute("INSERT INTO audit_log (at, action) VALUES (1, 'forged')")


def _tamper(db: Database, *statements: str) -> None:
    """What it takes to change the log: dropping the triggers first."""
    with _raw(db) as raw:
        raw.execute("DROP TRIGGER audit_log_no_update")
        raw.execute("DROP TRIGGER audit_log_no_delete")
        for statement in statements:
            raw.execute(statement)


def test_a_changed_row_is_named(db: Database) -> None:
    audit = AuditRepository(db)
    for n in range(5):
        audit.record("live_view", username="zhang", target=f"cam{n}")
    _tamper(db, "UPDATE audit_log SET username = 'li' WHERE id = 3")
    report = audit.verify()
    assert (report.ok, report.first_broken_id, report.head_id) == (False, 3, 2)
    assert report.reason is not None and "changed" in report.reason


def test_a_removed_row_is_named(db: Database) -> None:
    audit = AuditRepository(db)
    for n in range(5):
        audit.record("live_view", username="zhang", target=f"cam{n}")
    _tamper(db, "DELETE FROM audit_log WHERE id = 2")
    report = audit.verify()
    assert (report.ok, report.first_broken_id, report.reason) == (False, 3, "row 2 is missing, or the row was changed")


def test_rows_written_before_the_chain_are_sealed_at_the_first_start(tmp_path: Path) -> None:
    """An existing database: migrations up to 0008 applied, rows without hashes; 0009 and the start chain them."""
    old = Database(tmp_path / "old.db")
    with old.write() as cur:
        cur.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        for version, name, sql in _migrations():
            if version < 9:
                for statement in _statements(sql):
                    cur.execute(statement)
                cur.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, time.time()))
        for n in range(3):
            cur.execute(
                "INSERT INTO audit_log (at, username, action, target, client) VALUES (?, 'zhang', 'snapshot', ?, ?)",
                (1_700_000_000 + n, f"cam{n}", "10.0.0.7"),
            )
    old.migrate()
    audit = AuditRepository(old)
    audit.record("logout", username="zhang")
    report = audit.verify()
    assert (report.ok, report.rows) == (True, 4)
    assert audit.seal() == 0  # once sealed, sealed for good
    assert [e.target for e in audit.search(AuditQuery(action="snapshot"))] == ["cam2", "cam1", "cam0"]


def test_several_threads_write_one_chain(db: Database) -> None:
    audit = AuditRepository(db)

    def write(n: int) -> None:
        for i in range(40):
            audit.record("snapshot", username=f"user{n}", target=f"cam{i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = audit.verify()
    assert (report.ok, report.rows, report.head_id) == (True, 240, 240)


def test_queries_filter_scope_and_page(db: Database) -> None:
    audit = AuditRepository(db)
    audit.record("live_view", username="zhang", target="gate")
    audit.record("live_view.end", username="zhang", target="gate", start=1, end=2)
    audit.record("live_viewer", username="li", target="duty")  # not of the live_view family
    audit.record("config.reload", detail="SIGHUP")
    audit.record("export.create", username="li", target="duty", start=5, end=6)
    family = audit.search(AuditQuery(action="live_view"))
    assert [e.action for e in family] == ["live_view.end", "live_view"]
    assert [e.action for e in audit.search(AuditQuery(username="li"))] == ["export.create", "live_viewer"]
    assert [e.id for e in audit.search(AuditQuery(scope=["duty"]))] == [5, 3]
    assert audit.search(AuditQuery(scope=[])) == []
    page = audit.search(AuditQuery(), limit=2)
    assert [e.id for e in page] == [5, 4]
    assert [e.id for e in audit.search(AuditQuery(), limit=2, before_id=page[-1].id)] == [3, 2]
    assert [e.id for e in audit.each(AuditQuery(target="gate"))] == [1, 2]
    since = audit.search(AuditQuery())[1].at
    assert [e.id for e in audit.search(AuditQuery(since=since))] == [5, 4]

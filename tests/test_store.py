"""Store: migrations, WAL, repositories."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from core.organisation import OrgTree
from core.roles import Role
from core.store import Store
from core.store.database import Database
from core.store.health import HealthEvent, HealthSample
from core.store.login_throttle import LoginPolicy, LoginThrottle
from core.store.users import UserExists
from core.store.violations import ViolationFilter
from service.configuration import parse_config
from tests.rig.violations import open_violation

CONFIG = parse_config(
    {
        "organisation": {
            "id": "qd",
            "name": "启东市民政局",
            "towns": [
                {"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院"}]},
            ],
        },
        "cameras": [
            {"id": "c1", "name": "大门", "institution": "hl-jly", "role": "gate", "source": {"url": "rtsp://h/1"}},
            {"id": "c2", "name": "厨房", "institution": "hl-jly", "role": "kitchen", "source": {"url": "rtsp://h/2"}},
        ],
    }
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "vms.db")
    yield s
    s.close()


def test_migrations_apply_once_and_use_wal(tmp_path: Path) -> None:
    first = Store.open(tmp_path / "vms.db")
    assert first.db.schema_version() >= 1
    first.close()
    again = Store.open(tmp_path / "vms.db")
    assert again.db.migrate() == []  # nothing left to apply
    again.close()
    conn = sqlite3.connect(tmp_path / "vms.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_cameras_sync_marks_removed_and_revives(store: Store) -> None:
    store.org.sync(OrgTree(CONFIG))
    store.cameras.sync(CONFIG.cameras)
    assert store.cameras.active_ids() == ["c1", "c2"]
    store.cameras.sync(CONFIG.cameras[:1])
    assert store.cameras.active_ids() == ["c1"]
    row = store.db.read("SELECT name, removed_at FROM cameras WHERE id = 'c2'")[0]
    assert row["name"] == "厨房" and row["removed_at"] is not None  # kept, so history still names it
    store.cameras.sync(CONFIG.cameras)
    assert store.cameras.active_ids() == ["c1", "c2"]
    assert store.org.ids() == {"qd", "hl", "hl-jly"}


def test_health_history_round_trip_and_prune(store: Store) -> None:
    store.health.add_events(
        [HealthEvent("c1", 100.0, "offline", "connection refused"), HealthEvent("c1", 200.0, "online", None)]
    )
    store.health.add_samples([HealthSample("c1", 150.0, "online", 25.0, 4e6, 1, 0.04)])
    assert [(e.state, e.detail) for e in store.health.events("c1")] == [
        ("online", None),
        ("offline", "connection refused"),
    ]
    assert store.health.samples("c1")[0].fps == 25.0
    assert store.health.prune(before=160.0) == 2
    assert [e.at for e in store.health.events("c1")] == [200.0]


def test_users_passwords_and_sessions(store: Store) -> None:
    user = store.users.create("zhang", "correct horse", "hl", role=Role.TOWN_OFFICER, display_name="张三")
    with pytest.raises(UserExists):
        store.users.create("zhang", "other password", "hl")
    assert store.users.authenticate("zhang", "wrong") is None
    assert store.users.authenticate("nobody", "x") is None
    assert store.users.authenticate("zhang", "correct horse") == user
    stored = store.db.read("SELECT password_hash FROM users")[0]["password_hash"]
    assert "correct horse" not in stored and stored.startswith("scrypt$")

    token, _ = store.sessions.open(user.id, ttl_s=60)
    assert store.sessions.resolve(token) == user
    assert store.db.read("SELECT COUNT(*) AS n FROM sessions WHERE token_hash = ?", (token,))[0]["n"] == 0
    expired, _ = store.sessions.open(user.id, ttl_s=-1)
    assert store.sessions.resolve(expired) is None
    store.users.set_password("zhang", "new password!")  # a password change ends every session
    assert store.sessions.resolve(token) is None
    assert store.users.authenticate("zhang", "new password!") is not None


def test_api_tokens_act_as_their_user_until_revoked_expired_or_the_password_changes(store: Store) -> None:
    user = store.users.create("bot", "collector-password", "hl", role=Role.TOWN_OFFICER)
    secret, token = store.api_tokens.create(user.id, "city collector")
    assert secret.startswith("vmst_") and store.api_tokens.resolve(secret) == user
    assert secret not in str(store.db.read("SELECT * FROM api_tokens")[0])  # only its hash is kept
    assert store.api_tokens.get(token.id).last_used_at is not None  # type: ignore[union-attr]
    assert store.api_tokens.resolve(secret + "x") is None
    expired, _ = store.api_tokens.create(user.id, "old", ttl_s=-1)
    assert store.api_tokens.resolve(expired) is None
    assert store.api_tokens.revoke(token.id) and store.api_tokens.resolve(secret) is None
    again, _ = store.api_tokens.create(user.id, "again")
    store.users.update(user.id, disabled=True)
    assert store.api_tokens.resolve(again) is None  # a disabled account's tokens act as nobody
    store.users.update(user.id, disabled=False)
    assert store.api_tokens.resolve(again) == store.users.get(user.id)
    store.users.set_password("bot", "a new password")  # whoever knew the old password may hold its tokens
    assert store.api_tokens.resolve(again) is None


def test_role_unit_or_disabling_changes_end_the_sessions(store: Store) -> None:
    user = store.users.create("wang", "wang-password", "hl", role=Role.TOWN_OFFICER)
    token, _ = store.sessions.open(user.id, ttl_s=60)
    assert store.users.update(user.id, display_name="王五") is not None
    assert store.sessions.resolve(token) is not None  # a new name changes nothing they may see
    changed = store.users.update(user.id, role=Role.VIEWER)
    assert changed is not None and changed.role == "viewer" and store.sessions.resolve(token) is None
    assert store.users.update(10_000, display_name="x") is None


def test_the_first_roles_become_the_supervision_chains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.store import database

    db = Database(tmp_path / "old.db")
    every = database._migrations()
    monkeypatch.setattr(database, "_migrations", lambda: [m for m in every if m[0] < 7])
    db.migrate()  # a store as the version before roles left it
    with db.write() as cur:
        for unit, kind in (("qd", "bureau"), ("hl", "town"), ("hl-jly", "institution")):
            cur.execute("INSERT INTO org_units VALUES (?, NULL, ?, ?, 0)", (unit, kind, unit))
        for name, unit, role in (("a", "qd", "inspector"), ("b", "hl", "inspector"), ("c", "hl-jly", "inspector")):
            cur.execute(
                "INSERT INTO users (username, password_hash, org_unit_id, role, created_at) VALUES (?, 'x', ?, ?, 0)",
                (name, unit, role),
            )
    monkeypatch.setattr(database, "_migrations", lambda: every)
    db.migrate()
    roles = {row["username"]: row["role"] for row in db.read("SELECT username, role FROM users")}
    assert roles == {"a": "city_inspector", "b": "town_officer", "c": "viewer"}


def test_log_in_lock_out_and_rate_limit(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    db.migrate()
    throttle = LoginThrottle(db, LoginPolicy(account_failures=3, account_window_s=60, lock_s=120, client_failures=5))
    t = 1000.0
    assert throttle.refusal("zhang", "10.0.0.1", t) is None
    assert not throttle.failed("zhang", "10.0.0.1", t) and not throttle.failed("zhang", "10.0.0.1", t + 1)
    assert throttle.failed("zhang", "10.0.0.1", t + 2)  # the third locks
    refusal = throttle.refusal("zhang", "10.0.0.9", t + 3)  # from any address
    assert refusal is not None and refusal.locks_account and refusal.retry_after_s == 119
    assert "locked" in refusal.reason and "2 min" in refusal.reason
    assert throttle.refusal("zhang", None, t + 2 + 120) is None  # the lock ends
    assert throttle.refusal("li", "10.0.0.9", t + 3) is None  # other accounts are not touched
    # Failures spread wider than the window never lock.
    for at in (t, t + 70, t + 140):
        throttle.failed("spread", None, at)
    assert throttle.refusal("spread", None, t + 141) is None
    # An address trying many names is refused, whatever name it tries next.
    for i in range(5):
        throttle.failed(f"guess{i}", "10.6.6.6", t + 200 + i)
    refusal = throttle.refusal("admin", "10.6.6.6", t + 205)
    assert refusal is not None and not refusal.locks_account and "your address" in refusal.reason
    assert throttle.refusal("admin", "10.0.0.2", t + 205) is None
    throttle.failed("zhang", None, t + 300)
    throttle.failed("zhang", None, t + 301)
    assert throttle.failed("zhang", None, t + 302)
    throttle.clear("zhang")  # a successful log-in, or an administrator's unlock
    assert throttle.refusal("zhang", None, t + 303) is None


def test_audit_log(store: Store) -> None:
    store.audit.record("login", user_id=1, username="zhang", detail="127.0.0.1")
    store.audit.record("live_view", user_id=1, username="zhang", target="c1")
    assert [(e.action, e.target) for e in store.audit.recent()] == [("live_view", "c1"), ("login", None)]


def test_reads_run_on_each_threads_own_connection_and_see_every_commit(tmp_path: Path) -> None:
    import threading

    db = Database(tmp_path / "r.db")
    db.migrate()
    with db.write() as cur:
        cur.execute("INSERT INTO org_units VALUES ('qd', NULL, 'bureau', '局', 0)")
        # Inside the transaction a read sees what it wrote (the writer's own connection).
        assert [r["id"] for r in db.read("SELECT id FROM org_units")] == ["qd"]
    seen: list[list[str]] = []
    started, go = threading.Event(), threading.Event()

    def reader() -> None:
        seen.append([r["id"] for r in db.read("SELECT id FROM org_units ORDER BY id")])
        started.set()
        go.wait(5)
        seen.append([r["id"] for r in db.read("SELECT id FROM org_units ORDER BY id")])  # the same connection

    thread = threading.Thread(target=reader)
    thread.start()
    assert started.wait(5)
    with db.write() as cur:  # a write while another thread holds a reader: neither waits for the other
        cur.execute("INSERT INTO org_units VALUES ('hl', 'qd', 'town', '镇', 0)")
    go.set()
    thread.join(5)
    assert seen == [["qd"], ["hl", "qd"]]
    readers = len(db._readers)
    threading.Thread(target=lambda: db.read("SELECT 1")).start()  # the dead reader's connection is let go
    time.sleep(0.2)
    assert len(db._readers) <= readers
    db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        db.read("SELECT 1")


def test_a_write_inside_a_write_commits_with_it_and_its_error_undoes_only_itself(tmp_path: Path) -> None:
    db = Database(tmp_path / "n.db")
    db.migrate()
    other = sqlite3.connect(str(tmp_path / "n.db"))  # another process's view: only what is committed
    units = lambda conn: [r[0] for r in conn.execute("SELECT id FROM org_units ORDER BY id")]  # noqa: E731
    with db.write():
        with db.write() as cur:
            cur.execute("INSERT INTO org_units VALUES ('qd', NULL, 'bureau', '局', 0)")
        with pytest.raises(sqlite3.IntegrityError), db.write() as cur:
            cur.execute("INSERT INTO org_units VALUES ('hl', 'qd', 'town', '镇', 0)")
            cur.execute("INSERT INTO org_units VALUES ('hl', 'qd', 'town', '镇', 0)")  # the same id again
        with db.write() as cur:
            cur.execute("INSERT INTO org_units VALUES ('lc', 'qd', 'town', '吕四港镇', 0)")
        assert units(other) == []  # nothing is committed before the outermost write ends
    assert units(other) == ["lc", "qd"]  # the failed inner write left nothing; the others committed together
    with pytest.raises(RuntimeError), db.write() as cur:
        with db.write() as inner:
            inner.execute("INSERT INTO org_units VALUES ('hm', 'qd', 'town', '海门', 0)")
        raise RuntimeError("the batch fails")
    assert units(other) == ["lc", "qd"]  # an outer error undoes its inner writes too
    with db.write() as cur:  # and the connection is out of the transaction: the next write works
        cur.execute("INSERT INTO org_units VALUES ('hm', 'qd', 'town', '海门', 0)")
    assert units(other) == ["hm", "lc", "qd"]
    other.close()
    db.close()


def test_violations_overlapping_a_span_newest_first_from_a_bound_the_index_gives(store: Store) -> None:
    day = 86400.0
    starts = [0.0, 2 * day, 3 * day - 5, 3 * day + 10, 3 * day + 2, 5 * day]  # written a few seconds out of order
    ids = [open_violation(store, "c1", "hl-jly", at) for at in starts]
    store.violations.close(ids[0], ended_at=3 * day + 30, reason="clear", confidence=0.9, bbox=None, clip_end=3 * day)
    for index in (1, 2, 3, 4):
        ended = starts[index] + 60
        store.violations.close(ids[index], ended_at=ended, reason="clear", confidence=0.9, bbox=None, clip_end=ended)
    statements: list[str] = []
    reader = store.db._reader()
    reader.set_trace_callback(statements.append)
    # The fourth day: the one that lasted from day 0 (ended on day 3), the one started just before it and those
    # started in it; not the one ended on day 2, nor the one started on day 5 (still active).
    found = store.violations.find(ViolationFilter(since=3 * day - 1, until=4 * day))
    reader.set_trace_callback(None)
    assert [v.id for v in found] == [ids[4], ids[3], ids[2], ids[0]]
    plan = " / ".join(row[3] for row in reader.execute("EXPLAIN QUERY PLAN " + statements[-1]))
    assert "INTEGER PRIMARY KEY (rowid<?)" in plan and "violations_by_start" in plan, plan
    assert [v.id for v in store.violations.find(ViolationFilter(until=day))] == [ids[0]]
    assert store.violations.find(ViolationFilter(since=6 * day)) == [store.violations.get(ids[5])]


def test_a_dead_workers_violations_end_and_its_successors_newer_ones_stay(store: Store) -> None:
    """A worker's death ends its cameras' running violations while their new worker may already raise others."""
    old = open_violation(store, "cam1", "i", 100.0, snapshot=None)
    elsewhere = open_violation(store, "cam2", "i", 100.0, snapshot=None)
    new = open_violation(store, "cam1", "i", 130.0, snapshot=None)
    assert store.violations.close_all_active(120.0, "worker process 0 killed", ["cam1"], started_before=120.0) == 1
    states = {v: store.violations.get(v) for v in (old, elsewhere, new)}
    assert {v: (s.state, s.end_reason) for v, s in states.items() if s is not None} == {
        old: ("ended", "worker process 0 killed"),
        elsewhere: ("active", None),
        new: ("active", None),
    }

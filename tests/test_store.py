"""Store: migrations, WAL, repositories."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.organisation import OrgTree
from core.store import Store
from core.store.health import HealthEvent, HealthSample
from core.store.users import UserExists
from service.configuration import parse_config

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
    user = store.users.create("zhang", "correct horse", "hl", role="inspector", display_name="张三")
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


def test_audit_log(store: Store) -> None:
    store.audit.record("login", user_id=1, username="zhang", detail="127.0.0.1")
    store.audit.record("live_view", user_id=1, username="zhang", target="c1")
    assert [(e.action, e.target) for e in store.audit.recent()] == [("live_view", "c1"), ("login", None)]

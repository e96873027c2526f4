"""User accounts and their log-in sessions. A user belongs to one organisation unit and sees its subtree."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass

from core.passwords import hash_password, verify_password
from core.roles import Role
from core.store.database import Database

_DUMMY_HASH = hash_password("no such user")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str | None
    org_unit_id: str
    role: str
    disabled: bool


class UserExists(Exception):
    pass


def user_from_row(row: sqlite3.Row) -> User:
    return User(
        row["id"],
        row["username"],
        row["display_name"],
        row["org_unit_id"],
        row["role"],
        bool(row["disabled"]),
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        username: str,
        password: str,
        org_unit_id: str,
        role: Role = Role.VIEWER,
        display_name: str | None = None,
    ) -> User:
        try:
            with self._db.write() as cur:
                cur.execute(
                    "INSERT INTO users (username, display_name, password_hash, org_unit_id, role, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (username, display_name, hash_password(password), org_unit_id, role.value, time.time()),
                )
                user_id = cur.lastrowid
        except sqlite3.IntegrityError:
            raise UserExists(username) from None
        user = self.get(int(user_id or 0))
        assert user is not None
        return user

    def get(self, user_id: int) -> User | None:
        rows = self._db.read("SELECT * FROM users WHERE id = ?", (user_id,))
        return user_from_row(rows[0]) if rows else None

    def by_username(self, username: str) -> User | None:
        rows = self._db.read("SELECT * FROM users WHERE username = ?", (username,))
        return user_from_row(rows[0]) if rows else None

    def count(self) -> int:
        return int(self._db.read("SELECT COUNT(*) AS n FROM users")[0]["n"])

    def all(self) -> list[User]:
        return [user_from_row(row) for row in self._db.read("SELECT * FROM users ORDER BY username")]

    def update(
        self,
        user_id: int,
        *,
        display_name: str | None = None,
        org_unit_id: str | None = None,
        role: Role | None = None,
        disabled: bool | None = None,
    ) -> User | None:
        """Change what is given; a change of role, unit or a disabling ends the user's sessions (what they may
        see changed under them)."""
        changes: dict[str, object] = {}
        if display_name is not None:
            changes["display_name"] = display_name
        if org_unit_id is not None:
            changes["org_unit_id"] = org_unit_id
        if role is not None:
            changes["role"] = role.value
        if disabled is not None:
            changes["disabled"] = int(disabled)
        with self._db.write() as cur:
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)  # names from the code above only
                cur.execute(f"UPDATE users SET {assignments} WHERE id = ?", (*changes.values(), user_id))
                if cur.rowcount == 0:
                    return None
            if role is not None or org_unit_id is not None or disabled:
                cur.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        return self.get(user_id)

    def authenticate(self, username: str, password: str) -> User | None:
        rows = self._db.read("SELECT * FROM users WHERE username = ?", (username,))
        # Exactly one scrypt whatever the case, so timing tells nothing about which accounts exist.
        matches = verify_password(password, rows[0]["password_hash"] if rows else _DUMMY_HASH)
        if not rows or not matches or rows[0]["disabled"]:
            return None
        return user_from_row(rows[0])

    def set_password(self, username: str, password: str) -> bool:
        """A new password ends every session and API token of the account: whoever knew the old one is out."""
        with self._db.write() as cur:
            cur.execute("UPDATE users SET password_hash = ? WHERE username = ?", (hash_password(password), username))
            changed = cur.rowcount > 0
            cur.execute("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = ?)", (username,))
            cur.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE revoked_at IS NULL"
                " AND user_id IN (SELECT id FROM users WHERE username = ?)",
                (time.time(), username),
            )
        return changed


class SessionRepository:
    """Opaque bearer tokens; only their hashes are stored."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def open(self, user_id: int, ttl_s: float) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._db.write() as cur:
            cur.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            cur.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (token_hash(token), user_id, now, now + ttl_s),
            )
        return token, now + ttl_s

    def resolve(self, token: str) -> User | None:
        rows = self._db.read(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
            (token_hash(token), time.time()),
        )
        return user_from_row(rows[0]) if rows else None

    def close(self, token: str) -> None:
        with self._db.write() as cur:
            cur.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash(token),))

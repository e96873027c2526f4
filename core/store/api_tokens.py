"""API tokens for machine clients (a city platform's collector, a script): named, revocable, optionally expiring,
acting as their user with the user's role and scope. Only a hash is stored; the token is shown once."""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass

from core.store.database import Database
from core.store.users import User, token_hash, user_from_row

TOKEN_PREFIX = "vmst_"  # tells a machine token from a session token at a glance, and in a leaked log line
_TOUCH_EVERY_S = 60.0  # `last_used_at` is a hint for whoever reviews tokens; one write a minute is enough


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None

    def active(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def _token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        row["id"],
        row["user_id"],
        row["name"],
        row["created_at"],
        row["expires_at"],
        row["last_used_at"],
        row["revoked_at"],
    )


class ApiTokenRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, user_id: int, name: str, ttl_s: float | None = None) -> tuple[str, ApiToken]:
        """A new token for `user_id`: the secret (shown once) and its record."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        with self._db.write() as cur:
            cur.execute(
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash(secret), user_id, name, now, None if ttl_s is None else now + ttl_s),
            )
            token_id = int(cur.lastrowid or 0)
        token = self.get(token_id)
        assert token is not None
        return secret, token

    def get(self, token_id: int) -> ApiToken | None:
        rows = self._db.read("SELECT * FROM api_tokens WHERE id = ?", (token_id,))
        return _token(rows[0]) if rows else None

    def of_user(self, user_id: int) -> list[ApiToken]:
        rows = self._db.read("SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC", (user_id,))
        return [_token(row) for row in rows]

    def revoke(self, token_id: int) -> bool:
        with self._db.write() as cur:
            cur.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (time.time(), token_id)
            )
            return cur.rowcount > 0

    def resolve(self, secret: str) -> User | None:
        """The user an active token acts as (a disabled user's tokens act as nobody)."""
        now = time.time()
        rows = self._db.read(
            "SELECT u.*, t.id AS token_id, t.last_used_at AS token_used_at FROM api_tokens t"
            " JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)"
            " AND u.disabled = 0",
            (token_hash(secret), now),
        )
        if not rows:
            return None
        row = rows[0]
        if row["token_used_at"] is None or now - row["token_used_at"] > _TOUCH_EVERY_S:
            with self._db.write() as cur:
                cur.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, row["token_id"]))
        return user_from_row(row)

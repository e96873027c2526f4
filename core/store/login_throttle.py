"""Failed log-ins, and the refusals they earn: a lock-out per account and a rate limit per client address.

Both are read from one table of failures, for any username typed, whether an account has it or not: a
lock-out that only real accounts could earn would tell a guesser which names exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.store.database import Database


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    account_failures: int = 5  # wrong passwords for one account within `account_window_s` lock it ...
    account_window_s: float = 15 * 60
    lock_s: float = 15 * 60  # ... for this long after the last of them
    client_failures: int = 20  # failures from one address within `client_window_s` refuse it for the rest
    client_window_s: float = 5 * 60


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    retry_after_s: int
    locks_account: bool


class LoginThrottle:
    def __init__(self, db: Database, policy: LoginPolicy | None = None) -> None:
        self._db = db
        self.policy = policy or LoginPolicy()

    def refusal(self, username: str, client: str | None, now: float | None = None) -> Refusal | None:
        """Why a log-in attempt is refused before its password is even checked, or None."""
        now = time.time() if now is None else now
        policy = self.policy
        if client is not None:
            rows = self._db.read(
                "SELECT at FROM login_failures WHERE client = ? AND at > ? ORDER BY at",
                (client, now - policy.client_window_s),
            )
            if len(rows) >= policy.client_failures:
                retry = rows[len(rows) - policy.client_failures]["at"] + policy.client_window_s - now
                return Refusal(
                    f"too many failed log-ins from your address: try again in {_minutes(retry)}",
                    max(1, int(retry + 0.999)),
                    False,
                )
        locked_until = self.locked_until(username, now)
        if locked_until is not None:
            retry = locked_until - now
            return Refusal(
                f"this account is locked after {policy.account_failures} wrong passwords:"
                f" try again in {_minutes(retry)}, or ask an administrator to unlock it",
                max(1, int(retry + 0.999)),
                True,
            )
        return None

    def locked_until(self, username: str, now: float | None = None) -> float | None:
        now = time.time() if now is None else now
        policy = self.policy
        rows = self._db.read(
            "SELECT at FROM login_failures WHERE username = ? AND at > ? ORDER BY at DESC LIMIT ?",
            (username, now - policy.account_window_s - policy.lock_s, policy.account_failures),
        )
        if len(rows) < policy.account_failures:
            return None
        latest, earliest = rows[0]["at"], rows[-1]["at"]
        if latest - earliest > policy.account_window_s:
            return None
        until = float(latest) + policy.lock_s
        return until if until > now else None

    def failed(self, username: str, client: str | None, now: float | None = None) -> bool:
        """Record a failure; True when it is the one that locks the account."""
        now = time.time() if now is None else now
        with self._db.write() as cur:
            # Keep what any window can still reach, nothing older: the table stays small under a flood.
            horizon = now - max(self.policy.account_window_s + self.policy.lock_s, self.policy.client_window_s)
            cur.execute("DELETE FROM login_failures WHERE at < ?", (horizon,))
            cur.execute("INSERT INTO login_failures (at, username, client) VALUES (?, ?, ?)", (now, username, client))
        return self.locked_until(username, now) is not None

    def clear(self, username: str) -> None:
        """A successful log-in, or an administrator's unlock, forgives the account's failures."""
        with self._db.write() as cur:
            cur.execute("DELETE FROM login_failures WHERE username = ?", (username,))


def _minutes(seconds: float) -> str:
    return f"{max(1, int(seconds + 0.999))} s" if seconds < 90 else f"{int(seconds / 60 + 0.999)} min"

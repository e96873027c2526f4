"""A configuration change in the audit log: each reload, applied or refused, with what it changed and the
SHA-256 of the file it read, so an auditor can tell which version of the file was in force when."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.store.audit import AuditRepository
from service.supervisor import Changes

ACTION = "config.reload"


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked for the reload; a SIGHUP has no user, and says so."""

    user_id: int | None = None
    username: str | None = None
    client: str | None = None
    via: str = "SIGHUP"


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        return f"unreadable ({error.strerror})"


def describe(changes: Changes) -> str:
    parts = [
        f"{what} {', '.join(ids)}"
        for what, ids in (
            ("added", changes.added),
            ("removed", changes.removed),
            ("restarted", changes.restarted),
            ("updated", changes.updated),
        )
        if ids
    ]
    return "; ".join(parts) or "no camera changed"


def audit_reload(audit: AuditRepository, path: Path, by: Requester | None, outcome: str) -> None:
    """One row: `outcome` says what the reload did. Problems of a refused file are named by their paths only:
    a message may quote a value, and the log line that names them is redacted where this row is not."""
    by = by or Requester()
    audit.record(
        ACTION,
        user_id=by.user_id,
        username=by.username,
        target=str(path),
        detail=f"{outcome} (via {by.via}; file sha256 {file_digest(path)})",
        client=by.client,
    )


def refused(problem_paths: list[str]) -> str:
    shown = ", ".join(p or "(file)" for p in problem_paths[:10])
    more = f" and {len(problem_paths) - 10} more" if len(problem_paths) > 10 else ""
    return f"refused, running configuration kept: {len(problem_paths)} problem(s) at {shown}{more}"

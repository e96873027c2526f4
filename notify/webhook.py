"""A generic webhook: the notice as JSON, signed with HMAC-SHA256 when the notifier has a secret."""

from __future__ import annotations

import hashlib
import hmac

from core.config.notifications import WebhookNotifier
from notify.notice import Notice
from notify.outgoing import Outgoing, json_body


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`: the receiver recomputes it with the shared secret, and
    refuses an old timestamp, so a captured request cannot be replayed later."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def build(config: WebhookNotifier, notice: Notice, now: float) -> Outgoing:
    body = json_body(
        {
            "event": notice.event,
            "ref": notice.ref,
            "title": notice.title,
            "text": notice.text,
            "severity": notice.severity,
            "institution": notice.institution,
            "url": notice.url,
            "sent_at": int(now),
        }
    )
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if config.secret is not None:
        timestamp = int(now)
        headers["X-VMS-Timestamp"] = str(timestamp)
        headers["X-VMS-Signature"] = signature(config.secret.get_secret_value(), timestamp, body)
    return Outgoing("POST", config.url, headers, body)

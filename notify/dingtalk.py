"""DingTalk (钉钉) group robot: markdown (`title` and `text`) or text, `at.atMobiles` to @ members; the access token
and, with 加签, `timestamp` (milliseconds) and `sign` go in the query."""

from __future__ import annotations

import base64
import hashlib
import hmac

from core.config.notifications import DingTalkNotifier
from notify.notice import SEVERITY_ZH, Notice
from notify.outgoing import Outgoing, json_body, with_query


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64 of HMAC-SHA256, keyed by the secret, of "<timestamp>\\n<secret>" (URL-encoding is
    left to the query string)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _mentions(config: DingTalkNotifier) -> str:
    # DingTalk highlights an @ only where the text itself names the mobile number.
    return " ".join(f"@{mobile}" for mobile in config.at_mobiles)


def build(config: DingTalkNotifier, notice: Notice, now: float) -> Outgoing:
    severity = SEVERITY_ZH.get(notice.severity, notice.severity)
    mentions = _mentions(config)
    if config.msgtype == "markdown":
        lines = [f"### 【{severity}】{notice.title}"]
        lines += [f"- {line}" for line in notice.text.splitlines() if line.strip()]
        if notice.url:
            lines.append(f"[在平台中查看]({notice.url})")
        if mentions:
            lines.append(mentions)
        payload: dict[str, object] = {
            "msgtype": "markdown",
            "markdown": {"title": f"【{severity}】{notice.title}", "text": "\n\n".join(lines)},
        }
    else:
        parts = [f"【{severity}】{notice.title}", notice.text, *([notice.url] if notice.url else [])]
        if mentions:
            parts.append(mentions)
        payload = {"msgtype": "text", "text": {"content": "\n".join(parts)}}
    payload["at"] = {"atMobiles": list(config.at_mobiles), "isAtAll": False}
    query = [("access_token", config.access_token.get_secret_value())]
    if config.secret is not None:
        timestamp = int(now * 1000)
        query += [("timestamp", str(timestamp)), ("sign", sign(config.secret.get_secret_value(), timestamp))]
    url = with_query(config.url, query)
    return Outgoing("POST", url, {"Content-Type": "application/json; charset=utf-8"}, json_body(payload), robot=True)

"""An SMS gateway called by URL template, once per phone: `{phone}`, `{text}` and `{key}` replaced, each
URL-encoded; the text cut to the gateway's length."""

from __future__ import annotations

from urllib.parse import quote

from core.config.notifications import SmsNotifier
from notify.notice import SEVERITY_ZH, Notice
from notify.outgoing import Outgoing


def text(notice: Notice, max_chars: int) -> str:
    severity = SEVERITY_ZH.get(notice.severity, notice.severity)
    message = f"【{severity}】{notice.title}：{' '.join(notice.text.split())}"
    if notice.url and len(message) + 1 + len(notice.url) <= max_chars:
        message += f" {notice.url}"
    return message if len(message) <= max_chars else message[: max_chars - 1] + "…"


def build(config: SmsNotifier, notice: Notice, phone: str) -> Outgoing:
    key = config.key.get_secret_value() if config.key is not None else ""
    url = config.url.format(
        phone=quote(phone, safe=""), text=quote(text(notice, config.max_chars), safe=""), key=quote(key, safe="")
    )
    return Outgoing(config.method, url, {}, b"" if config.method == "POST" else None)

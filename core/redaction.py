"""Keeping camera credentials out of logs, errors and API answers."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^@\s'\"]+)@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask the user-info of every URL in `text`, and every occurrence of the given secrets."""
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Log filter that masks URL credentials and known secrets in every record it passes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self._secrets.extend(s for s in secrets if s and s not in self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later from exc_info; render them now so they can be cleaned too.
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, redact(formatted, self._secrets)
        return True

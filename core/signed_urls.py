"""Links that carry their own permission: a path, who it was given to and until when, signed with the service's
key. An upper platform fetches a violation's snapshot or evidence clip with one, without an account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode


class UrlSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a URL signing key needs at least 16 bytes")
        self._key = key

    @classmethod
    def from_file(cls, path: Path) -> UrlSigner:
        """The service's key, made (readable by the service alone) the first time."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
        return cls(path.read_bytes())

    def sign(self, path: str, given_to: str, valid_s: float, now: float | None = None) -> str:
        """`path` with its permission in the query: `?by=…&expires=…&sig=…`."""
        expires = int((time.time() if now is None else now) + valid_s)
        query = urlencode({"by": given_to, "expires": expires, "sig": self._signature(path, given_to, expires)})
        return f"{path}?{query}"

    def verify(self, path: str, given_to: str, expires: int, signature: str, now: float | None = None) -> bool:
        if expires < (time.time() if now is None else now):
            return False
        # As bytes: compare_digest refuses str with characters outside ASCII, which a forged link may hold.
        return hmac.compare_digest(self._signature(path, given_to, expires).encode(), signature.encode())

    def identity(self) -> str:
        """A short name of this installation (of its key), stable across restarts, new with new data."""
        return hmac.new(self._key, b"installation", hashlib.sha256).hexdigest()[:8]

    def _signature(self, path: str, given_to: str, expires: int) -> str:
        digest = hmac.new(self._key, f"{path}\n{given_to}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

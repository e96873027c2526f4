"""The HTTP/1.1 server the API is served with: uvicorn's, with the request head bounded.

uvicorn (with h11) accepts request lines and headers of any length up to h11's buffer limit, and past it
answers 400 and closes at once, so a client still sending sees its connection reset rather than an answer.
Here a request line over `MAX_REQUEST_LINE` bytes gets 414 and a head over `MAX_HEAD` bytes 431, and the
connection reads (and drops) what the client still sends for a moment before it closes, so the client can
read why.
"""

from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_REQUEST_LINE = 8 * 1024  # nginx's default for a request line
MAX_HEAD = 64 * 1024
LINGER_S = 2.0

_REASONS = {414: "URI Too Long", 431: "Request Header Fields Too Large"}


class BoundedH11Protocol(H11Protocol):
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped until the connection closes
        if self.conn.their_state is h11.IDLE:  # the request head is still being received
            pending = self.conn.trailing_data[0] + data
            if len(pending) > MAX_REQUEST_LINE and b"\r\n" not in pending[: MAX_REQUEST_LINE + 2]:
                self._refuse(414, f"the request line is longer than {MAX_REQUEST_LINE} bytes")
                return
            if len(pending) > MAX_HEAD and b"\r\n\r\n" not in pending[: MAX_HEAD + 4]:
                self._refuse(431, f"the request head is larger than {MAX_HEAD} bytes")
                return
        super().data_received(data)

    def _refuse(self, status: int, detail: str) -> None:
        self._refused = True
        body = json.dumps({"detail": detail}).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        asyncio.get_running_loop().call_later(LINGER_S, self.transport.close)

"""Reading a `multipart/x-mixed-replace` answer (Motion JPEG) part by part, as a browser's <img> would."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Part:
    arrived_at: float  # time.monotonic() when the whole part had arrived
    headers: dict[str, str]
    body: bytes


def read_parts(response: httpx.Response, count: int) -> list[Part]:
    """The first `count` parts of a streamed answer; fails if it ends sooner."""
    boundary = b"--" + response.headers["content-type"].split("boundary=")[1].encode()
    parts: list[Part] = []
    buffer = b""
    for chunk in response.iter_bytes():
        buffer += chunk
        while (head := buffer.find(b"\r\n\r\n")) >= 0 and buffer.startswith(boundary):
            headers = dict(line.split(": ", 1) for line in buffer[:head].decode().split("\r\n")[1:])
            end = head + 4 + int(headers["Content-Length"])
            if len(buffer) < end + 2:
                break
            parts.append(Part(time.monotonic(), headers, buffer[head + 4 : end]))
            buffer = buffer[end + 2 :]
            if len(parts) == count:
                return parts
    raise AssertionError(f"the stream ended after {len(parts)} parts")

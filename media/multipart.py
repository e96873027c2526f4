"""`multipart/x-mixed-replace`: a stream of JPEG pictures an `<img>` (or `fetch`) shows one after another."""

from __future__ import annotations

BOUNDARY = "frame"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"


def multipart_part(jpeg: bytes, headers: dict[str, str] | None = None) -> bytes:
    """One picture of the stream, with `headers` of its own (e.g. the wall-clock time it shows)."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n{extra}\r\n".encode()
    return head + jpeg + b"\r\n"

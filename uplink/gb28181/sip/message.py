"""SIP messages: parsed from bytes (every malformation a `SipParseError` with the reason), and written back."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

MAX_MESSAGE = 64 * 1024
COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "l": "content-length",
    "c": "content-type",
    "m": "contact",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
}
CANONICAL = {
    "via": "Via",
    "from": "From",
    "to": "To",
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "contact": "Contact",
    "max-forwards": "Max-Forwards",
    "www-authenticate": "WWW-Authenticate",
    "authorization": "Authorization",
    "user-agent": "User-Agent",
    "expires": "Expires",
    "subject": "Subject",
    "event": "Event",
    "subscription-state": "Subscription-State",
    "date": "Date",
    "allow": "Allow",
    "route": "Route",
    "record-route": "Record-Route",
}
REASONS = {
    100: "Trying",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}
_TAG = re.compile(r";\s*tag=([^;>\s]+)", re.I)
_BRANCH = re.compile(r";\s*branch=([^;\s]+)", re.I)


class SipParseError(ValueError):
    """Not a SIP message we can use; the message says why. `request`: what could be read of a request, where
    enough was read to answer it (with a 400)."""

    def __init__(self, reason: str, request: SipRequest | None = None) -> None:
        super().__init__(reason)
        self.request = request


@dataclass
class SipMessage:
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    def set(self, name: str, value: str) -> None:
        key = CANONICAL.get(name.lower(), name)
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((key, value))

    @property
    def call_id(self) -> str:
        return self.header("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = (self.header("cseq") or "0 ?").partition(" ")
        return int(number), method.strip().upper()

    @property
    def branch(self) -> str:
        via = self.header("via") or ""
        match = _BRANCH.search(via)
        return match.group(1) if match else ""

    @property
    def from_tag(self) -> str | None:
        match = _TAG.search(self.header("from") or "")
        return match.group(1) if match else None

    @property
    def to_tag(self) -> str | None:
        match = _TAG.search(self.header("to") or "")
        return match.group(1) if match else None

    def _head_and_body(self, first: str) -> bytes:
        lines = [first]
        for key, value in self.headers:
            if key.lower() != "content-length":
                lines.append(f"{key}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass
class SipRequest(SipMessage):
    method: str = ""
    uri: str = ""

    def encode(self) -> bytes:
        return self._head_and_body(f"{self.method} {self.uri} SIP/2.0")


@dataclass
class SipResponse(SipMessage):
    status: int = 200
    reason: str = "OK"

    def encode(self) -> bytes:
        return self._head_and_body(f"SIP/2.0 {self.status} {self.reason}")


def parse(data: bytes) -> SipRequest | SipResponse:
    """One whole message (head and the body its Content-Length names)."""
    if len(data) > MAX_MESSAGE:
        raise SipParseError(f"message larger than {MAX_MESSAGE} bytes")
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        raise SipParseError("no blank line after the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("gb18030", errors="replace")  # GB/T 28181 peers may write GB2312 names in headers
    lines = text.split("\r\n")
    start = lines[0].split(" ", 2)
    if len(start) != 3:
        raise SipParseError(f"bad start line {lines[0][:80]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # a folded header continues the last one
            key, value = headers[-1]
            headers[-1] = (key, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise SipParseError(f"bad header line {line[:80]!r}")
        name = COMPACT.get(name.strip().lower(), name.strip())
        headers.append((CANONICAL.get(name.lower(), name), value.strip()))
    message: SipRequest | SipResponse
    if start[0] == "SIP/2.0":
        try:
            status = int(start[1])
        except ValueError:
            raise SipParseError(f"bad status {start[1][:10]!r}") from None
        if not 100 <= status <= 699:
            raise SipParseError(f"bad status {status}")
        message = SipResponse(headers=headers, status=status, reason=start[2])
    else:
        if start[2] != "SIP/2.0" or not start[0].isalpha():
            raise SipParseError(f"bad request line {lines[0][:80]!r}")
        message = SipRequest(headers=headers, method=start[0].upper(), uri=start[1])
    for name in ("via", "from", "to", "call-id", "cseq"):
        if message.header(name) is None:
            raise SipParseError(f"no {CANONICAL[name]} header")
    answerable = message if isinstance(message, SipRequest) else None
    try:
        message.cseq  # noqa: B018 - parses it
    except ValueError:
        raise SipParseError(f"bad CSeq {message.header('cseq')!r}", answerable) from None
    length_text = message.header("content-length")
    try:
        length = int(length_text) if length_text is not None else len(body)
    except ValueError:
        raise SipParseError(f"bad Content-Length {length_text!r}", answerable) from None
    if length < 0 or length > len(body):
        raise SipParseError("the body is shorter than its Content-Length", answerable)
    message.body = body[:length]
    return message


def response_to(request: SipRequest, status: int, reason: str | None = None, to_tag: str | None = None) -> SipResponse:
    """A response carrying the request's Via, From, To (with our tag), Call-ID and CSeq."""
    response = SipResponse(status=status, reason=reason or REASONS.get(status, "Unknown"))
    for via in request.header_all("via"):
        response.headers.append(("Via", via))
    response.headers.append(("From", request.header("from") or ""))
    to = request.header("to") or ""
    if to_tag and not request.to_tag:
        to = f"{to};tag={to_tag}"
    response.headers += [("To", to), ("Call-ID", request.call_id), ("CSeq", request.header("cseq") or "")]
    return response


def new_tag() -> str:
    return secrets.token_hex(5)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(10)}@{host}"


def uri_user(uri: str) -> str:
    """The user part of a SIP URI (`sip:34020000001320000001@3402000000` → the id), or ''."""
    inner = uri.strip()
    if "<" in inner:
        inner = inner[inner.index("<") + 1 : inner.index(">")] if ">" in inner else inner
    inner = inner.split(";")[0]
    if inner.lower().startswith("sip:"):
        inner = inner[4:]
    user, at, _ = inner.partition("@")
    return user if at else ""

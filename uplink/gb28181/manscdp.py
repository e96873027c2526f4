"""MANSCDP (GB/T 28181 Appendix A): the XML bodies of MESSAGE, SUBSCRIBE and NOTIFY, read and written.

Bodies are declared and written in the platform's character set (GB2312 by default, or UTF-8). GB2312 cannot
write every name; such a body is written in GBK, its superset, which GB2312 readers in practice decode.
Peers do not always write what they declare, so reading does not trust the declaration (see `decode`).
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape

CONTENT_TYPE = "Application/MANSCDP+xml"
MAX_BODY = 64 * 1024
_ANY_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

Charset = Literal["GB2312", "UTF-8"]


class ManscdpError(ValueError):
    """A body that is not a MANSCDP message; the message says why."""


@dataclass(frozen=True)
class Command:
    """A parsed request or notification: its root (Query, Control, Notify, Response), CmdType, SN, DeviceID
    and its other top-level fields by name."""

    root: str
    cmd_type: str
    sn: int
    device_id: str
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


def decode(body: bytes) -> str:
    """Strict UTF-8 first, whatever the declaration: GB2312 text almost never passes for it, while platforms
    that declare GB2312 and write UTF-8 are common; then GB18030, the superset of GB2312 and GBK."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace")


def parse(body: bytes) -> Command:
    if len(body) > MAX_BODY:
        raise ManscdpError(f"the body is larger than {MAX_BODY} bytes")
    text = _ANY_DECLARATION.sub("", decode(body), count=1)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ManscdpError("document type declarations are not accepted")
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as error:
        raise ManscdpError(f"malformed XML: {error}") from None
    fields = {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
    cmd_type = fields.pop("CmdType", "")
    if not cmd_type:
        raise ManscdpError(f"<{root.tag}> has no CmdType")
    sn_text = fields.pop("SN", "")
    try:
        sn = int(sn_text)
    except ValueError:
        raise ManscdpError(f"<{root.tag}> has no numeric SN") from None
    device_id = fields.pop("DeviceID", "")
    return Command(root.tag, cmd_type, sn, device_id, fields)


def encode(root: str, items: Iterable[tuple[str, object]], charset: Charset) -> bytes:
    """`<root>` with `items` in order; a value is text, or a `Raw` fragment, or a list of (tag, items)."""
    body = "".join(_element(tag, value) for tag, value in items)
    text = f'<?xml version="1.0" encoding="{charset}"?>\r\n<{root}>\r\n{body}</{root}>\r\n'
    if charset == "UTF-8":
        return text.encode("utf-8")
    try:
        return text.encode("gb2312")
    except UnicodeEncodeError:
        return text.encode("gbk", errors="replace")


@dataclass(frozen=True)
class ListOf:
    """A list element with its `Num` attribute and repeated children."""

    child: str
    entries: Sequence[Sequence[tuple[str, object]]]


def _element(tag: str, value: object) -> str:
    if isinstance(value, ListOf):
        inner = "".join(
            f"<{value.child}>\r\n" + "".join(_element(t, v) for t, v in entry) + f"</{value.child}>\r\n"
            for entry in value.entries
        )
        return f'<{tag} Num="{len(value.entries)}">\r\n{inner}</{tag}>\r\n'
    if isinstance(value, list | tuple):
        return f"<{tag}>\r\n" + "".join(_element(t, v) for t, v in value) + f"</{tag}>\r\n"
    return f"<{tag}>{escape(str(value))}</{tag}>\r\n"


def gb_time(at: float) -> str:
    """A MANSCDP time: local, to the second, without a zone (`2026-12-02T14:30:00`)."""
    return dt.datetime.fromtimestamp(at).strftime("%Y-%m-%dT%H:%M:%S")


def parse_gb_time(text: str) -> float:
    """A MANSCDP time (local; a zone or fraction where a 2022 peer writes one) as a UNIX time."""
    text = text.strip().replace(" ", "T")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ManscdpError(f"bad time {text[:40]!r}") from None
    return moment.timestamp()  # a naive time is local, as the standard means

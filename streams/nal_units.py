"""NAL units of H.264 and H.265 in their two framings: Annex B (start codes, as RTSP cameras send them) and
length-prefixed (as MP4 stores them). Re-framing only: nothing is decoded."""

from __future__ import annotations

import re

START_CODE = b"\x00\x00\x00\x01"
_START = re.compile(b"\x00\x00\x01")


def annexb_units(data: bytes) -> list[bytes]:
    """NAL units of an Annex B buffer (without their start codes)."""
    units: list[bytes] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        j = data.find(b"\x00\x00\x01", start)
        end = len(data) if j < 0 else j
        unit = data[start:end]
        if j >= 0 and unit.endswith(b"\x00"):
            unit = unit.rstrip(b"\x00")  # the next start code had four bytes (or trailing zeros)
        if unit:
            units.append(unit)
        i = j
    return units


def length_prefixed(data: bytes | memoryview) -> tuple[list[bytes | memoryview], int]:
    """An Annex B access unit as MP4 stores it, each NAL unit behind its length in four bytes: the pieces, to
    be written in order (views into `data`, which is not copied), and their total size."""
    parts: list[bytes | memoryview] = []
    view = memoryview(data)
    size = 0
    begin = None
    # `re` searches the buffer in place; bytes.find would need a copy of it first.
    for match in _START.finditer(view):
        at = match.start()
        if begin is not None:
            size += _add(parts, view, begin, at - 1 if at > begin and view[at - 1] == 0 else at)
        begin = match.end()
    if begin is not None:
        size += _add(parts, view, begin, len(view))
    return parts, size


def _add(parts: list[bytes | memoryview], view: memoryview, begin: int, end: int) -> int:
    """One NAL unit (without the zero byte of a four-byte start code that follows it)."""
    if end <= begin:
        return 0
    parts += ((end - begin).to_bytes(4, "big"), view[begin:end])
    return end - begin + 4

"""NAL units of H.264 and H.265 in their two framings: Annex B (start codes, as RTSP cameras send them) and
length-prefixed (as MP4 stores them). Re-framing only: nothing is decoded."""

from __future__ import annotations

START_CODE = b"\x00\x00\x00\x01"


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


def is_annexb(data: bytes | memoryview) -> bool:
    """Whether an access unit starts with a start code (rather than a NAL length)."""
    return data[:3] == b"\x00\x00\x01" or data[:4] == START_CODE


def length_prefixed(data: bytes | memoryview) -> bytes:
    """An Annex B access unit as MP4 stores it: each NAL unit behind its length in four bytes."""
    parts: list[bytes] = []
    for unit in annexb_units(bytes(data)):
        parts += (len(unit).to_bytes(4, "big"), unit)
    return b"".join(parts)

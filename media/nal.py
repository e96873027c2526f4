"""NAL units of H.264 and H.265 in their two framings: Annex B (start codes, as RTSP cameras send them) and
length-prefixed (as MP4 stores them, behind an avcC/hvcC record). Re-framing only: nothing is decoded.

`unit_spans` is the one scanner of start codes; every other function here builds on it.
"""

from __future__ import annotations

import re

START_CODE = b"\x00\x00\x00\x01"
_START = re.compile(b"\x00\x00\x01")

H264_SPS = 7
H264_PPS = 8
HEVC_VPS, HEVC_SPS, HEVC_PPS = 32, 33, 34
AVCC_VERSION = 1  # the first byte of an avcC (and hvcC) record; Annex B extradata starts with 0


def unit_spans(data: bytes | memoryview) -> list[tuple[int, int]]:
    """(begin, end) of each NAL unit of an Annex B buffer, without its start code.

    `re` searches the buffer in place (bytes.find would need a copy of a memoryview first). The zero bytes
    in front of the next start code (its fourth byte, or trailing zeros) belong to no unit and are left out.
    """
    view = memoryview(data)
    spans: list[tuple[int, int]] = []
    begin = None
    for match in _START.finditer(view):
        at = match.start()
        if begin is not None:
            end = at
            while end > begin and view[end - 1] == 0:
                end -= 1
            if end > begin:
                spans.append((begin, end))
        begin = match.end()
    if begin is not None and begin < len(view):
        spans.append((begin, len(view)))
    return spans


def annexb_units(data: bytes | memoryview) -> list[bytes]:
    """The NAL units of an Annex B buffer (copies, without their start codes)."""
    view = memoryview(data)
    return [bytes(view[begin:end]) for begin, end in unit_spans(view)]


def length_prefixed(data: bytes | memoryview) -> tuple[list[bytes | memoryview], int]:
    """An Annex B access unit as MP4 stores it, each NAL unit behind its length in four bytes: the pieces, to
    be written in order (views into `data`, which is not copied), and their total size."""
    view = memoryview(data)
    parts: list[bytes | memoryview] = []
    size = 0
    for begin, end in unit_spans(view):
        parts += ((end - begin).to_bytes(4, "big"), view[begin:end])
        size += end - begin + 4
    return parts, size


def from_length_prefixed(data: bytes | memoryview, length_size: int = 4) -> bytes:
    """Length-prefixed NAL units (as files store them) as Annex B."""
    raw = bytes(data)
    out = bytearray()
    pos = 0
    while pos + length_size <= len(raw):
        n = int.from_bytes(raw[pos : pos + length_size], "big")
        pos += length_size
        out += START_CODE
        out += raw[pos : pos + n]
        pos += n
    return bytes(out)


def is_length_prefixed(extradata: bytes | None) -> bool:
    """Whether a stream's packets are length-prefixed, as FFmpeg decides it: its parameter sets come in an
    avcC/hvcC record. A packet's own first bytes cannot tell: a 256-511 byte unit's length prefix reads 00 00 01."""
    return extradata is not None and len(extradata) > 0 and extradata[0] == AVCC_VERSION


def parse_avcc(record: bytes) -> tuple[int, list[bytes]]:
    """(NAL length size, parameter sets) of an avcC record (ISO/IEC 14496-15)."""
    if len(record) < 7 or record[0] != AVCC_VERSION:
        raise ValueError("not an avcC record")
    length_size = (record[4] & 0x03) + 1
    sets: list[bytes] = []
    pos = 5
    for count_mask in (0x1F, 0xFF):
        count = record[pos] & count_mask
        pos += 1
        for _ in range(count):
            size = int.from_bytes(record[pos : pos + 2], "big")
            sets.append(record[pos + 2 : pos + 2 + size])
            pos += 2 + size
    return length_size, sets


def parse_hvcc(record: bytes) -> tuple[int, list[bytes]]:
    """(NAL length size, parameter sets) of an hvcC record (ISO/IEC 14496-15, 8.3.3)."""
    if len(record) < 23 or record[0] != AVCC_VERSION:
        raise ValueError("not an hvcC record")
    length_size = (record[21] & 0x03) + 1
    sets: list[bytes] = []
    pos = 23
    for _ in range(record[22]):
        count = int.from_bytes(record[pos + 1 : pos + 3], "big")
        pos += 3
        for _ in range(count):
            size = int.from_bytes(record[pos : pos + 2], "big")
            sets.append(record[pos + 2 : pos + 2 + size])
            pos += 2 + size
    return length_size, sets


def avc_codec_string(record: bytes) -> str:
    """The RFC 6381 codec string (`avc1.PPCCLL`) of an avcC record: profile, constraint flags and level."""
    if len(record) < 4 or record[0] != AVCC_VERSION:
        raise ValueError("not an avcC record")
    return f"avc1.{record[1]:02x}{record[2]:02x}{record[3]:02x}"


def h264_type(unit: bytes | memoryview) -> int:
    return unit[0] & 0x1F


def hevc_type(unit: bytes | memoryview) -> int:
    return (unit[0] >> 1) & 0x3F


def nal_type(codec: str, unit: bytes | memoryview) -> int:
    return hevc_type(unit) if codec == "hevc" else h264_type(unit)


def _sps_type(codec: str) -> int:
    return HEVC_SPS if codec == "hevc" else H264_SPS


def starts_with_sps(access_unit: bytes, head: int = 512, codec: str = "h264") -> bool:
    """Whether an Annex B access unit carries an SPS. Cameras put the parameter sets first in a key frame
    (after an optional delimiter): looking at its head is enough and keeps this cheap on large key frames."""
    view = memoryview(access_unit)[:head]
    return any(nal_type(codec, view[begin:end]) == _sps_type(codec) for begin, end in unit_spans(view))


class AnnexBFramer:
    """Turns one H.264 or H.265 session's packets into self-contained Annex B access units, as WebRTC packetisers
    and GB/T 28181 program streams want them: length prefixes become start codes, and the parameter sets (VPS,)
    SPS and PPS that cameras often send only in the SDP are put in front of key frames that lack them, so a viewer
    can start on any key frame."""

    def __init__(self, extradata: bytes | None, codec: str = "h264") -> None:
        self.codec = codec
        self.length_size: int | None = None  # None: the packets are Annex B already
        sets: list[bytes] = []
        if extradata:
            if is_length_prefixed(extradata):
                self.length_size, sets = parse_hvcc(extradata) if codec == "hevc" else parse_avcc(extradata)
            else:
                sets = annexb_units(extradata)
        wanted = (HEVC_VPS, HEVC_SPS, HEVC_PPS) if codec == "hevc" else (H264_SPS, H264_PPS)
        self.parameter_sets = [unit for unit in sets if unit and nal_type(codec, unit) in wanted]
        self._prefix = b"".join(START_CODE + unit for unit in self.parameter_sets)

    def frame(self, data: bytes | memoryview, keyframe: bool) -> bytes:
        """The access unit in Annex B; a key frame carries the parameter sets if the camera left them out."""
        raw = from_length_prefixed(data, self.length_size) if self.length_size is not None else bytes(data)
        if keyframe and self._prefix and not starts_with_sps(raw, codec=self.codec):
            return self._prefix + raw
        return raw

"""MPEG-2 Program Stream (ISO/IEC 13818-1, 2.5) as GB/T 28181 carries video: each access unit behind a pack
header, key frames also behind a system header and a program stream map, the frame in PES packets of under
64 KiB. FFmpeg's own PS muxers write no program stream map, which GB/T 28181 platforms need to learn the codec
(stream type 0x1B for H.264, 0x24 for H.265), so this muxer is ours.

Frames go in as Annex B with their parameter sets before each key frame (`media.nal.AnnexBFramer`).
"""

from __future__ import annotations

import struct

STREAM_TYPES = {"h264": 0x1B, "hevc": 0x24}
VIDEO_STREAM_ID = 0xE0
MAX_PES_PAYLOAD = 0xFFFF - 3 - 10  # PES_packet_length counts the flags and the header data (PTS + DTS) too
MUX_RATE = 50_000  # in units of 50 bytes/s: 20 Mbit/s, an upper bound as cameras announce it


def _timestamp(prefix: int, ticks: int) -> bytes:
    """A 33-bit PTS/DTS in its five marker-split bytes."""
    ticks &= (1 << 33) - 1
    return bytes(
        (
            (prefix << 4) | (((ticks >> 30) & 0x07) << 1) | 1,
            (ticks >> 22) & 0xFF,
            (((ticks >> 15) & 0x7F) << 1) | 1,
            (ticks >> 7) & 0xFF,
            ((ticks & 0x7F) << 1) | 1,
        )
    )


def pack_header(scr: int) -> bytes:
    """`pack_start_code`, the system clock reference (33-bit 90 kHz base, no extension), the mux rate."""
    scr &= (1 << 33) - 1
    return b"\x00\x00\x01\xba" + bytes(
        (
            0x44 | (((scr >> 30) & 0x07) << 3) | ((scr >> 28) & 0x03),
            (scr >> 20) & 0xFF,
            (((scr >> 15) & 0x1F) << 3) | 0x04 | ((scr >> 13) & 0x03),
            (scr >> 5) & 0xFF,
            ((scr & 0x1F) << 3) | 0x04,  # SCR[4..0], marker, SCR extension [8..7] = 0
            0x01,  # SCR extension [6..0] = 0, marker
            (MUX_RATE >> 14) & 0xFF,
            (MUX_RATE >> 6) & 0xFF,
            ((MUX_RATE & 0x3F) << 2) | 0x03,
            0xF8,  # reserved, pack_stuffing_length 0
        )
    )


def system_header() -> bytes:
    """One video stream, the rate bound at the mux rate, no audio."""
    body = bytes(
        (
            0x80 | ((MUX_RATE >> 15) & 0x7F),
            (MUX_RATE >> 7) & 0xFF,
            ((MUX_RATE & 0x7F) << 1) | 1,
            0x00,  # audio_bound 0, fixed_flag 0, CSPS_flag 0
            0xE1,  # system_audio_lock, system_video_lock, marker, video_bound 1
            0x7F,  # packet_rate_restriction 0, reserved
            VIDEO_STREAM_ID,
            0xE2,
            0x00,  # '11', buffer bound scale 1 (KiB), size bound 512 KiB
        )
    )
    return b"\x00\x00\x01\xbb" + struct.pack(">H", len(body)) + body


def program_stream_map(codec: str) -> bytes:
    """The program stream map: one elementary stream, its type naming the codec."""
    entries = bytes((STREAM_TYPES[codec], VIDEO_STREAM_ID, 0x00, 0x00))
    body = bytes((0xE0, 0xFF, 0x00, 0x00)) + struct.pack(">H", len(entries)) + entries
    length = len(body) + 4  # and the CRC
    head = b"\x00\x00\x01\xbc" + struct.pack(">H", length)
    return head + body + struct.pack(">I", crc32_mpeg(head + body))


def pes_packets(frame: bytes | memoryview, pts: int, dts: int | None = None) -> list[bytes]:
    """The frame in PES packets of the video stream; the first carries its PTS (and a DTS where it differs)."""
    view = memoryview(frame)
    packets = []
    first = True
    for start in range(0, max(len(view), 1), MAX_PES_PAYLOAD):
        chunk = view[start : start + MAX_PES_PAYLOAD]
        if first and dts is not None and dts != pts:
            flags, header = 0xC0, _timestamp(0x3, pts) + _timestamp(0x1, dts)
        elif first:
            flags, header = 0x80, _timestamp(0x2, pts)
        else:
            flags, header = 0x00, b""
        length = 3 + len(header) + len(chunk)
        packets.append(
            b"\x00\x00\x01"
            + bytes((VIDEO_STREAM_ID,))
            + struct.pack(">H", length)
            + bytes((0x80 | (0x04 if first else 0), flags, len(header)))
            + header
            + bytes(chunk)
        )
        first = False
    return packets


class PsMuxer:
    """One session's access units as Program Stream, a frame at a time."""

    def __init__(self, codec: str) -> None:
        if codec not in STREAM_TYPES:
            raise ValueError(f"{codec} cannot be carried in a GB/T 28181 program stream")
        self.codec = codec
        self._map = program_stream_map(codec)
        self._system = system_header()

    def frame(self, annexb: bytes | memoryview, pts: int, keyframe: bool, dts: int | None = None) -> bytes:
        """An access unit (Annex B) as PS; `pts`/`dts` on the 90 kHz clock."""
        head = pack_header(dts if dts is not None else pts)
        if keyframe:
            head += self._system + self._map
        return head + b"".join(pes_packets(annexb, pts, dts))


_CRC_TABLE = []
for _n in range(256):
    _c = _n << 24
    for _ in range(8):
        _c = ((_c << 1) ^ 0x04C11DB7) if _c & 0x80000000 else (_c << 1)
    _CRC_TABLE.append(_c & 0xFFFFFFFF)


def crc32_mpeg(data: bytes) -> int:
    """The CRC-32 of MPEG-2 sections (polynomial 0x04C11DB7, no reflection, initial all ones, no final xor)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]
    return crc

"""Fragments of a fragmented MP4 (ISO/IEC 14496-12) built directly: a `moof` and an `mdat` header.

A muxer is not needed to append compressed frames to an fMP4 whose initialisation segment already exists
(`media.mp4.init`): a fragment is a few dozen bytes of boxes in front of the frames themselves. Building
them here costs a fraction of a muxer call per frame, and the frames go to disk without another copy.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from media.mp4.boxes import find

# Sample flags as FFmpeg's muxer writes them: a key frame depends on nothing; any other frame depends on
# others and is not a sync sample.
KEY_FRAME_FLAGS = 0x02000000
DELTA_FRAME_FLAGS = 0x01010000

_TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
_TRUN_DATA_OFFSET = 0x000001
_TRUN_DURATION = 0x000100
_TRUN_SIZE = 0x000200
_TRUN_FLAGS = 0x000400
_TRUN_CTS_OFFSET = 0x000800


class Sample(NamedTuple):
    """One frame of a fragment: its duration and size, whether it is a key frame, pts - dts."""

    duration: int
    size: int
    keyframe: bool
    cts_offset: int = 0


@dataclass(frozen=True, slots=True)
class Track:
    """What fragments must agree on with the initialisation segment: the track's id and timescale."""

    track_id: int
    timescale: int

    @classmethod
    def of_init(cls, init: bytes) -> Track:
        """The first track of an fMP4 initialisation segment (`ftyp` + `moov` with `mvex`)."""
        trex, mdhd = find(init, b"trex"), find(init, b"mdhd")
        if trex is None or mdhd is None or len(trex) < 8 or len(mdhd) < 24:
            raise ValueError("not a fragmented MP4 initialisation segment (no trex or mdhd)")
        track_id = struct.unpack_from(">I", trex, 4)[0]
        # Version 1 has 64-bit creation and modification times before the timescale.
        timescale = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
        if not track_id or not timescale:
            raise ValueError("not a fragmented MP4 initialisation segment (no track id or timescale)")
        return cls(track_id, timescale)


def fragment_header(sequence: int, track: Track, base_decode_time: int, samples: list[Sample]) -> bytes:
    """`moof` for `samples`, then the header of the `mdat` whose payload is their data, in order."""
    with_cts = any(s.cts_offset for s in samples)
    flags = _TRUN_DATA_OFFSET | _TRUN_DURATION | _TRUN_SIZE | _TRUN_FLAGS | (_TRUN_CTS_OFFSET if with_cts else 0)
    if with_cts:
        entries = b"".join(struct.pack(">IIIi", s.duration, s.size, _flags(s), s.cts_offset) for s in samples)
    else:
        entries = b"".join(struct.pack(">III", s.duration, s.size, _flags(s)) for s in samples)
    trun_size = 20 + len(entries)
    traf_size = 8 + 16 + 20 + trun_size
    moof_size = 8 + 16 + traf_size
    payload = sum(s.size for s in samples)
    return b"".join(
        (
            struct.pack(">I4s", moof_size, b"moof"),
            struct.pack(">I4sII", 16, b"mfhd", 0, sequence),
            struct.pack(">I4s", traf_size, b"traf"),
            struct.pack(">I4sII", 16, b"tfhd", _TFHD_DEFAULT_BASE_IS_MOOF, track.track_id),
            struct.pack(">I4sIQ", 20, b"tfdt", 1 << 24, base_decode_time),
            # Version 1 only where composition offsets are present: they are signed there.
            struct.pack(
                ">I4sIIi", trun_size, b"trun", (1 << 24 if with_cts else 0) | flags, len(samples), moof_size + 8
            ),
            entries,
            struct.pack(">I4s", 8 + payload, b"mdat"),
        )
    )


def _flags(sample: Sample) -> int:
    return KEY_FRAME_FLAGS if sample.keyframe else DELTA_FRAME_FLAGS

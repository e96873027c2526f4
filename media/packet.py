"""A camera session's codec parameters and its compressed packets, as every consumer sees them."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """Codec parameters of one connection ("session") to a camera.

    `extradata` holds the parameter sets (SPS/PPS, and VPS for H.265), which cameras often send only in
    the SDP; consumers need it to mux or decode packets that carry no in-band parameter sets. `mp4_init`
    holds the same parameters as an MP4 initialisation segment, from which muxers build their streams
    (see `media.mp4.init`).
    """

    session: int
    codec: str
    profile: str | None
    width: int
    height: int
    time_base: Fraction
    extradata: bytes | None
    frame_rate: float | None
    started_at: float
    mp4_init: bytes | None = None


class MediaPacket(NamedTuple):
    """One compressed video access unit, exactly as the camera sent it.

    A named tuple rather than a dataclass: one is made per packet per camera, and a tuple is built in a
    third of the time, immutable all the same. `data` is a read-only view of FFmpeg's packet buffer, not a
    copy (a copy costs seven times as much, and more in allocator churn); `bytes(packet.data)` makes one.
    """

    session: int
    data: bytes | memoryview
    pts: int | None
    dts: int | None
    duration: int
    time_base: Fraction
    keyframe: bool
    received_at: float

    @property
    def pts_seconds(self) -> float | None:
        return None if self.pts is None else float(self.pts * self.time_base)

"""Decoding one camera session's packets, for the few consumers that need pictures (detectors, snapshots,
Motion JPEG)."""

from __future__ import annotations

from typing import Any, cast

import av
from av.video.codeccontext import VideoCodecContext

from media.packet import MediaPacket, StreamInfo


def decoder_for(info: StreamInfo) -> VideoCodecContext:
    """A PyAV decoder of the session's codec, given the parameter sets cameras often send only in the SDP."""
    decoder = cast(VideoCodecContext, av.CodecContext.create(info.codec, "r"))
    if info.extradata:
        decoder.extradata = info.extradata
    return decoder


def av_packet(packet: MediaPacket) -> av.Packet[Any]:
    """The packet as PyAV takes it for decoding: over the camera's own buffer (a read-only view), not a copy.

    PyAV's annotations say bytes, but it takes any buffer."""
    out = av.Packet(cast(bytes, packet.data))
    out.pts, out.dts, out.time_base = packet.pts, packet.dts, packet.time_base
    return out

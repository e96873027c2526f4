"""A camera's access units, as they are, into PS (`media.ps`) and RTP (`media.rtp`) on one channel."""

from __future__ import annotations

import time
from fractions import Fraction

from media.nal import AnnexBFramer
from media.ps import STREAM_TYPES, PsMuxer
from media.rtp import RtpPacketizer
from uplink.gb28181.media.channel import RtpChannel

RTP_CLOCK = Fraction(1, 90000)


class UnsupportedCodec(Exception):
    pass


class PsRtpSender:
    def __init__(self, channel: RtpChannel, ssrc: int, payload_type: int) -> None:
        self.channel = channel
        self._rtp = RtpPacketizer(ssrc, payload_type)
        self._framer: AnnexBFramer | None = None
        self._muxer: PsMuxer | None = None
        self.bytes_sent = 0
        self.frames_sent = 0
        self.first_sent_at: float | None = None

    def begin(self, codec: str, extradata: bytes | None) -> None:
        """The codec parameters of what follows (a new camera connection, or a recording)."""
        if codec not in STREAM_TYPES:
            raise UnsupportedCodec(f"{codec} cannot be carried in a GB/T 28181 program stream")
        self._framer = AnnexBFramer(extradata, codec)
        self._muxer = PsMuxer(codec)

    def frame(self, data: bytes | memoryview, keyframe: bool, timestamp: int) -> None:
        """One access unit; `timestamp` on the 90 kHz clock."""
        assert self._framer is not None and self._muxer is not None, "begin() first"
        ps = self._muxer.frame(self._framer.frame(data, keyframe), timestamp, keyframe)
        self.bytes_sent += self.channel.send(self._rtp.packets(ps, timestamp))
        self.frames_sent += 1
        if self.first_sent_at is None:
            self.first_sent_at = time.time()

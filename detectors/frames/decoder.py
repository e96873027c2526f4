"""Decodes a camera's packets for its detectors: key frames only where that is all they need."""

from __future__ import annotations

import av

from media.decoding import av_packet, decoder_for
from media.packet import MediaPacket, StreamInfo


class FrameDecoder:
    """A PyAV decoder for one camera session.

    With `key_frames_only` non-key packets are never handed to FFmpeg, and the decoder is told to skip
    non-key frames as well (`skip_frame = "NONKEY"`), so a camera with a 2 s GOP costs one decoded frame
    in fifty. One thread: detectors run beside dozens of cameras and must not grab every core.
    """

    def __init__(self, info: StreamInfo, key_frames_only: bool = True) -> None:
        self.info = info
        self.key_frames_only = key_frames_only
        self._context = decoder_for(info)
        self._context.thread_count = 1
        if key_frames_only:
            self._context.skip_frame = "NONKEY"
        self.decoded = 0
        self.errors = 0

    def decode(self, packet: MediaPacket) -> list[av.VideoFrame]:
        """The frames this packet completes; a corrupt packet yields none and is counted."""
        if self.key_frames_only and not packet.keyframe:
            return []
        try:
            frames = self._context.decode(av_packet(packet))
        except av.error.FFmpegError:
            self.errors += 1
            return []
        self.decoded += len(frames)
        return frames

"""One segment file written from a camera's packets by copying them (no decoding, no encoding)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av

from streams.mp4_init import FRAGMENTED, template_stream
from streams.packet import MediaPacket, StreamInfo


class SegmentWriteError(Exception):
    """The segment could not be written (disk full, read-only, gone); the message says why."""


def params_digest(info: StreamInfo) -> str:
    """Identifies the codec parameters: segments with equal digests share an initialisation segment."""
    digest = hashlib.sha256()
    for part in (info.codec, str(info.width), str(info.height), info.extradata or b""):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


class SegmentWriter:
    """A fragmented MP4 on disk; a fragment is flushed at least every `fragment_s`, so a kill loses less."""

    def __init__(self, path: Path, info: StreamInfo, fragment_s: float) -> None:
        if info.mp4_init is None:
            raise SegmentWriteError(f"{info.codec} cannot be recorded into MP4")
        self.path = path
        self._seconds = float(info.time_base)  # per tick; floats, not Fractions, in the per-packet path
        self.keyframes: list[float] = []  # offsets from the segment's first packet, in seconds
        self._base: int | None = None
        self._last_dts: int | None = None
        self._end = 0  # end of the last packet, in time_base units from _base
        self._frame = 0  # the last frame interval, for packets that carry no duration
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._container = av.open(
                str(path), "w", format="mp4",
                container_options={
                    "movflags": FRAGMENTED,
                    "frag_duration": str(int(fragment_s * 1_000_000)),
                    "flush_packets": "1",
                },
            )
            with template_stream(info.mp4_init) as template:
                self._stream = self._container.add_stream_from_template(template)
            # The camera's own parameter sets, in the form its packets use (Annex B from RTSP, avcC from
            # files): the muxer converts the packets to MP4's form only when the two agree.
            self._stream.codec_context.extradata = info.extradata
            self._stream.time_base = info.time_base
            self._container.start_encoding()
        except (OSError, av.FFmpegError) as error:
            raise SegmentWriteError(_describe(error)) from error

    @property
    def duration_s(self) -> float:
        return self._end * self._seconds

    def step_s(self, packet: MediaPacket) -> float | None:
        """Seconds from the last packet written to `packet` on the camera's clock (None for the first)."""
        dts = packet.dts if packet.dts is not None else packet.pts
        if dts is None or self._last_dts is None:
            return None
        return (dts - self._last_dts) * self._seconds

    def write(self, packet: MediaPacket) -> None:
        dts = packet.dts if packet.dts is not None else packet.pts
        pts = packet.pts if packet.pts is not None else dts
        assert dts is not None and pts is not None
        if self._base is None:
            self._base = dts
        if self._last_dts is not None:
            self._frame = dts - self._last_dts
        self._last_dts = dts
        out = av.Packet(packet.data)
        out.dts = dts - self._base
        out.pts = pts - self._base
        out.duration = packet.duration or self._frame
        out.time_base = packet.time_base
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        if packet.keyframe:
            self.keyframes.append(out.pts * self._seconds)
        self._end = max(self._end, out.pts + out.duration)
        try:
            self._container.mux_one(out)
        except (OSError, av.FFmpegError) as error:
            raise SegmentWriteError(_describe(error)) from error

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def close(self) -> None:
        try:
            self._container.close()
        except (OSError, av.FFmpegError) as error:
            raise SegmentWriteError(_describe(error)) from error


def _describe(error: BaseException) -> str:
    errno = getattr(error, "errno", None)
    if errno == 28:
        return "disk full"
    if errno == 30:
        return "recordings volume is read-only"
    if errno == 13:
        return "no permission to write recordings"
    return str(error) or type(error).__name__

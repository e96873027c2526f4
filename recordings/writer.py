"""One segment file written from a camera's packets by copying them (no decoding, no encoding)."""

from __future__ import annotations

import hashlib
import os
from fractions import Fraction
from pathlib import Path

from streams.mp4_fragment import Sample, Track, fragment_header
from streams.nal_units import length_prefixed
from streams.packet import MediaPacket, StreamInfo

_IOV_MAX = 1024


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
    """A fragmented MP4 on disk: the stream's initialisation segment, then a fragment (`moof` + `mdat`) per
    key frame or per `fragment_s`, whichever comes first, so a kill loses at most the fragment being filled.

    Fragments are built here (`streams.mp4_fragment`) rather than by FFmpeg's muxer: per frame that is a list
    append instead of a muxer call, and a fragment reaches the disk in one gathered write.
    """

    def __init__(self, path: Path, info: StreamInfo, fragment_s: float) -> None:
        if info.mp4_init is None:
            raise SegmentWriteError(f"{info.codec} cannot be recorded into MP4")
        self.path = path
        self.init_size = len(info.mp4_init)
        # The stream's framing, as FFmpeg decides it: parameter sets in an avcC/hvcC record mean length-prefixed
        # packets (files), anything else start codes (RTSP). A packet's first bytes cannot tell: a 256-511 byte
        # NAL unit's length prefix reads 00 00 01.
        self._annexb = not (info.extradata and info.extradata[0] == 1)
        try:
            self._track = Track.of_init(info.mp4_init)
        except ValueError as error:
            raise SegmentWriteError(f"{info.codec}: {error}") from error
        self._seconds = float(info.time_base)  # per tick; floats, not Fractions, in the per-packet path
        scale = info.time_base * self._track.timescale
        self._scale: Fraction | None = None if scale == 1 else scale
        self._fragment_ticks = max(1, int(fragment_s / self._seconds))
        self.keyframes: list[float] = []  # offsets from the segment's first packet, in seconds
        self._base: int | None = None
        self._last_dts: int | None = None
        self._end = 0  # end of the last packet, in time_base units from _base
        self._frame = 0  # the last frame interval, for packets that carry no duration
        self._last_duration = 0
        self._sequence = 0
        self._written = 0
        # The fragment being filled: its frames' data in MP4's framing, in pieces to write in order, and
        # (dts, pts, key frame, size) of each frame.
        self._data: list[bytes | memoryview] = []
        self._times: list[tuple[int, int, bool, int]] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise SegmentWriteError(_describe(error)) from error
        try:
            self._write([info.mp4_init])
        except SegmentWriteError:
            os.close(self._fd)
            raise

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
        dts -= self._base
        pts -= self._base
        if self._times and (packet.keyframe or dts - self._times[0][0] >= self._fragment_ticks):
            self._flush(next_dts=dts)
        if self._last_dts is not None:
            self._frame = dts - (self._last_dts - self._base)
        self._last_dts = dts + self._base
        if packet.keyframe:
            self.keyframes.append(pts * self._seconds)
        self._last_duration = packet.duration or self._frame
        self._end = max(self._end, pts + self._last_duration)
        data = packet.data
        if self._annexb:
            parts, size = length_prefixed(data)
            self._data += parts
        else:
            self._data.append(data)
            size = len(data)
        self._times.append((dts, pts, packet.keyframe, size))

    def size(self) -> int:
        """Bytes on disk: the initialisation segment and every complete fragment."""
        return self._written

    def close(self) -> None:
        """Write what is pending and close the file; once only (a failed close is not retried)."""
        if self._fd < 0:
            return
        try:
            if self._times:
                self._flush(next_dts=self._times[-1][0] + (self._last_duration or 1))
        finally:
            os.close(self._fd)
            self._fd = -1

    def _flush(self, next_dts: int) -> None:
        """Write the fragment being filled; `next_dts` ends its last frame."""
        times, data = self._times, self._data
        self._times, self._data = [], []
        ends = [t[0] for t in times[1:]] + [next_dts]
        scale = self._scale
        if scale is None:
            samples = [Sample(end - dts, size, key, pts - dts) for (dts, pts, key, size), end in zip(times, ends)]
            base = times[0][0]
        else:
            # Each time rescaled on its own, durations as differences: the rounding never accumulates.
            samples = []
            for (dts, pts, key, size), end in zip(times, ends):
                start = round(dts * scale)
                samples.append(Sample(round(end * scale) - start, size, key, round(pts * scale) - start))
            base = round(times[0][0] * scale)
        self._sequence += 1
        self._write([fragment_header(self._sequence, self._track, base, samples), *data])

    def _write(self, parts: list[bytes | memoryview]) -> None:
        try:
            first = 0
            while first < len(parts):
                done = os.writev(self._fd, parts[first:first + _IOV_MAX])
                self._written += done
                while first < len(parts) and done >= len(parts[first]):
                    done -= len(parts[first])
                    first += 1
                if done:  # a short write ends inside a part: the rest of it goes next
                    parts[first] = memoryview(parts[first])[done:]
        except OSError as error:
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

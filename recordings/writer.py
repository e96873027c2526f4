"""One segment file written from a camera's packets by copying them (no decoding, no encoding)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from media.mp4.fragmenter import Fragmenter
from media.packet import MediaPacket, StreamInfo

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

    Fragments are built by `media.mp4.fragmenter` rather than by FFmpeg's muxer: per frame that is a list
    append instead of a muxer call, and a fragment reaches the disk in one gathered write.
    """

    def __init__(self, path: Path, info: StreamInfo, fragment_s: float) -> None:
        if info.mp4_init is None:
            raise SegmentWriteError(f"{info.codec} cannot be recorded into MP4")
        self.path = path
        self.init_size = len(info.mp4_init)
        try:
            self._fragments = Fragmenter(info, fragment_s)
        except ValueError as error:
            raise SegmentWriteError(f"{info.codec}: {error}") from error
        self.keyframes = self._fragments.keyframes  # offsets from the segment's first packet, in seconds
        self._written = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        try:
            try:
                self._fd = os.open(path, flags, 0o644)
            except FileNotFoundError:
                # The camera's first segment of the day. Otherwise the folder is there: no mkdir (and its EEXIST)
                # per segment, where a new worker's recorders waited up to 0.6 s after a kill, off the CPU
                # (docs/performance.md).
                path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(path, flags, 0o644)
        except OSError as error:
            raise SegmentWriteError(_describe(error)) from error
        try:
            self._write([info.mp4_init])
        except SegmentWriteError:
            os.close(self._fd)
            raise

    @property
    def duration_s(self) -> float:
        return self._fragments.duration_s

    @property
    def fragment_due_s(self) -> float | None:
        """Seconds from the segment's first packet at which the fragment being filled closes at the latest."""
        return self._fragments.fragment_due_s

    def step_s(self, packet: MediaPacket) -> float | None:
        """Seconds from the last packet written to `packet` on the camera's clock (None for the first)."""
        return self._fragments.step_s(packet)

    def write(self, packet: MediaPacket) -> None:
        closed = self._fragments.add(packet)
        if closed:
            self._write(closed)

    def size(self) -> int:
        """Bytes on disk: the initialisation segment and every complete fragment."""
        return self._written

    def close(self) -> None:
        """Write what is pending and close the file; once only (a failed close is not retried)."""
        if self._fd < 0:
            return
        try:
            last = self._fragments.finish()
            if last:
                self._write(last)
        finally:
            os.close(self._fd)
            self._fd = -1

    def _write(self, parts: list[bytes | memoryview]) -> None:
        try:
            first = 0
            while first < len(parts):
                done = os.writev(self._fd, parts[first : first + _IOV_MAX])
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

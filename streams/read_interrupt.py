"""Aborting a PyAV read that is blocked inside FFmpeg, from another thread, at no cost per read.

PyAV's own read timeout (`av.open(..., timeout=(open, read))`) works through FFmpeg's interrupt callback, which
FFmpeg calls before every socket read; PyAV's callback takes the GIL each time to read Python's clock. Over RTSP/TCP
that is some 2,000 GIL round trips a second per 1080p camera, a third of ingest CPU (docs/performance.md).

PyAV keeps the callback's state in a small struct inside the container object, `{double start_time; double timeout}`,
and its callback returns at once, without the GIL, while `timeout < 0` — which is what a container opened with no
read timeout holds between reads. So vms opens cameras without a read timeout and, when its watchdog decides that a
read has waited too long, sets that `timeout` to 0: on its next check (within 100 ms, FFmpeg polls in slices) the
callback reports the deadline passed and FFmpeg abandons the read with AVERROR_EXIT.

The struct is found by value, not by a hard-coded offset: right after `av.open`, PyAV has set `start_time` to its
clock reading at the open and `timeout` to -1.0; exactly one 16-byte slot of the object holds a clock reading taken
between our own two readings around the call, followed by -1.0. If no slot or several match (another PyAV build),
`attach` returns None and the caller falls back to PyAV's read timeout. `supported` proves the whole mechanism once
per process on a real blocked read before any camera relies on it.
"""

from __future__ import annotations

import ctypes
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import av

ContainerT = TypeVar("ContainerT")

_SLOT = struct.Struct("dd")
_NO_TIMEOUT = -1.0


class ReadInterrupter:
    """Handle on one open container's interrupt state; keeps the container alive while it exists."""

    def __init__(self, container: Any, timeout_address: int) -> None:
        self._container = container  # the address stays valid as long as this reference does
        self._timeout = ctypes.c_double.from_address(timeout_address)
        self.fired = False

    @classmethod
    def attach(cls, container: Any, opened_after: float, opened_before: float) -> ReadInterrupter | None:
        """Locate the interrupt state of a container opened (with no read timeout) between the two clock readings."""
        base = id(container)
        size = type(container).__basicsize__
        raw = ctypes.string_at(base, size)
        matches = [
            offset
            for offset in range(0, size - _SLOT.size + 1, 8)
            if (slot := _SLOT.unpack_from(raw, offset))[1] == _NO_TIMEOUT and opened_after <= slot[0] <= opened_before
        ]
        if len(matches) != 1:
            return None
        return cls(container, base + matches[0] + 8)

    def interrupt(self) -> None:
        """Make the read in progress (or the next one) give up within FFmpeg's polling slice.

        FFmpeg usually ends that read with AVERROR_EXIT, but the RTSP demuxer turns an abort met while it reads
        an interleaved reply into EIO: a caller tells an interruption from a failure by `fired`, not by the error.
        """
        self.fired = True
        self._timeout.value = 0.0


def open_interruptible(
    opener: Callable[[], ContainerT], clock: Callable[[], float] = time.monotonic
) -> tuple[ContainerT, ReadInterrupter | None]:
    """Call `opener` (an `av.open` with an open timeout and no read timeout) and attach an interrupter to its result.

    `clock` must be the clock PyAV reads (`time.monotonic`).
    """
    before = clock()
    container = opener()
    after = clock()
    return container, ReadInterrupter.attach(container, before, after)


_checked: list[bool] = []  # the probe's verdict, once known; a cache, like functools.cache but under a lock
_checking = threading.Lock()


def supported() -> bool:
    """Whether aborting through PyAV's interrupt state works in this process (checked once, in about 0.3 s).

    Not just whether the state is found: a real read, blocked on a loopback TCP peer that went silent after
    one frame, must end with ExitError once interrupted. That is FFmpeg's own socket polling path, as for RTSP.
    """
    with _checking:  # cameras starting together wait for one probe rather than each running their own
        if not _checked:
            try:
                _checked.append(_aborts_a_blocked_read())
            except Exception:  # whatever went wrong, the safe answer is "no": PyAV's read timeout does the work
                _checked.append(False)
        return _checked[0]


def _aborts_a_blocked_read(deadline_s: float = 5.0) -> bool:
    frame = b"FRAME\n" + bytes(16 * 16 * 3 // 2)
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        peers: list[socket.socket] = []

        def serve() -> None:  # one frame, then silence with the connection held open
            peer, _ = server.accept()
            peer.sendall(b"YUV4MPEG2 W16 H16 F25:1 Ip A1:1 C420jpeg\n" + frame)
            peers.append(peer)

        threading.Thread(target=serve, daemon=True).start()
        container, interrupter = open_interruptible(
            lambda: av.open(f"tcp://127.0.0.1:{port}", format="yuv4mpegpipe", timeout=(deadline_s, None))
        )
        outcome: list[BaseException | None] = []

        def read() -> None:
            try:
                for _ in container.demux():
                    pass
                outcome.append(None)
            except BaseException as error:
                outcome.append(error)

        reader = threading.Thread(target=read, daemon=True)
        try:
            if interrupter is None:
                return False
            reader.start()
            started = time.monotonic()
            while reader.is_alive() and time.monotonic() - started < deadline_s:
                time.sleep(0.1)
                interrupter.interrupt()
            reader.join(0.5)
            return not reader.is_alive() and bool(outcome) and isinstance(outcome[0], av.error.ExitError)
        finally:
            for peer in peers:
                peer.close()  # also ends the read, should the abort not have worked
            reader.join(deadline_s)
            container.close()

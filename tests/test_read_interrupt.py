"""Aborting a blocked PyAV read from another thread (streams/read_interrupt.py), on a real RTSP connection."""

from __future__ import annotations

import threading
import time

import av

from streams import read_interrupt
from tests.rig.rtsp import RtspServer


def test_supported_by_the_pinned_pyav() -> None:
    # If this fails after a PyAV upgrade, ingest silently falls back to PyAV's costly read timeout.
    assert read_interrupt.supported()


def test_interrupt_ends_a_read_blocked_on_a_camera_kept_alive_by_rtcp(rtsp: RtspServer) -> None:
    container, interrupter = read_interrupt.open_interruptible(
        lambda: av.open(rtsp.url("/gate"), options={"rtsp_transport": "tcp", "timeout": "60000000"}, timeout=(10, None))
    )
    assert interrupter is not None
    outcome: list[BaseException | str] = []
    reading = threading.Event()

    def read() -> None:
        try:
            for _ in container.demux():
                reading.set()
            outcome.append("ended")
        except BaseException as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert reading.wait(10)
    rtsp.stall("/gate")
    time.sleep(3)  # blocked in FFmpeg now, RTCP keeping the socket alive and the 60 s socket timeout far off
    assert reader.is_alive() and not outcome
    interrupted = time.monotonic()
    interrupter.interrupt()
    reader.join(2)
    assert not reader.is_alive(), "the read did not end"
    assert time.monotonic() - interrupted < 1.0
    # AVERROR_EXIT as a rule; EIO when the abort meets the RTSP demuxer reading an interleaved reply.
    assert isinstance(outcome[0], av.error.ExitError | av.error.OSError) and interrupter.fired
    container.close()


def test_attach_refuses_a_container_it_cannot_recognise(rtsp: RtspServer) -> None:
    container = av.open(rtsp.url("/gate"), options={"rtsp_transport": "tcp"}, timeout=(10, 10))
    # Opened with a read timeout, and outside the given window: no slot can match.
    assert read_interrupt.ReadInterrupter.attach(container, 0.0, 1.0) is None
    container.close()


def test_stopping_a_stalled_camera_is_prompt(rtsp: RtspServer) -> None:
    from streams.camera import CameraStream
    from streams.health import CameraState
    from streams.source import SourceSettings

    cam = CameraStream(SourceSettings("cam", rtsp.url("/gate"), watchdog_s=60), 1.0, 1 << 20)
    cam.start()
    deadline = time.monotonic() + 15
    while cam.health.snapshot().packets_total < 25 and time.monotonic() < deadline:
        time.sleep(0.1)
    rtsp.stall("/gate")
    time.sleep(2)
    assert cam.health.snapshot().state is CameraState.STALLED
    stopped = time.monotonic()
    cam.stop()
    assert cam.join(2), "the source thread is still blocked in FFmpeg"
    assert time.monotonic() - stopped < 1.5


def test_stop_while_connecting_to_a_silent_camera_is_not_lost(rtsp: RtspServer) -> None:
    from streams.camera import CameraStream
    from streams.source import SourceSettings

    rtsp.stall("/duty")  # the session opens, but no video ever comes; RTCP keeps it alive
    cam = CameraStream(SourceSettings("cam", rtsp.url("/duty"), open_timeout_s=3, watchdog_s=60), 1.0, 1 << 20)
    cam.start()
    time.sleep(1.0)  # inside the open or the first read
    stopped = time.monotonic()
    cam.stop()
    assert cam.join(5), "the stop was lost: the source thread is still blocked"
    assert time.monotonic() - stopped < 4.5  # at worst the open timeout, never the 60 s watchdog

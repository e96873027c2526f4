"""A live RTSP camera whose pictures carry the wall clock, for glass-to-glass latency (bench/live.py).

Runs under Debian's /usr/bin/python3 (PyGObject, GStreamer RTSP server). Each raw frame is stamped at its
capture moment with the wall-clock milliseconds as 48 black/white blocks across the top of the picture,
over grey noise that keeps every P-frame large (like a real sensor at its bitrate cap), then encoded with
x264 (zero latency, no B-frames, 2 s GOP) and served over RTSP.

    /usr/bin/python3 bench/clock_camera.py --port 8554 --width 1920 --height 1080 --fps 25
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer

BITS = 48
BLOCK_ROWS = 40
NOISE_FRAMES = 8


def stamp_spans(width: int) -> list[tuple[int, int]]:
    block = width // BITS
    return [(i * block, (i + 1) * block) for i in range(BITS)]


class ClockSource:
    """Builds I420 frames: noise, then the clock bits; paced to the frame rate by blocking need-data."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.width, self.height, self.fps = width, height, fps
        luma = width * height
        # Noise of modest amplitude around mid-grey (so the black/white blocks stay far from it).
        table = bytes(96 + (v & 0x3F) for v in range(256))
        self.noise = [os.urandom(luma).translate(table) for _ in range(NOISE_FRAMES)]
        self.chroma = bytes([128]) * (luma // 2)
        self.spans = stamp_spans(width)
        self.white = bytes([235]) * (self.spans[0][1] - self.spans[0][0])
        self.black = bytes([16]) * (self.spans[0][1] - self.spans[0][0])
        self.count = 0
        self.start = time.monotonic()

    def frame(self) -> tuple[bytes, int]:
        due = self.start + self.count / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamp = int(time.time() * 1000) & ((1 << BITS) - 1)
        y = bytearray(self.noise[self.count % NOISE_FRAMES])
        for bit, (x0, x1) in enumerate(self.spans):
            value = self.white if (stamp >> (BITS - 1 - bit)) & 1 else self.black
            for row in range(BLOCK_ROWS):
                base = row * self.width
                y[base + x0 : base + x1] = value
        pts = self.count * Gst.SECOND // self.fps
        self.count += 1
        return bytes(y) + self.chroma, pts


class ClockFactory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, width: int, height: int, fps: int, bitrate_kbps: int) -> None:
        super().__init__()
        self.size = (width, height, fps)
        gop = fps * 2
        self.set_launch(
            "( appsrc name=src is-live=true format=time do-timestamp=false "
            f"caps=video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
            f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={bitrate_kbps} key-int-max={gop} "
            "bframes=0 ! video/x-h264,profile=main ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=0 )"
        )
        self.set_shared(True)
        self.connect("media-configure", self._configure)

    def _configure(self, _factory: object, media: GstRtspServer.RTSPMedia) -> None:
        src = media.get_element().get_by_name("src")
        source = ClockSource(*self.size)

        def need_data(appsrc: object, _length: int) -> None:
            data, pts = source.frame()
            buffer = Gst.Buffer.new_wrapped(data)
            buffer.pts = pts
            buffer.duration = Gst.SECOND // source.fps
            appsrc.emit("push-buffer", buffer)

        src.connect("need-data", need_data)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate-kbps", type=int, default=4000)
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory("/clock", ClockFactory(args.width, args.height, args.fps, args.bitrate_kbps))
    server.attach(None)
    print(f"ready rtsp://127.0.0.1:{args.port}/clock", flush=True)
    loop = GLib.MainLoop()
    threading.Thread(target=lambda: (sys.stdin.read(), loop.quit()), daemon=True).start()  # stdin closed: stop
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The last-resort live view: Motion JPEG, a picture at a time, for an `<img>`.

WebRTC and the fMP4 fallback forward the camera's packets untouched, so they need a codec the browser decodes:
H.264. Cameras that send H.265 (and browsers with neither WebRTC nor Media Source Extensions) get this view
instead. It is the one live path that decodes and re-encodes, so it is kept cheap where it can be: every frame
must be decoded (each depends on the one before), but once per camera for all its viewers, and only `fps`
pictures a second, no wider than `max_width`, are encoded; a viewer that reads slowly gets the newest picture
rather than a backlog.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import av

from streams.decoding import decoder_for
from streams.hub import Hub
from streams.live.feed_thread import FeedThread
from streams.live.jpeg import encode_jpeg
from streams.packet import MediaPacket, StreamEnded, StreamInfo
from streams.subscription import SubscriptionClosed

log = logging.getLogger(__name__)

QUEUE_PACKETS = 200
BOUNDARY = "frame"


def multipart_part(jpeg: bytes, headers: dict[str, str] | None = None) -> bytes:
    """One picture of a `multipart/x-mixed-replace` stream, with `headers` of its own (e.g. its time)."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n{extra}\r\n".encode()
    return head + jpeg + b"\r\n"


class MjpegViewer:
    """One viewer's end of a feed: the pictures waiting for it (the newest only, when it reads slowly)."""

    def __init__(self, feed: MjpegFeed, loop: asyncio.AbstractEventLoop) -> None:
        self.feed = feed
        self.loop = loop
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=2)
        self.packets_sent = 0  # pictures sent, for the viewers list


class MjpegFeed(FeedThread):
    """One camera's Motion JPEG: a worker thread decodes its stream once and encodes pictures for every viewer
    of it, however many they are; None tells them the feed ended."""

    def __init__(self, hub: Hub, name: str, fps: float, max_width: int) -> None:
        super().__init__(hub, name, QUEUE_PACKETS)
        self._interval = 1.0 / fps
        self._max_width = max_width
        self._viewers: list[MjpegViewer] = []
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def add_viewer(self, loop: asyncio.AbstractEventLoop) -> MjpegViewer:
        viewer = MjpegViewer(self, loop)
        with self._lock:
            self._viewers.append(viewer)
        return viewer

    def remove_viewer(self, viewer: MjpegViewer) -> int:
        """Forget `viewer`; returns how many are left."""
        with self._lock:
            if viewer in self._viewers:
                self._viewers.remove(viewer)
            return len(self._viewers)

    def _post(self, picture: bytes | None) -> None:
        with self._lock:
            viewers = list(self._viewers)
        for viewer in viewers:
            try:
                viewer.loop.call_soon_threadsafe(_put_newest, viewer.queue, picture)
            except RuntimeError:
                pass  # that viewer's event loop is gone

    def _run(self) -> None:
        decoder: av.CodecContext | None = None
        due = 0.0
        try:
            while not self._stop.is_set():
                newest: av.VideoFrame | None = None
                for item in self._subscription.get_all(timeout=0.5):
                    if isinstance(item, StreamInfo):
                        decoder = decoder_for(item)
                    elif isinstance(item, StreamEnded):
                        decoder = None  # a new connection brings its own parameters
                    elif isinstance(item, MediaPacket) and decoder is not None:
                        try:
                            frames = decoder.decode(av.Packet(item.data))
                        except av.error.FFmpegError as error:
                            log.debug("mjpeg: a frame did not decode: %s", error)
                            continue
                        if frames:
                            newest = frames[-1]
                now = time.monotonic()
                if newest is not None and now >= due:
                    # On a steady beat; after a pause (no video), from now rather than in a burst.
                    due = due + self._interval if due + self._interval > now else now + self._interval
                    self._post(encode_jpeg(newest, self._max_width, quality=5))
                self._stop.wait(min(self._interval / 2, 0.1))
        except SubscriptionClosed:
            pass  # the camera's stream went away: the viewers' pictures end
        except Exception:  # a broken stream ends this camera's Motion JPEG only
            log.exception("mjpeg: live view failed")
        finally:
            self.hub.unsubscribe(self._subscription)
            self._post(None)


def _put_newest(queue: asyncio.Queue[bytes | None], picture: bytes | None) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(picture)

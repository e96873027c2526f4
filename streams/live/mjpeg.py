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
from av.video.codeccontext import VideoCodecContext

from media.decoding import av_packet, decoder_for
from media.jpeg import encode_jpeg
from media.packet import MediaPacket, StreamInfo
from streams.hub import Hub
from streams.items import StreamEnded, StreamItem
from streams.worker import SubscriptionWorker

log = logging.getLogger(__name__)

QUEUE_PACKETS = 200


class MjpegViewer:
    """One viewer's end of a feed: the pictures waiting for it (the newest only, when it reads slowly)."""

    def __init__(self, feed: MjpegFeed, loop: asyncio.AbstractEventLoop) -> None:
        self.feed = feed
        self.loop = loop
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=2)
        self.packets_sent = 0  # pictures sent, for the viewers list


class MjpegFeed(SubscriptionWorker):
    """One camera's Motion JPEG: a worker thread decodes its stream once and encodes pictures for every viewer
    of it, however many they are; None tells them the feed ended."""

    def __init__(self, hub: Hub, name: str, fps: float, max_width: int) -> None:
        super().__init__(hub, name, capacity=QUEUE_PACKETS)
        self._interval = 1.0 / fps
        self.pause_s = min(self._interval / 2, 0.1)
        self._max_width = max_width
        self._viewers: list[MjpegViewer] = []
        self._lock = threading.Lock()
        self._decoder: VideoCodecContext | None = None
        self._newest: av.VideoFrame | None = None
        self._due = 0.0

    @property
    def running(self) -> bool:
        return super().running and not self.stopping

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

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        for item in items:
            if isinstance(item, StreamInfo):
                self._decoder = decoder_for(item)
            elif isinstance(item, StreamEnded):
                self._decoder = None  # a new connection brings its own parameters
            elif isinstance(item, MediaPacket) and self._decoder is not None:
                try:
                    frames = self._decoder.decode(av_packet(item))
                except av.error.FFmpegError as error:
                    log.debug("mjpeg: a frame did not decode: %s", error)
                    continue
                if frames:
                    self._newest = frames[-1]

    def idle(self, now: float) -> None:
        clock = time.monotonic()
        if self._newest is not None and clock >= self._due:
            # On a steady beat; after a pause (no video), from now rather than in a burst.
            self._due = self._due + self._interval if self._due + self._interval > clock else clock + self._interval
            self._post(encode_jpeg(self._newest, self._max_width, quality=5))
            self._newest = None

    def failed(self, error: Exception) -> None:
        log.error("mjpeg: live view failed", exc_info=error)  # a broken stream ends this camera's Motion JPEG only

    def finished(self) -> None:
        self._post(None)


def _put_newest(queue: asyncio.Queue[bytes | None], picture: bytes | None) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(picture)

"""The fallback live view: the camera's packets re-framed into fragmented MP4 for Media Source Extensions.

Re-framing is not re-encoding: each frame becomes a fragment (`moof`+`mdat`) behind the session's own
initialisation segment, built by the same `media.mp4.fragmenter` the recorder writes its segments with, so a
browser without WebRTC (or behind a network that blocks UDP) plays the camera's own H.264 over a WebSocket,
one frame behind live.
"""

from __future__ import annotations

import asyncio

from media.mp4.boxes import find
from media.mp4.fragmenter import Fragmenter
from media.nal import avc_codec_string
from media.packet import MediaPacket, StreamInfo
from streams.hub import Hub
from streams.items import PacketsDropped, StreamEnded, StreamItem
from streams.worker import SubscriptionWorker

QUEUE_PACKETS = 200
# Messages waiting for a slow WebSocket; beyond this the viewer is cut off rather than buffer without end.
MAX_PENDING = 250

Message = dict[str, object] | bytes | None


def codec_string(init: bytes) -> str:
    """The MSE codec string of an H.264 initialisation segment (from its avcC record)."""
    record = find(init, b"avcC")
    if record is None:
        raise ValueError("the initialisation segment has no avcC record")
    return avc_codec_string(bytes(record))


class Fmp4Feed(SubscriptionWorker):
    """A worker thread turning one viewer's subscription into fMP4; messages reach the event loop through a
    queue.

    Messages: a dict (JSON) announcing a new stream (`codec`, `width`, `height`) — the player resets its
    MediaSource — then bytes (the init segment, then a fragment per frame); None when the feed ends.
    """

    def __init__(self, hub: Hub, name: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(hub, name, capacity=QUEUE_PACKETS)
        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        self.packets_sent = 0
        self.end_reason: str | None = None
        self._loop = loop
        self._info: StreamInfo | None = None
        self._fragments: Fragmenter | None = None

    def _post(self, message: Message) -> None:
        try:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, message)
        except RuntimeError:
            self.stop()  # the event loop is gone

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        for item in items:
            if isinstance(item, StreamInfo):
                self._info = item if item.codec == "h264" and item.mp4_init else None
                self._fragments = None
            elif isinstance(item, (StreamEnded, PacketsDropped)):
                self._fragments = None  # the next key frame starts a new stream for the player
            elif isinstance(item, MediaPacket) and self._info is not None:
                self._packet(self._info, item)

    def _packet(self, info: StreamInfo, packet: MediaPacket) -> None:
        if self._fragments is None:
            if not packet.keyframe:
                return
            assert info.mp4_init is not None
            self._fragments = Fragmenter(info, fragment_s=None)
            self._post({"codec": codec_string(info.mp4_init), "width": info.width, "height": info.height})
            self._post(info.mp4_init)
        closed = self._fragments.add(packet)
        self.packets_sent += 1
        if closed:
            self._post(b"".join(closed))

    def idle(self, now: float) -> None:
        if self.queue.qsize() > MAX_PENDING:
            self.end_reason = "the viewer does not keep up"
            self.stop()

    def closed(self, reason: str) -> None:
        self.end_reason = reason

    def failed(self, error: Exception) -> None:
        self.end_reason = f"fallback stream failed: {error}"  # a broken stream ends this viewer only

    def finished(self) -> None:
        self._post(None)


__all__ = ["Fmp4Feed", "codec_string"]

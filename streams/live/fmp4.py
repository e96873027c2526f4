"""The fallback live view: the camera's packets re-framed into fragmented MP4 for Media Source Extensions.

Re-framing is not re-encoding: PyAV's MP4 muxer wraps each access unit in its own fragment (moof+mdat), so
a browser without WebRTC (or behind a network that blocks UDP) plays the camera's own H.264 over a
WebSocket, one frame behind live.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import av

from streams.hub import Hub
from streams.live.feed_thread import FeedThread
from streams.live.h264 import NAL_SPS, AnnexBFramer
from streams.nal_units import START_CODE
from streams.packet import MediaPacket, PacketsDropped, StreamEnded, StreamInfo
from streams.subscription import SubscriptionClosed

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof+frag_every_frame+delay_moov"
QUEUE_PACKETS = 200
# Messages waiting for a slow WebSocket; beyond this the viewer is cut off rather than buffer without end.
MAX_PENDING = 250


def codec_string(access_unit: bytes) -> str | None:
    """The MSE codec string (avc1.PPCCLL) from the SPS in an Annex B access unit."""
    i = access_unit.find(START_CODE[1:])
    while i >= 0:
        nal = access_unit[i + 3:i + 7]
        if len(nal) == 4 and nal[0] & 0x1F == NAL_SPS:
            return f"avc1.{nal[1]:02x}{nal[2]:02x}{nal[3]:02x}"
        i = access_unit.find(START_CODE[1:], i + 3)
    return None


class _BufferSink(io.RawIOBase):
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


class Fmp4Muxer:
    """One continuous run of packets (a session, or the part after a drop) as an fMP4 byte stream."""

    def __init__(self, info: StreamInfo) -> None:
        self._framer = AnnexBFramer(info.extradata)
        self._sink = _BufferSink()
        self._container = av.open(self._sink, mode="w", format="mp4", options={"movflags": MOVFLAGS})
        # delay_moov: the init segment is written from the first key frame's SPS/PPS, so no codec context
        # (and no encoder) is ever opened.
        self._stream = self._container.add_mux_stream("h264", width=info.width, height=info.height)
        self._stream.time_base = info.time_base
        self._origin: int | None = None
        self.codec: str | None = None

    def mux(self, packet: MediaPacket) -> bytes:
        unit = self._framer.frame(packet.data, packet.keyframe)
        if self.codec is None:
            self.codec = codec_string(unit) or "avc1.640028"
        pts = packet.pts or 0
        if self._origin is None:
            self._origin = pts
        out = av.Packet(unit)
        out.pts = out.dts = pts - self._origin  # MSE timelines start at zero
        out.time_base = packet.time_base
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._container.mux(out)
        return self._sink.take()

    def close(self) -> None:
        try:
            self._container.close()
        except av.error.FFmpegError:
            pass


class Fmp4Feed(FeedThread):
    """A worker thread muxing one viewer's subscription; messages reach the event loop through a queue.

    Messages: a dict (JSON) announcing a new stream (`codec`, `width`, `height`) — the player resets its
    MediaSource — then bytes (the init segment, then a fragment per frame); None when the feed ends.
    """

    def __init__(self, hub: Hub, name: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(hub, name, QUEUE_PACKETS)
        self.queue: asyncio.Queue[dict[str, object] | bytes | None] = asyncio.Queue()
        self.packets_sent = 0
        self.end_reason: str | None = None
        self._loop = loop

    def _post(self, message: dict[str, object] | bytes | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, message)
        except RuntimeError:
            self._stop.set()  # the event loop is gone

    def _run(self) -> None:
        info: StreamInfo | None = None
        muxer: Fmp4Muxer | None = None
        try:
            while not self._stop.is_set():
                if self.queue.qsize() > MAX_PENDING:
                    self.end_reason = "the viewer does not keep up"
                    return
                item = self._subscription.get(0.5)
                if isinstance(item, StreamInfo):
                    info = item if item.codec == "h264" else None
                    muxer = _closed(muxer)
                elif isinstance(item, (StreamEnded, PacketsDropped)):
                    muxer = _closed(muxer)
                elif isinstance(item, MediaPacket) and info is not None:
                    if muxer is None:
                        if not item.keyframe:
                            continue
                        muxer = Fmp4Muxer(info)
                        chunk = muxer.mux(item)
                        self._post({"codec": muxer.codec, "width": info.width, "height": info.height})
                    else:
                        chunk = muxer.mux(item)
                    self.packets_sent += 1
                    if chunk:
                        self._post(chunk)
        except SubscriptionClosed as closed:
            self.end_reason = str(closed)
        except Exception as error:  # a broken stream ends this viewer only
            self.end_reason = f"fallback stream failed: {error}"
        finally:
            _closed(muxer)
            self.hub.unsubscribe(self._subscription)
            self._post(None)


def _closed(muxer: Fmp4Muxer | None) -> None:
    if muxer is not None:
        muxer.close()


__all__ = ["Fmp4Feed", "Fmp4Muxer", "codec_string"]

"""A WebRTC video track that forwards a camera's H.264 packets as they are: no decoding, no encoding."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.nal import AnnexBFramer
from media.packet import MediaPacket, StreamInfo
from streams.hub import Hub
from streams.items import PacketsDropped, StreamEnded
from streams.subscription import OverflowPolicy, Subscription, SubscriptionClosed

RTP_CLOCK = Fraction(1, 90000)
# A viewer that falls this far behind skips to the next key frame rather than lag (about 8 s at 25 fps).
QUEUE_PACKETS = 200


class HubVideoTrack(MediaStreamTrack):
    """Reads one hub subscription; aiortc's sender packetises each `av.Packet` (its encoder's `pack`).

    The subscription starts on the cached GOP's key frame, so the first picture comes at once. Timestamps
    are carried over to a 90 kHz clock that keeps running across camera reconnections, so a browser's
    jitter buffer never sees time go backwards.
    """

    kind = "video"

    def __init__(self, hub: Hub, name: str) -> None:
        super().__init__()
        self._hub = hub
        self._subscription: Subscription | None = hub.subscribe(name, QUEUE_PACKETS, OverflowPolicy.DROP)
        self._framer: AnnexBFramer | None = None
        self._session_origin: tuple[int, int] | None = None  # (camera pts, output pts) at a session's start
        self._next_pts = 0
        self.packets_sent = 0

    async def recv(self) -> av.Packet[Any]:
        subscription = self._subscription
        if subscription is None or self.readyState != "live":
            raise MediaStreamError
        while True:
            try:
                item = await subscription.get_async()
            except SubscriptionClosed:
                self.stop()
                raise MediaStreamError from None
            if isinstance(item, StreamInfo):
                self._framer = AnnexBFramer(item.extradata) if item.codec == "h264" else None
                self._session_origin = None
            elif isinstance(item, (StreamEnded, PacketsDropped)):
                self._session_origin = None  # the next packet (a key frame) restarts the clock mapping
            elif isinstance(item, MediaPacket) and self._framer is not None:
                return self._to_av(item)

    def _to_av(self, item: MediaPacket) -> av.Packet[Any]:
        pts = item.pts if item.pts is not None else 0
        if self._session_origin is None:
            self._session_origin = (pts, self._next_pts)
        camera_origin, output_origin = self._session_origin
        out_pts = output_origin + round((pts - camera_origin) * item.time_base / RTP_CLOCK)
        frame_ticks = round(item.duration * item.time_base / RTP_CLOCK) if item.duration else 3600
        self._next_pts = max(self._next_pts, out_pts + max(frame_ticks, 1))
        assert self._framer is not None
        packet = av.Packet(self._framer.frame(item.data, item.keyframe))
        packet.pts = out_pts
        packet.dts = out_pts
        packet.time_base = RTP_CLOCK
        packet.is_keyframe = item.keyframe
        self.packets_sent += 1
        return packet

    @property
    def hub(self) -> Hub:
        return self._hub

    def stop(self) -> None:
        super().stop()
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            self._hub.unsubscribe(subscription)

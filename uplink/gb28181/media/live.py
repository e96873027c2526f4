"""Live video for a platform: a hub consumer like the recorder, starting on the hub's cached GOP so the first
picture leaves at once, then every packet as the camera sent it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from media.packet import MediaPacket, StreamInfo
from streams.hub import Hub
from streams.items import PacketsDropped, StreamEnded, StreamItem
from streams.worker import SubscriptionWorker
from uplink.gb28181.media.channel import ChannelClosed, RtpChannel
from uplink.gb28181.media.sender import RTP_CLOCK, PsRtpSender, UnsupportedCodec

log = logging.getLogger(__name__)

QUEUE_PACKETS = 500
CONNECT_TIMEOUT_S = 10.0


class LiveMedia(SubscriptionWorker):
    """Sends until stopped; `ended(reason)` is called (from its thread) where it stops on its own."""

    poll_s = 0.1
    # Frames taken in batches, not a wake-up each: a third of the cascade's CPU (bench/uplink.py), for at most
    # this much more delay, which the platform's jitter buffer of a second or so does not notice. A BYE's stop
    # ends the rest at once.
    pause_s = 0.1

    def __init__(
        self, hub: Hub, name: str, channel: RtpChannel, ssrc: int, payload_type: int, ended: Callable[[str], None]
    ) -> None:
        super().__init__(
            hub, f"gb28181:{name}", capacity=QUEUE_PACKETS, thread_name=f"gb-live-{name}", max_delay_s=self.pause_s
        )
        self.sender = PsRtpSender(channel, ssrc, payload_type)
        self._ended = ended
        self._begun = False  # codec parameters known
        self._ready = False  # and a key frame to start on

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        if not self.sender.channel.connected:
            self.sender.channel.connect(CONNECT_TIMEOUT_S)
        for item in items:
            if isinstance(item, MediaPacket):
                if not self._ready and not (item.keyframe and self._begun):
                    continue
                self._ready = True
                self.sender.frame(item.data, item.keyframe, self._timestamp(item))
            elif isinstance(item, StreamInfo):
                self.sender.begin(item.codec, item.extradata)
                self._begun, self._ready = True, False
            elif isinstance(item, StreamEnded | PacketsDropped):
                self._ready = False  # the next key frame starts again

    def _timestamp(self, packet: MediaPacket) -> int:
        ticks = (
            round(packet.pts * packet.time_base / RTP_CLOCK)
            if packet.pts is not None
            else round(packet.received_at * 90000)
        )
        return ticks & 0xFFFFFFFF

    def idle(self, now: float) -> None:
        if not self.sender.channel.connected and not self.stopping:
            self.sender.channel.connect(CONNECT_TIMEOUT_S)

    def closed(self, reason: str) -> None:
        self._ended(f"the camera's stream closed ({reason})")

    def failed(self, error: Exception) -> None:
        if isinstance(error, ChannelClosed | UnsupportedCodec):
            log.info("%s: %s", self.subscription.name, error)
        else:
            log.exception("%s failed", self.subscription.name, exc_info=error)
        self._ended(str(error) or type(error).__name__)

    def finished(self) -> None:
        self.sender.channel.close()

    @property
    def started_at(self) -> float | None:
        return self.sender.first_sent_at

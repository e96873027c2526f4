"""One WebRTC viewer: its peer connection, the track it sends, and the watchdog that ends it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from aiortc import RTCPeerConnection, RTCRtpSender

from streams.live.slot import ViewerSlot
from streams.live.track import HubVideoTrack

log = logging.getLogger(__name__)
# aioice logs every candidate-pair check at INFO: noise at one line per check per viewer.
logging.getLogger("aioice").setLevel(logging.WARNING)

# Only H.264 is answered: aiortc sends with the first codec of its answer, and the camera's packets can only
# go out as what they are.
H264_CAPABILITIES = [
    codec
    for codec in RTCRtpSender.getCapabilities("video").codecs
    if codec.mimeType.lower() in ("video/h264", "video/rtx")
]


class PeerTimeouts(Protocol):
    @property
    def idle_timeout_s(self) -> float: ...
    @property
    def connect_timeout_s(self) -> float: ...


class WebRtcViewer:
    """A peer connection and its watchdog: it closes when the peer fails, never connects, or goes silent."""

    def __init__(self, slot: ViewerSlot, pc: RTCPeerConnection, track: HubVideoTrack) -> None:
        self.slot = slot
        self.pc = pc
        self.track = track
        self.watchdog: asyncio.Task[None] | None = None

    async def watch(self, settings: Callable[[], PeerTimeouts], camera_running: Callable[[], bool]) -> None:
        connected_at: float | None = None
        started = time.monotonic()
        while self.pc.connectionState not in ("failed", "closed") and self.track.readyState == "live":
            await asyncio.sleep(0.5)
            if not camera_running():
                log.info("live %s: camera %s was removed or restarted, closing", self.slot.id, self.slot.camera_id)
                return
            now = time.monotonic()
            config = settings()
            if self.pc.connectionState != "connected":
                if connected_at is None and now - started > config.connect_timeout_s:
                    log.info("live %s: peer did not connect within %.0f s", self.slot.id, config.connect_timeout_s)
                    return
                continue
            if connected_at is None:
                connected_at = now
            # Browsers send an RTCP receiver report every second or so; silence means the viewer vanished
            # (tab killed, network gone) without closing, which ICE consent would notice only after 30 s.
            heard = await self._last_report_age()
            silent_for = heard if heard is not None else now - connected_at
            if silent_for > config.idle_timeout_s:
                log.info("live %s: no report from the viewer for %.0f s, closing", self.slot.id, silent_for)
                return

    async def _last_report_age(self) -> float | None:
        ages = []
        for sender in self.pc.getSenders():
            for stats in (await sender.getStats()).values():
                if getattr(stats, "type", None) == "remote-inbound-rtp":
                    ages.append(time.time() - stats.timestamp.timestamp())
        return min(ages) if ages else None

    async def close(self) -> None:
        self.track.stop()
        await self.pc.close()

"""Who watches which camera: viewer slots with caps, and WebRTC peers that forward the camera's packets."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from streams.camera import StreamHandle
from streams.health import HealthSnapshot
from streams.hub import Hub
from streams.live.errors import (
    CameraUnavailable,
    CodecNotForwardable,
    LiveViewError,
    MalformedOffer,
    ViewerLimitReached,
)
from streams.live.ice import gather_on
from streams.live.mjpeg import MjpegFeed, MjpegViewer
from streams.live.offer import check_offer
from streams.live.peer import H264_CAPABILITIES, WebRtcViewer
from streams.live.slot import ViewerInfo, ViewerSlot
from streams.live.track import HubVideoTrack

log = logging.getLogger(__name__)

# Told when a viewer's slot is released, however the view ended (the viewer left, a watchdog, a camera removed,
# shutdown), with the time it ended: the API writes the view's end to the audit log.
ViewEnded = Callable[[ViewerSlot, float], Awaitable[None]]


class _Counted(Protocol):
    packets_sent: int


class CameraStreams(Protocol):
    """Where live view finds a camera's running stream and its health (the supervisor)."""

    def stream(self, camera_id: str) -> StreamHandle | None: ...

    def health(self, camera_id: str) -> HealthSnapshot | None: ...


class LiveLimits(Protocol):
    """The live-view settings read at each decision, so a reloaded configuration applies at once."""

    @property
    def ice_hosts(self) -> Sequence[str]: ...
    @property
    def max_viewers_per_camera(self) -> int: ...
    @property
    def max_viewers_per_user(self) -> int: ...
    @property
    def idle_timeout_s(self) -> float: ...
    @property
    def connect_timeout_s(self) -> float: ...
    @property
    def mjpeg_fps(self) -> float: ...
    @property
    def mjpeg_max_width(self) -> int: ...


class LiveViewers:
    """Every live viewer of the service, WebRTC or fallback, under the per-camera and per-user caps."""

    def __init__(self, streams: CameraStreams, settings: Callable[[], LiveLimits]) -> None:
        self._streams = streams
        self._settings = settings
        self._slots: dict[str, ViewerSlot] = {}
        self._peers: dict[str, WebRtcViewer] = {}
        self._fallbacks: dict[str, _Counted] = {}
        self._mjpeg: dict[str, MjpegFeed] = {}
        self._on_end: dict[str, ViewEnded] = {}
        self._endings: set[asyncio.Task[None]] = set()

    # --- slots (shared by every transport) --------------------------------------------------------

    def _hub_of(self, camera_id: str) -> Hub | None:
        stream = self._streams.stream(camera_id)
        return stream.hub if stream is not None else None

    def hub_for(self, camera_id: str, *, forwarded: bool = True) -> Hub:
        """The camera's hub if it delivers video now, and H.264 where its packets are to be `forwarded`;
        raises CameraUnavailable or CodecNotForwardable saying why not."""
        stream = self._streams.stream(camera_id)
        if stream is None:
            raise CameraUnavailable(f"camera {camera_id!r} is disabled or not running")
        info = stream.hub.info
        if info is None:
            health = self._streams.health(camera_id)
            state = health.state.value if health else "offline"
            reason = f": {health.last_error}" if health and health.last_error else ""
            raise CameraUnavailable(f"camera {camera_id!r} is {state}{reason}")
        if forwarded and info.codec != "h264":
            raise CodecNotForwardable(
                f"camera {camera_id!r} sends {info.codec}, which browsers cannot play as it is;"
                " its live view is live.mjpg"
            )
        return stream.hub

    def reserve(self, camera_id: str, username: str, transport: str) -> ViewerSlot:
        """A slot, or ViewerLimitReached; call from the event loop (the count and the insert are one step)."""
        config = self._settings()
        per_camera = sum(1 for slot in self._slots.values() if slot.camera_id == camera_id)
        if per_camera >= config.max_viewers_per_camera:
            raise ViewerLimitReached(
                f"camera {camera_id!r} already has {per_camera} live viewers"
                f" (the limit is {config.max_viewers_per_camera})"
            )
        per_user = sum(1 for slot in self._slots.values() if slot.username == username)
        if per_user >= config.max_viewers_per_user:
            raise ViewerLimitReached(
                f"you already have {per_user} live views open"
                f" (the limit is {config.max_viewers_per_user}); close one first"
            )
        slot = ViewerSlot(secrets.token_urlsafe(12), camera_id, username, transport)
        self._slots[slot.id] = slot
        return slot

    def release(self, slot: ViewerSlot) -> None:
        self._slots.pop(slot.id, None)
        self._fallbacks.pop(slot.id, None)
        ended = self._on_end.pop(slot.id, None)
        if ended is not None:
            self._end(ended, slot)

    def when_released(self, slot: ViewerSlot, ended: ViewEnded) -> None:
        """Call `ended` once the slot is released (at once if it already is); from the event loop."""
        if slot.id in self._slots:
            self._on_end[slot.id] = ended
        else:
            self._end(ended, slot)

    def _end(self, ended: ViewEnded, slot: ViewerSlot) -> None:
        # Released from synchronous code on the event loop: the callback (a store write) runs as a task, which
        # close_all waits for, so the ends of the views open at shutdown are not lost.
        task = asyncio.ensure_future(_logged(ended(slot, time.time()), slot))
        self._endings.add(task)
        task.add_done_callback(self._endings.discard)

    # --- Motion JPEG: one decoding feed per camera, shared by its viewers ---------------------------------

    def open_mjpeg(self, camera_id: str, username: str) -> tuple[ViewerSlot, MjpegViewer]:
        """A Motion JPEG viewer of the camera, whatever its codec; call from the event loop."""
        hub = self.hub_for(camera_id, forwarded=False)
        slot = self.reserve(camera_id, username, "mjpeg")
        feed = self._mjpeg.get(camera_id)
        if feed is None or not feed.running or feed.hub is not hub:
            settings = self._settings()
            feed = MjpegFeed(hub, f"live:mjpeg:{camera_id}", settings.mjpeg_fps, settings.mjpeg_max_width)
            feed.start()
            self._mjpeg[camera_id] = feed
        viewer = feed.add_viewer(asyncio.get_running_loop())
        self.track_fallback(slot, viewer)
        return slot, viewer

    def close_mjpeg(self, slot: ViewerSlot, viewer: MjpegViewer) -> None:
        feed = viewer.feed
        if feed.remove_viewer(viewer) == 0:
            feed.stop()  # nobody watches: stop decoding
            if self._mjpeg.get(slot.camera_id) is feed:
                del self._mjpeg[slot.camera_id]
        self.release(slot)

    def track_fallback(self, slot: ViewerSlot, feed: _Counted) -> None:
        """Show a fallback viewer's progress in `viewers()` until its slot is released."""
        self._fallbacks[slot.id] = feed

    # --- WebRTC ---------------------------------------------------------------------------------

    async def open_webrtc(self, camera_id: str, username: str, offer: str) -> tuple[ViewerSlot, str]:
        """Answer a WHEP offer: (the viewer's slot, the SDP answer). Raises a LiveViewError subclass."""
        check_offer(offer)
        hub = self.hub_for(camera_id)
        slot = self.reserve(camera_id, username, "webrtc")
        # No STUN or TURN server: the service and its viewers share a network, and nothing is dialled out.
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        track = HubVideoTrack(hub, f"live:webrtc:{slot.id[:6]}")  # no user names in health or metrics
        viewer = WebRtcViewer(slot, pc, track)
        try:
            # The transceiver exists before the offer is applied so that the offer's video section binds to
            # it with H.264 as the only codec: aiortc sends with the first codec of the answer (VP8, were it
            # left in), and the camera's packets can only go out as H.264.
            video = pc.addTransceiver(track, direction="sendonly")
            video.setCodecPreferences(H264_CAPABILITIES)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await gather_on(pc, self._settings().ice_hosts)
            await pc.setLocalDescription(await pc.createAnswer())
        except LiveViewError:
            await viewer.close()
            self.release(slot)
            raise
        except Exception as error:
            await viewer.close()
            self.release(slot)
            log.info("live %s: offer refused by the WebRTC stack: %s", slot.id, error)
            raise MalformedOffer(f"the offer cannot be answered: {error}") from None
        self._peers[slot.id] = viewer
        viewer.watchdog = asyncio.create_task(self._run(viewer), name=f"live-{slot.id}")
        return slot, pc.localDescription.sdp

    async def _run(self, viewer: WebRtcViewer) -> None:
        try:
            await viewer.watch(self._settings, lambda: self._hub_of(viewer.slot.camera_id) is viewer.track.hub)
        except Exception:
            log.exception("live %s: watchdog failed", viewer.slot.id)
        finally:
            self._peers.pop(viewer.slot.id, None)
            self.release(viewer.slot)
            await viewer.close()

    async def close(self, slot_id: str) -> bool:
        """Close a WebRTC viewer (a WHEP DELETE); False if there is none by that id."""
        viewer = self._peers.get(slot_id)
        if viewer is None:
            return False
        if viewer.watchdog is not None:
            viewer.watchdog.cancel()
            await asyncio.gather(viewer.watchdog, return_exceptions=True)
        return True

    async def close_all(self) -> None:
        for slot_id in list(self._peers):
            await self.close(slot_id)
        await asyncio.gather(*self._endings, return_exceptions=True)

    # --- what is open -----------------------------------------------------------------------------

    def slot(self, slot_id: str) -> ViewerSlot | None:
        return self._slots.get(slot_id)

    def viewers(self) -> list[ViewerInfo]:
        infos = []
        for slot in list(self._slots.values()):
            peer = self._peers.get(slot.id)
            feed = self._fallbacks.get(slot.id)
            sent = peer.track.packets_sent if peer else feed.packets_sent if feed else 0
            infos.append(
                ViewerInfo(
                    slot.id,
                    slot.camera_id,
                    slot.username,
                    slot.transport,
                    slot.opened_at,
                    peer.pc.connectionState if peer else "open",
                    sent,
                )
            )
        return infos

    @property
    def peer_connections(self) -> int:
        return len(self._peers)


async def _logged(ending: Awaitable[None], slot: ViewerSlot) -> None:
    try:
        await ending
    except Exception:
        log.exception("live %s: what follows the view's end failed", slot.id)

"""The video sessions an upper platform opens with INVITE (Play, Playback, Download) and closes with BYE.

An INVITE is answered at once with our SDP (the socket for the media is opened for it, so the answer names its
port); the media starts when the ACK comes and stops within a second of the BYE. An answer never ACKed ends the
session after `ack_timeout_s`. A session whose media ends on its own is ended with a BYE from us — except at the
end of a recording, which is told with MediaStatus 121 and left for the platform to close.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from core.config.uplink import Gb28181Config
from core.store.recordings import Segment
from uplink.gb28181 import mansrtsp
from uplink.gb28181.catalog import Catalog
from uplink.gb28181.dialog import Dialog
from uplink.gb28181.identity import Identity
from uplink.gb28181.media.channel import RtpChannel
from uplink.gb28181.media.live import LiveMedia
from uplink.gb28181.media.playback import END_OF_RECORDING, RecordedMedia
from uplink.gb28181.queries import media_status_notify
from uplink.gb28181.sdp import Offer, SdpError, answer, parse_offer
from uplink.gb28181.sip.endpoint import T1, T2, SipEndpoint, SipTimeout
from uplink.gb28181.sip.message import SipRequest, SipResponse, response_to, uri_user
from uplink.gb28181.sip.transport import Address
from uplink.sources import CameraStreams, Recordings

log = logging.getLogger(__name__)

MAX_SESSIONS = 64  # per platform: beyond this an INVITE is answered 486 Busy Here


@dataclass
class MediaSession:
    dialog: Dialog
    offer: Offer
    camera_id: str
    channel_id: str
    ssrc: str
    channel: RtpChannel
    created_at: float = field(default_factory=time.time)
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    media: LiveMedia | RecordedMedia | None = None
    segments: Sequence[Segment] = ()
    watcher: asyncio.Task[None] | None = None

    @property
    def bytes_sent(self) -> int:
        return self.media.sender.bytes_sent if self.media else 0

    @property
    def first_packet_at(self) -> float | None:
        return self.media.sender.first_sent_at if self.media else None

    def stop_media(self) -> None:
        if self.media is not None:
            self.media.stop()
            if self.channel.transport != "udp":
                self.channel.abort()  # a TCP send or accept in progress ends now, not at its time-out
        else:
            self.channel.close()


@dataclass(frozen=True, slots=True)
class SessionStatus:
    call_id: str
    camera_id: str
    channel_id: str
    kind: str
    transport: str
    destination: str
    ssrc: str
    started_at: float
    bytes_sent: int
    acked: bool


class MediaSessions:
    def __init__(
        self,
        gb: Gb28181Config,
        identity: Callable[[], Identity],
        endpoint: SipEndpoint,
        catalog: Callable[[], Catalog],
        streams: CameraStreams,
        recordings: Recordings,
        send_message: Callable[[bytes], Awaitable[SipResponse]],
        next_sn: Callable[[], int],
    ) -> None:
        self._gb = gb
        self._identity = identity
        self._endpoint = endpoint
        self._catalog = catalog
        self._streams = streams
        self._recordings = recordings
        self._send_message = send_message
        self._next_sn = next_sn
        self._sessions: dict[str, MediaSession] = {}
        self.bytes_ended = 0  # media sent by sessions that have ended
        self._ssrc_numbers = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    def statuses(self) -> list[SessionStatus]:
        return [
            SessionStatus(
                s.dialog.call_id,
                s.camera_id,
                s.channel_id,
                s.offer.kind,
                s.offer.transport,
                f"{s.offer.address}:{s.offer.port}",
                s.ssrc,
                s.created_at,
                s.bytes_sent,
                s.acked.is_set(),
            )
            for s in self._sessions.values()
        ]

    def session(self, call_id: str) -> MediaSession | None:
        return self._sessions.get(call_id)

    # --- requests from the platform ----------------------------------------------------------------

    async def invite(self, request: SipRequest, source: Address) -> SipResponse:
        if request.to_tag:
            return response_to(request, 488, "Not Acceptable Here - re-INVITE is not supported")
        content = (request.header("content-type") or "").lower()
        if content.split(";")[0].strip() != "application/sdp":
            return response_to(request, 415)
        channel_id = self._channel(request)
        entry = self._catalog().camera(channel_id)
        if entry is None or entry.camera_id is None:
            return response_to(request, 404, f"Not Found - no camera {channel_id[:20]!r} here")
        try:
            offer = parse_offer(request.body)
        except SdpError as error:
            return _refuse(request, 488, str(error))
        if len(self._sessions) >= MAX_SESSIONS:
            return response_to(request, 486)
        segments: list[Segment] = []
        if offer.kind == "Play":
            if self._streams.stream(entry.camera_id) is None:
                return _refuse(request, 480, "the camera is disabled or not running")
        else:
            segments = await asyncio.to_thread(
                self._recordings.segments, entry.camera_id, float(offer.start), float(offer.stop)
            )
            if not segments:
                return _refuse(request, 404, "nothing was recorded in the range")
        try:
            channel = RtpChannel(offer.transport, self._gb.announced_media_host, (offer.address, offer.port))
        except OSError as error:
            log.error("GB/T 28181 %s: no media socket: %s", self._gb.local_id, error)
            return response_to(request, 500)
        ssrc = offer.ssrc or self._new_ssrc(offer.kind == "Play")
        dialog, tag = Dialog.accept(request, source)
        session = MediaSession(dialog, offer, entry.camera_id, channel_id, ssrc, channel, segments=segments)
        self._sessions[dialog.call_id] = session
        response = response_to(request, 200, to_tag=tag)
        response.headers += [("Contact", self._identity().contact), ("Content-Type", "application/sdp")]
        response.body = answer(offer, channel_id, self._gb.announced_media_host, channel.local_port, ssrc)
        session.watcher = self._spawn(self._await_ack(session, response))
        log.info(
            "GB/T 28181 %s: %s of %s to %s:%s over %s",
            self._gb.local_id,
            offer.kind,
            entry.camera_id,
            offer.address,
            offer.port,
            offer.transport,
        )
        return response

    async def ack(self, request: SipRequest) -> None:
        session = self._sessions.get(request.call_id)
        if session is None or session.acked.is_set():
            return
        session.acked.set()
        loop = asyncio.get_running_loop()

        def ended(reason: str) -> None:
            loop.call_soon_threadsafe(self._media_ended, session, reason)

        name = f"{session.channel_id}-{session.ssrc}"
        ssrc = int(session.ssrc)
        if session.offer.kind == "Play":
            stream = self._streams.stream(session.camera_id)
            if stream is None:
                self._media_ended(session, "the camera stopped")
                return
            session.media = LiveMedia(stream.hub, name, session.channel, ssrc, session.offer.payload_type, ended)
            session.media.start()
        else:
            speed = session.offer.download_speed if session.offer.kind == "Download" else 1.0
            session.media = RecordedMedia(
                self._recordings.directory,
                session.segments,
                float(session.offer.start),
                float(session.offer.stop),
                session.channel,
                ssrc,
                session.offer.payload_type,
                speed,
                ended,
                name,
            )
            session.media.start()

    async def bye(self, request: SipRequest) -> SipResponse:
        session = self._sessions.get(request.call_id)
        if session is None:
            return response_to(request, 481)
        self._end(session)
        log.info(
            "GB/T 28181 %s: %s of %s ended by the platform", self._gb.local_id, session.offer.kind, session.camera_id
        )
        return response_to(request, 200)

    async def info(self, request: SipRequest) -> SipResponse:
        session = self._sessions.get(request.call_id)
        if session is None:
            return response_to(request, 481)
        if not isinstance(session.media, RecordedMedia):
            return _refuse(request, 488, "playback controls apply to Playback and Download")
        try:
            control = mansrtsp.parse(request.body)
        except mansrtsp.MansrtspError as error:
            return _refuse(request, 400, str(error))
        if control.method == "PAUSE":
            session.media.pause()
        elif control.method == "PLAY":
            session.media.play(control.npt, control.scale)
        else:
            self._end(session)
        return response_to(request, 200)

    def cancel(self, request: SipRequest) -> SipResponse:
        # INVITEs are answered at once, so a CANCEL always comes after the final answer: it changes nothing.
        return response_to(request, 200)

    async def close_all(self) -> None:
        """Shutting down: every session ended with a BYE, briefly."""
        sessions = list(self._sessions.values())
        for session in sessions:
            self._end(session)
        await asyncio.gather(*(self._bye(s) for s in sessions if s.acked.is_set()), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for session in sessions:
            if session.media is not None:
                await asyncio.to_thread(session.media.join, 1.0)

    # --- our side ------------------------------------------------------------------------------------

    async def _await_ack(self, session: MediaSession, response: SipResponse) -> None:
        """Send the 2xx again until ACKed (UDP); end the session where no ACK comes in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._gb.ack_timeout_s
        interval = T1
        while not session.acked.is_set():
            wait = min(interval, deadline - loop.time()) if not self._endpoint.reliable else deadline - loop.time()
            if wait <= 0:
                break
            try:
                await asyncio.wait_for(session.acked.wait(), wait)
            except TimeoutError:
                if not self._endpoint.reliable and loop.time() < deadline:
                    await self._endpoint.send(response, session.dialog.peer)
                    interval = min(interval * 2, T2)
        if not session.acked.is_set() and self._sessions.get(session.dialog.call_id) is session:
            log.warning(
                "GB/T 28181 %s: no ACK for the %s of %s; session ended",
                self._gb.local_id,
                session.offer.kind,
                session.camera_id,
            )
            self._end(session)
            await self._bye(session)

    def _media_ended(self, session: MediaSession, reason: str) -> None:
        if self._sessions.get(session.dialog.call_id) is not session:
            return  # ended by the platform meanwhile
        if reason == END_OF_RECORDING:
            self._spawn(self._tell_end(session))
            return
        log.info("GB/T 28181 %s: %s of %s ended: %s", self._gb.local_id, session.offer.kind, session.camera_id, reason)
        self._end(session)
        self._spawn(self._bye(session))

    def _end(self, session: MediaSession) -> None:
        if self._sessions.pop(session.dialog.call_id, None) is session:
            self.bytes_ended += session.bytes_sent
        session.stop_media()
        if session.watcher is not None and session.watcher is not asyncio.current_task():
            session.watcher.cancel()

    async def _tell_end(self, session: MediaSession) -> None:
        try:
            await self._send_message(media_status_notify(self._next_sn(), self._gb, session.channel_id))
        except (SipTimeout, OSError) as error:
            log.info("GB/T 28181 %s: MediaStatus not taken: %s", self._gb.local_id, error)

    async def _bye(self, session: MediaSession) -> None:
        request = session.dialog.request(self._identity(), "BYE")
        try:
            await self._endpoint.request(request, session.dialog.peer, timeout=5.0)
        except (SipTimeout, OSError) as error:
            log.info("GB/T 28181 %s: BYE not answered: %s", self._gb.local_id, error)

    def _channel(self, request: SipRequest) -> str:
        """The camera asked for: the Request-URI's user, else the Subject's first id."""
        channel = uri_user(request.uri)
        subject = request.header("subject") or ""
        if not self._catalog().camera(channel) and subject:
            channel = subject.split(":")[0].strip()
        return channel

    def _new_ssrc(self, live: bool) -> str:
        """`y=`: 0 live or 1 history, the domain's digits 4-8, then a number of our own."""
        return f"{0 if live else 1}{self._gb.local_id[3:8]}{next(self._ssrc_numbers) % 10000:04d}"

    def _spawn(self, coroutine: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _refuse(request: SipRequest, status: int, why: str) -> SipResponse:
    """A refusal that says why: in a Warning (RFC 3261 20.43), which platforms log."""
    response = response_to(request, status)
    response.headers.append(("Warning", f'399 vms "{why.replace(chr(34), chr(39))[:200]}"'))
    return response

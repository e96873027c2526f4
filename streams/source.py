"""One camera connection, read with PyAV in its own thread, demuxed without decoding."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import av
import av.container
from av.video.stream import VideoStream

from core.redaction import redact
from media.mp4.init import init_segment
from media.packet import MediaPacket, StreamInfo
from streams import read_interrupt
from streams.backoff import Backoff
from streams.health import HealthTracker
from streams.hub import Hub
from streams.read_pacing import ReadPacer

log = logging.getLogger(__name__)

_MAX_UNSTAMPED = 250  # packets held while waiting for the camera's clock (10 s at 25 fps)
_STABLE_S = 30.0  # a connection up this long resets the back-off

# How a connection's probe (`avformat_find_stream_info`) reads the camera, beside the transport and timeout.
PROBE_OPTIONS: Mapping[str, str] = {
    "analyzeduration": "2000000",
    "probesize": "2000000",
    # The probe ends once the picture is known instead of reading a second more of frames to estimate
    # the frame rate (the SDP's, or 25, serves: only timestamps of the first unstamped packets use it):
    # a connection is ready in a third of the time, and a worker's cameras restart together sooner.
    "fpsprobesize": "0",
    # Nor does it wait for the first decode timestamp: FFmpeg derives H.264's only once it has decoded
    # 7 frames to guess the decoder's delay (cameras send no B-frames; after the probe it takes the delay
    # the SPS gives). The probe ends with the first key frame: 0.08 s instead of 0.35 s at 25 fps, and 6
    # fewer pictures decoded per connection when a restarted worker dials 48 cameras at once.
    "max_ts_probe": "1",
    # The probe still decodes that key frame: the picture's format and, where a camera sends B-frames,
    # the reorder delay its decode timestamps need come from the decoder. The picture is thrown away, so
    # its deblocking filter is skipped: an eighth of a connection's CPU (18.2 -> 15.9 ms at 1080p, medians of six
    # rounds of 48 dialled at once, docs/performance.md), which counts when a restarted worker's cameras all dial.
    "skip_loop_filter": "all",
    "user_agent": "vms",
}


@dataclass(frozen=True)
class SourceSettings:
    """Everything a source needs, taken from the validated configuration."""

    camera_id: str
    url: str  # never carries credentials: secret query values read `***` (core.config.models.MASK)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    query_secrets: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (name, value as written)
    transport: str = "tcp"
    loop: bool = True  # files only: start again at the end, as a camera never ends
    open_timeout_s: float = 10.0
    watchdog_s: float = 10.0
    backoff_s: tuple[float, ...] = (1, 2, 5, 10, 30)
    # The longest rest between bursts of reading while no consumer needs packets at once (streams/read_pacing.py);
    # 0 reads every frame as it comes. Not over UDP, where a socket buffer overflowing loses packets.
    read_pause_s: float = 0.0

    @property
    def is_file(self) -> bool:
        return urlsplit(self.url).scheme in ("", "file")

    @property
    def secrets(self) -> tuple[str, ...]:
        written = [value for _, value in self.query_secrets]
        return tuple(s for s in (self.password, *written, *map(unquote, written)) if s)

    def open_target(self) -> str:
        """The URL or path handed to FFmpeg, credentials included (never log it)."""
        if self.is_file:
            return urlsplit(self.url).path if self.url.startswith("file:") else self.url
        parts = urlsplit(self.url)
        if self.query_secrets:
            values = dict(self.query_secrets)
            query = "&".join(
                f"{name}={values[name]}" if equals and name in values else parameter
                for parameter in parts.query.split("&")
                for name, equals, _ in [parameter.partition("=")]
            )
            parts = parts._replace(query=query)
        if self.username:
            userinfo = quote(self.username, safe="")
            if self.password:
                userinfo += ":" + quote(self.password, safe="")
            parts = parts._replace(netloc=f"{userinfo}@{parts.netloc}")
        return urlunsplit(parts)


class SourceError(Exception):
    """A camera-side problem, worded for the camera's health and the log."""


class _Stopping(Exception):
    pass


def describe_error(error: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """A short, credential-free account of why a connection failed."""
    if isinstance(error, SourceError):
        text = str(error)
    elif isinstance(error, av.error.HTTPUnauthorizedError):
        text = "authentication failed (401 Unauthorized): check the camera's username and password"
    elif isinstance(error, av.error.HTTPForbiddenError):
        text = "access forbidden (403)"
    elif isinstance(error, av.error.HTTPNotFoundError):
        text = "stream not found (404): check the URL path"
    elif isinstance(error, av.error.ExitError | TimeoutError):
        text = "timed out: the camera accepted the connection but did not answer"
    elif isinstance(error, ConnectionRefusedError):
        text = "connection refused: nothing listens at the camera's address and port"
    elif isinstance(error, av.error.InvalidDataError):
        text = "invalid data: the server did not answer as an RTSP camera"
    elif isinstance(error, av.FFmpegError):
        text = f"{error.strerror or type(error).__name__}"
    elif isinstance(error, OSError):
        text = f"{error.strerror or error}"
    else:
        text = f"{type(error).__name__}: {error}"
    return redact(text, secrets)


class CameraSource:
    """Keeps one camera connected: open, demux, publish to the hub; on failure back off and retry.

    The threads are daemons: a blocked read is aborted on `stop` (or, where reads cannot be interrupted,
    ends at the watchdog), and never holds up the process or another camera.
    """

    def __init__(self, settings: SourceSettings, hub: Hub, health: HealthTracker) -> None:
        self.settings = settings
        self._hub = hub
        self._health = health
        self._stop = threading.Event()
        self._stopping = False
        self._first_packet_at: float | None = None
        self._interrupter: read_interrupt.ReadInterrupter | None = None
        self._armed = threading.Event()  # set while a connection's reads can be cut short (or once stopping)
        self._last_video_at = time.monotonic()  # written by the source thread, read by the watchdog thread
        self._thread = threading.Thread(target=self._run, name=f"source:{settings.camera_id}", daemon=True)
        self._dial_after: threading.Event | None = None

    def start(self, dial_after: threading.Event | None = None) -> None:
        self._dial_after = dial_after
        self._thread.start()  # first: the watchdog runs while this thread is alive
        if not self.settings.is_file:
            threading.Thread(target=self._watch, name=f"watchdog:{self.settings.camera_id}", daemon=True).start()

    def stop(self) -> None:
        self._stopping = True  # read per packet: a plain attribute is cheaper than Event.is_set()
        self._stop.set()
        self._armed.set()
        interrupter = self._interrupter
        if interrupter is not None:
            interrupter.interrupt()  # a read blocked on a silent camera ends now, not at the watchdog

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True if it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    # --- the threads --------------------------------------------------------------------------

    def _watch(self) -> None:
        """Abort a read that waits longer than the watchdog period (the camera went quiet, RTCP or not),
        and, once stopping, every read until the source thread has ended.

        It sleeps until the moment the latest packet's deadline would pass, so while video flows it wakes
        once per watchdog period, not on a fast tick (32 cameras ticking twice a second cost measurable CPU).
        An abort is repeated every half second: one written before PyAV's demux loop starts is overwritten.
        """
        watchdog = self.settings.watchdog_s
        while self._thread.is_alive():
            interrupter = self._interrupter
            if interrupter is None and not self._stopping:
                # Between connections (opening, back-off) there is no read to cut short: wait for one to be armed.
                # Waking every half second instead, 400 cameras in back-off made 800 wake-ups a second, each taking
                # the interpreter lock from the API's requests.
                self._armed.wait(30.0)
                continue
            overdue = time.monotonic() - self._last_video_at - watchdog
            if self._stopping or overdue > 0:
                if interrupter is not None:
                    interrupter.interrupt()
                time.sleep(0.5)  # until the source has torn the connection down
            else:
                self._stop.wait(max(0.1, 0.05 - overdue))

    def _run(self) -> None:
        backoff = Backoff(self.settings.backoff_s)
        session = 0
        try:
            if self._dial_after is not None:
                while not (self._dial_after.wait(0.5) or self._stop.is_set()):
                    pass
            while not self._stop.is_set():
                session += 1
                try:
                    self._attempt(session, backoff)
                except Exception:  # a bug of ours must not end the camera for good
                    log.exception("camera %s: internal error; reconnecting", self.settings.camera_id)
                    self._stop.wait(self.settings.backoff_s[-1])
        finally:
            self._health.stopped()

    def _attempt(self, session: int, backoff: Backoff) -> None:
        """One connection: serve it until it fails, then wait the back-off."""
        settings = self.settings
        self._health.connecting()
        reason = "stopped"
        try:
            self._serve(session)
            reason = "end of stream"
        except _Stopping:
            pass
        except Exception as error:  # a hostile camera may make FFmpeg raise anything
            reason = describe_error(error, settings.secrets)
        finally:
            self._hub.end(session, reason)
        if self._stop.is_set():
            return
        if self._first_packet_at is not None and time.monotonic() - self._first_packet_at >= _STABLE_S:
            backoff.reset()  # a connection that worked for a while earns a quick retry; a flapping one not
        self._first_packet_at = None
        delay = backoff.next_delay()
        self._health.failed(reason, time.time() + delay)
        log.warning("camera %s: %s; retrying in %g s", settings.camera_id, reason, delay)
        self._stop.wait(delay)

    def _serve(self, session: int) -> None:
        settings = self.settings
        opened = time.monotonic()
        try:
            container = self._open()
        except av.error.InvalidDataError:
            if settings.is_file:
                raise SourceError("invalid data: not a video file FFmpeg can read") from None
            # FFmpeg reports a timed-out RTSP handshake as invalid data; the clock tells them apart.
            limit = min(settings.open_timeout_s, settings.watchdog_s)
            if time.monotonic() - opened >= 0.9 * limit:
                raise SourceError(
                    f"timed out: the camera accepted the connection but did not answer within {limit:g} s"
                ) from None
            raise
        try:
            video = container.streams.video[0] if container.streams.video else None
            if video is None:
                kinds = ", ".join(f"{s.type} {s.codec_context.name}" for s in container.streams) or "nothing"
                raise SourceError(f"no video stream: the source sends {kinds}")
            info = self._stream_info(video, session)
            if not (info.width and info.height):
                # FFmpeg's probe ended without a picture size: the camera sent no video while the connection
                # was set up, and its SDP carried no parameter sets. Waiting on this connection has been seen
                # to last until the watchdog; a new one is dialled at once.
                raise SourceError("no picture: the camera sent no video while the connection was set up")
            self._health.connected(info)
            self._hub.begin(info)
            log.info(
                "camera %s: connected, %s %s %dx%d",
                settings.camera_id,
                info.codec,
                info.profile or "",
                info.width,
                info.height,
            )
            # Files are paced and yield video only; a live source also yields what else the camera sends.
            packets = self._paced(container, video) if settings.is_file else container.demux()
            video_index, watchdog = video.index, settings.watchdog_s
            time_base, seconds_per_tick = info.time_base, float(info.time_base)
            rate = info.frame_rate if info.frame_rate and info.frame_rate <= 240 else 25.0  # tbr can be a tick rate
            frame_ticks = max(1, round(1 / (rate * time_base)))
            held: list[MediaPacket] = []
            first = True
            hub_publish, health_packet, clock, monotonic = (
                self._hub.publish,
                self._health.packet,
                time.time,
                time.monotonic,
            )
            new_packet = tuple.__new__  # MediaPacket's own __new__ is a Python frame; this is the same tuple
            if self._stopping:  # a stop during the open found no interrupter to use
                raise _Stopping
            self._last_video_at = monotonic()
            hub = self._hub
            pacer = ReadPacer(
                0.0 if settings.is_file or settings.transport != "tcp" else settings.read_pause_s,
                lambda: hub.tolerated_delay_s,
                self._last_video_at,
            )
            rest_after, rest = pacer.rest_after, self._stop.wait
            try:
                # The loop runs for every packet of every camera: locals only, no calls that can be avoided.
                for packet in packets:
                    if self._stopping:
                        raise _Stopping
                    if packet.stream_index != video_index or not packet.size:
                        # A camera that keeps sending audio or keep-alives but no video counts as stalled.
                        if monotonic() - self._last_video_at > watchdog:
                            raise SourceError(f"no video packet for {watchdog:g} s")
                        continue
                    now = clock()
                    self._last_video_at = read_at = monotonic()
                    dts, keyframe = packet.dts, packet.is_keyframe
                    item: MediaPacket = new_packet(
                        MediaPacket,
                        (
                            session,
                            memoryview(packet).toreadonly(),
                            packet.pts,
                            dts,
                            packet.duration or 0,
                            time_base,
                            keyframe,
                            now,
                        ),
                    )
                    if dts is None and first:
                        # RTSP delivers the first packet(s) before the RTP clock is known: hold them until a
                        # stamped packet arrives and stamp them backwards from it, one frame apart.
                        held.append(item)
                        if len(held) > _MAX_UNSTAMPED:
                            raise SourceError(
                                f"the camera sent {len(held)} packets without timestamps (no RTCP sender report?)"
                            )
                        continue
                    if held and dts is not None:
                        base = dts
                        for back, early in enumerate(held):
                            ts = base - (len(held) - back) * frame_ticks
                            hub_publish(early._replace(pts=ts, dts=ts))
                            health_packet(len(early.data), early.keyframe, early.received_at, ts * seconds_per_tick)
                        held = []
                    hub_publish(item)
                    media_time = None if dts is None else dts * seconds_per_tick
                    health_packet(packet.size, keyframe, now, media_time)
                    if first:
                        self._first_packet_at = read_at
                        first = False
                    if media_time is not None:
                        pause = rest_after(read_at, media_time)
                        if pause and rest(pause):
                            raise _Stopping
            except (av.FFmpegError, OSError) as error:
                interrupter = self._interrupter
                cut_short = interrupter is not None and interrupter.fired
                if not (cut_short or isinstance(error, av.error.ExitError | TimeoutError)):
                    raise
                if self._stopping:
                    raise _Stopping from None
                # The read watchdog cut a read short, or FFmpeg's socket timeout did.
                raise SourceError(f"no video packet for {watchdog:g} s: the camera stopped sending") from None
        finally:
            self._armed.clear()
            self._interrupter = None
            container.close()

    def _open(self) -> av.container.InputContainer:
        settings = self.settings
        if settings.is_file:
            return av.open(settings.open_target(), mode="r")
        options = {
            "rtsp_transport": settings.transport,
            # FFmpeg's socket I/O timeout (microseconds) catches a dead connection. It cannot catch a camera
            # that stopped sending video but still sends RTCP reports: that is the read watchdog's work.
            "timeout": str(int(settings.watchdog_s * 1_000_000)),
            **PROBE_OPTIONS,
        }
        interruptible = read_interrupt.supported()
        # Without a ReadInterrupter, PyAV's read timeout is the watchdog: as correct, but its callback takes the
        # GIL at every socket read, a third of ingest CPU (streams/read_interrupt.py).
        read_timeout = None if interruptible else settings.watchdog_s
        container, interrupter = read_interrupt.open_interruptible(
            lambda: av.open(
                settings.open_target(), mode="r", options=options, timeout=(settings.open_timeout_s, read_timeout)
            )
        )
        if interruptible and interrupter is None:
            # This container's state was not found where the probe found it: use PyAV's own read timeout.
            container.close()
            log.warning("camera %s: read watchdog falls back to PyAV's read timeout", settings.camera_id)
            container = av.open(
                settings.open_target(),
                mode="r",
                options=options,
                timeout=(settings.open_timeout_s, settings.watchdog_s),
            )
        self._last_video_at = time.monotonic()  # before the interrupter: a stale deadline must not abort it
        self._interrupter = interrupter
        if interrupter is not None:
            self._armed.set()
        return container

    @staticmethod
    def _stream_info(video: VideoStream, session: int) -> StreamInfo:
        ctx = video.codec_context
        rate = video.average_rate or video.guessed_rate
        time_base = video.time_base or Fraction(1, 90000)
        return StreamInfo(
            session=session,
            codec=ctx.name,
            profile=ctx.profile,
            width=ctx.width,
            height=ctx.height,
            time_base=time_base,
            extradata=bytes(ctx.extradata) if ctx.extradata else None,
            frame_rate=float(rate) if rate else None,
            started_at=time.time(),
            mp4_init=init_segment(video),
        )

    def _paced(self, container: av.container.InputContainer, video: VideoStream) -> Iterator[av.Packet[Any]]:
        """Packets of a file at their real-time pace, looped with increasing timestamps, as a camera sends."""
        time_base = float(video.time_base or Fraction(1, 90000))
        rate = video.average_rate or video.guessed_rate or 25
        frame_ticks = max(1, round(1 / (float(rate) * time_base)))  # when packets carry no duration
        offset = 0
        started = time.monotonic()
        first_dts: int | None = None
        while True:
            end = offset
            for packet in container.demux(video):
                if packet.dts is None or not packet.size:
                    continue
                if first_dts is None:
                    first_dts = packet.dts
                due = started + (packet.dts + offset - first_dts) * time_base
                delay = due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    raise _Stopping
                end = max(end, packet.dts + offset + (packet.duration or frame_ticks))
                packet.dts += offset
                if packet.pts is not None:
                    packet.pts += offset
                yield packet
            if not self.settings.loop or end == offset:
                return
            offset = end - (first_dts or 0)
            container.seek(0, stream=video)

"""A camera's packets pushed to an upper platform's media server as they are: RTSP (ANNOUNCE/RECORD) or RTMP
(FLV). A hub consumer like the recorder: the camera's one connection feeds it; nothing is decoded or encoded.

Each pusher connects on a key frame, reconnects after a back-off when the server goes away, and starts again on
the next key frame when the camera reconnects or the pusher fell behind. A codec the protocol cannot carry here
(H.265 in FLV: this FFmpeg has no enhanced-RTMP) is refused with that reason, not tried in a loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

import av
import av.container

from core.config import CameraConfig
from core.config.uplink import PlatformConfig, StreamPushConfig
from core.redaction import redact
from media.mp4.init import template_stream
from media.nal import is_length_prefixed, length_prefixed
from media.packet import MediaPacket, StreamInfo
from streams.camera import CameraStream
from streams.hub import Hub
from streams.items import PacketsDropped, StreamEnded, StreamItem
from streams.worker import SubscriptionWorker

log = logging.getLogger(__name__)

QUEUE_PACKETS = 500
# What each protocol carries here, by FFmpeg's codec name.
CARRIES = {"rtsp": {"h264", "hevc"}, "rtmp": {"h264"}}
_FORMAT = {"rtsp": "rtsp", "rtmp": "flv"}

PushState = Literal["waiting", "connecting", "pushing", "failing", "refused", "stopped"]


@dataclass(frozen=True, slots=True)
class PushStatus:
    platform_id: str
    camera_id: str
    url: str  # as shown: no credentials, no stream key
    mode: str
    state: PushState
    since: float
    packets_sent: int
    bytes_sent: int
    connections: int
    last_error: str | None


def target_url(push: StreamPushConfig) -> str:
    """The URL handed to FFmpeg, credentials and stream key included (never log it)."""
    parts = urlsplit(push.url)
    if push.stream_key is not None:
        parts = parts._replace(path=parts.path.rstrip("/") + "/" + quote(push.stream_key.get_secret_value(), safe=""))
    if push.username:
        userinfo = quote(push.username, safe="")
        if push.password:
            userinfo += ":" + quote(push.password.get_secret_value(), safe="")
        parts = parts._replace(netloc=f"{userinfo}@{parts.netloc}")
    return urlunsplit(parts)


def push_secrets(push: StreamPushConfig) -> tuple[str, ...]:
    return tuple(s.get_secret_value() for s in (push.password, push.stream_key) if s is not None)


class StreamPusher(SubscriptionWorker):
    # Packets taken in batches, not a wake-up each (as the recorder does): the media server's own buffering does
    # not notice the tenth of a second.
    pause_s = 0.1

    def __init__(self, hub: Hub, platform_id: str, push: StreamPushConfig) -> None:
        super().__init__(
            hub,
            f"push:{platform_id}",
            capacity=QUEUE_PACKETS,
            thread_name=f"push-{platform_id}-{push.camera}",
            max_delay_s=self.pause_s,
        )
        self.push = push
        self._protocol = push.protocol
        self._secrets = push_secrets(push)
        self._info: StreamInfo | None = None
        self._output: av.container.OutputContainer | None = None
        self._stream: Any = None
        self._length_prefixed = False
        self._origin: int | None = None
        self._retry_at = 0.0
        self._failures = 0
        self._status = PushStatus(platform_id, push.camera, push.url, push.mode, "waiting", time.time(), 0, 0, 0, None)

    def status(self) -> PushStatus:
        return self._status

    def _set(self, state: PushState | None = None, **changes: Any) -> None:
        if state is not None and state != self._status.state:
            changes["since"] = time.time()
            changes["state"] = state
        self._status = replace(self._status, **changes)

    # --- the worker's hooks --------------------------------------------------------------------------

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        for item in items:
            if isinstance(item, MediaPacket):
                self._packet(item)
            elif isinstance(item, StreamInfo):
                self._close()
                self._info = item
                if item.codec not in CARRIES[self._protocol]:
                    reason = f"{item.codec} cannot be pushed over {self._protocol.upper()} here" + (
                        " (FFmpeg puts no H.265 in FLV): push it over RTSP" if self._protocol == "rtmp" else ""
                    )
                    if self._status.last_error != reason:
                        log.error("push %s → %s: %s", self.push.camera, self.push.url, reason)
                    self._set("refused", last_error=reason)
                elif self._status.state == "refused":
                    self._set("waiting", last_error=None)
            elif isinstance(item, StreamEnded | PacketsDropped):
                self._close()  # the next key frame starts the push again
                if self._status.state == "pushing":
                    self._set("waiting")

    def finished(self) -> None:
        self._close()
        self._set("stopped")

    # --- pushing --------------------------------------------------------------------------------------

    def _packet(self, packet: MediaPacket) -> None:
        if self._status.state == "refused" or self._info is None:
            return
        if self._output is None:
            if not packet.keyframe or time.monotonic() < self._retry_at:
                return
            if not self._open(self._info):
                return
            self._origin = packet.dts if packet.dts is not None else packet.pts
        data = packet.data
        if self._length_prefixed_wanted(data):
            parts, _ = length_prefixed(data)
            data = b"".join(parts)
        out = av.Packet(bytes(data))
        origin = self._origin or 0
        out.dts = None if packet.dts is None else packet.dts - origin
        out.pts = None if packet.pts is None else packet.pts - origin
        out.time_base, out.is_keyframe, out.stream = packet.time_base, packet.keyframe, self._stream
        try:
            assert self._output is not None
            self._output.mux(out)
        except (av.FFmpegError, OSError) as error:
            self._fail(error)
            return
        status = self._status
        self._status = replace(status, packets_sent=status.packets_sent + 1, bytes_sent=status.bytes_sent + len(data))

    def _length_prefixed_wanted(self, data: bytes | memoryview) -> bool:
        # The template's parameter sets are an avcC/hvcC record: the muxers then take length-prefixed frames.
        return self._length_prefixed and not is_length_prefixed(self._info.extradata if self._info else None)

    def _open(self, info: StreamInfo) -> bool:
        if info.mp4_init is None:
            self._set("refused", last_error=f"{info.codec}: no codec parameters to announce")
            return False
        self._set("connecting")
        # RTSP's socket time-out (microseconds) ends a handshake or a write to a server that stopped answering.
        options = {"rtsp_transport": "tcp", "timeout": "10000000"} if self._protocol == "rtsp" else {}
        try:
            output = av.open(target_url(self.push), mode="w", format=_FORMAT[self._protocol], options=options)
            with template_stream(info.mp4_init) as template:
                stream = output.add_stream_from_template(template)
            stream.time_base = info.time_base
            self._length_prefixed = bool(stream.codec_context.extradata and stream.codec_context.extradata[0] == 1)
            output.start_encoding()
        except (av.FFmpegError, OSError, ValueError) as error:
            self._fail(error)
            return False
        self._output, self._stream = output, stream
        self._failures = 0
        self._set("pushing", last_error=None, connections=self._status.connections + 1)
        log.info("push %s → %s: pushing", self.push.camera, self.push.url)
        return True

    def _fail(self, error: BaseException) -> None:
        self._close()
        backoff = self.push.backoff_s
        delay = backoff[min(self._failures, len(backoff) - 1)]
        self._failures += 1
        self._retry_at = time.monotonic() + delay
        text = redact(str(error) or type(error).__name__, self._secrets)
        if self._status.last_error != text:
            log.warning("push %s → %s: %s; trying again in %g s", self.push.camera, self.push.url, text, delay)
        self._set("failing", last_error=text)

    def _close(self) -> None:
        output, self._output, self._stream = self._output, None, None
        if output is not None:
            try:
                output.close()
            except (av.FFmpegError, OSError):
                pass


class PushGroup:
    """The always-on pushes of one camera, stopped together (the supervisor's consumer of the camera)."""

    def __init__(self, pushers: list[StreamPusher]) -> None:
        self.pushers = pushers

    def stop(self) -> None:
        for pusher in self.pushers:
            pusher.stop()

    @property
    def running(self) -> bool:
        return any(p.running for p in self.pushers)


class PushFactory:
    """The supervisor's `ConsumerFactory` for the always-on pushes: rebuilt per camera when its pushes change."""

    name = "uplink-push"

    def __init__(self, platforms: Callable[[], Sequence[PlatformConfig]]) -> None:
        self._platforms = platforms
        self._groups: dict[str, PushGroup] = {}

    def _always(self, camera_id: str) -> list[tuple[str, StreamPushConfig]]:
        return [
            (p.id, push)
            for p in self._platforms()
            for push in p.push
            if push.camera == camera_id and push.mode == "always"
        ]

    def key(self, camera: CameraConfig) -> Hashable:
        return tuple((platform_id, push.model_dump_json()) for platform_id, push in self._always(camera.id))

    def attach(self, camera: CameraConfig, stream: CameraStream) -> PushGroup | None:
        pushes = self._always(camera.id)
        if not pushes:
            self._groups.pop(camera.id, None)
            return None
        group = PushGroup([StreamPusher(stream.hub, platform_id, push) for platform_id, push in pushes])
        for pusher in group.pushers:
            pusher.start()
        self._groups[camera.id] = group
        return group

    def statuses(self) -> list[PushStatus]:
        return [p.status() for group in list(self._groups.values()) for p in group.pushers if p.running]

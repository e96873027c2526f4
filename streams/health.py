"""Per-camera health: what state the connection is in and what the stream measures."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from media.packet import StreamInfo


class CameraState(StrEnum):
    CONNECTING = "connecting"  # opening the connection, or waiting for its first packet
    ONLINE = "online"  # packets arrive
    STALLED = "stalled"  # connected, but no packet for `stall_after_s`; the watchdog reconnects later
    OFFLINE = "offline"  # the last attempt failed; waiting for the next one
    STOPPED = "stopped"  # not running (disabled, or being removed)


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    camera_id: str
    state: CameraState
    state_since: float
    fps: float
    bitrate_bps: float
    codec: str | None
    profile: str | None
    width: int | None
    height: int | None
    last_keyframe_at: float | None
    keyframe_interval_s: float | None
    last_packet_at: float | None
    last_packet_age_s: float | None
    connected_at: float | None
    reconnects: int
    packets_total: int
    bytes_total: int
    last_error: str | None
    last_error_at: float | None
    next_attempt_at: float | None


class HealthTracker:
    """Written by the camera's source thread, read by anyone through `snapshot`.

    Rates are measured over the last `window_s` seconds of received packets.
    """

    def __init__(self, camera_id: str, stall_after_s: float, window_s: float = 5.0) -> None:
        self.camera_id = camera_id
        self._stall_after_s = stall_after_s
        self._window_s = window_s
        self._lock = threading.Lock()
        self._state = CameraState.STOPPED
        self._state_since = time.time()
        # Once a second: (arrival time, packets, bytes, camera timestamp in seconds), for rates over the window.
        self._marks: deque[tuple[float, int, int, float | None]] = deque(maxlen=int(window_s) + 2)
        self._next_mark = 0.0
        self._last_media_time: float | None = None
        self._info: StreamInfo | None = None
        self._connected_at: float | None = None
        self._last_packet_at: float | None = None
        self._last_keyframe_at: float | None = None
        self._keyframe_interval_s: float | None = None
        self._last_keyframe_media_time: float | None = None
        self._attempts = 0
        self._packets = 0
        self._bytes = 0
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._next_attempt_at: float | None = None

    def _set_state(self, state: CameraState, now: float) -> None:
        if state is not self._state:
            self._state = state
            self._state_since = now

    def connecting(self) -> None:
        now = time.time()
        with self._lock:
            self._attempts += 1
            self._next_attempt_at = None
            self._info = None
            self._connected_at = None
            self._last_keyframe_media_time = None
            self._last_media_time = None
            self._marks.clear()
            self._next_mark = 0.0
            self._set_state(CameraState.CONNECTING, now)

    def connected(self, info: StreamInfo) -> None:
        with self._lock:
            self._info = info
            self._connected_at = info.started_at

    def packet(self, size: int, keyframe: bool, at: float, media_time: float | None) -> None:
        """Record a packet received at wall-clock `at`, stamped `media_time` seconds by the camera.

        Called for every packet, so it takes the lock only on a change of state: the source thread is
        the only writer, and readers copy the once-a-second marks in one step (atomic under the GIL).
        """
        if self._state is not CameraState.ONLINE:
            with self._lock:  # together, or a reader could see ONLINE with the last session's packet time
                self._last_packet_at = at
                self._set_state(CameraState.ONLINE, at)
        self._packets += 1
        self._bytes += size
        self._last_packet_at = at
        if keyframe:
            previous = self._last_keyframe_media_time
            if previous is not None and media_time is not None and media_time > previous:
                self._keyframe_interval_s = media_time - previous
            self._last_keyframe_at = at
            self._last_keyframe_media_time = media_time
        if media_time is not None:
            self._last_media_time = media_time
        if at >= self._next_mark:  # a cheap comparison per packet; the bookkeeping once a second
            self._marks.append((at, self._packets, self._bytes, self._last_media_time))
            self._next_mark = at + 1.0

    @property
    def last_packet_at(self) -> float | None:
        """When the latest packet arrived (wall clock): a plain read, for a watcher that asks often."""
        return self._last_packet_at

    @property
    def picture_size(self) -> tuple[int, int] | None:
        """The current connection's picture size, once it is known."""
        info = self._info
        return (info.width, info.height) if info is not None and info.width and info.height else None

    def failed(self, error: str, next_attempt_at: float | None) -> None:
        now = time.time()
        with self._lock:
            self._last_error = error
            self._last_error_at = now
            self._next_attempt_at = next_attempt_at
            self._info = None
            self._connected_at = None
            self._set_state(CameraState.OFFLINE, now)

    def stopped(self) -> None:
        with self._lock:
            self._next_attempt_at = None
            self._set_state(CameraState.STOPPED, time.time())

    def _rates(self, now: float) -> tuple[float, float]:
        """Frame and bit rates since the oldest mark of the window, on the camera's clock when it has one.

        Arrival times alone mislead: FFmpeg hands over the packets it buffered while probing the stream
        in one burst right after connecting.
        """
        marks = [m for m in list(self._marks) if m[0] >= now - self._window_s]
        if not marks or self._last_packet_at is None:
            return 0.0, 0.0
        at, packets, size, media = marks[0]
        if media is not None and self._last_media_time is not None and self._last_media_time > media:
            span = self._last_media_time - media
        else:
            span = self._last_packet_at - at
        if span <= 0:
            return 0.0, 0.0
        return (self._packets - packets) / span, (self._bytes - size) * 8 / span

    def snapshot(self, now: float | None = None) -> HealthSnapshot:
        now = time.time() if now is None else now
        with self._lock:
            state, since = self._state, self._state_since
            age = None if self._last_packet_at is None else max(0.0, now - self._last_packet_at)
            if state is CameraState.ONLINE and age is not None and age > self._stall_after_s:
                state, since = CameraState.STALLED, self._last_packet_at + self._stall_after_s  # type: ignore[operator]
            fps = bitrate = 0.0
            if state is CameraState.ONLINE:
                fps, bitrate = self._rates(now)
            info = self._info
            return HealthSnapshot(
                camera_id=self.camera_id,
                state=state,
                state_since=since,
                fps=round(fps, 2),
                bitrate_bps=round(bitrate),
                codec=info.codec if info else None,
                profile=info.profile if info else None,
                width=info.width if info else None,
                height=info.height if info else None,
                last_keyframe_at=self._last_keyframe_at,
                keyframe_interval_s=self._keyframe_interval_s,
                last_packet_at=self._last_packet_at,
                last_packet_age_s=None if age is None else round(age, 3),
                connected_at=self._connected_at,
                reconnects=max(0, self._attempts - 1),
                packets_total=self._packets,
                bytes_total=self._bytes,
                last_error=self._last_error,
                last_error_at=self._last_error_at,
                next_attempt_at=self._next_attempt_at,
            )

"""A camera stream that runs in a worker process, as the service process's readers see it.

`RemoteHub` is a real `Hub`, fed from the worker's forward only while it has subscribers: the first one asks the
worker to forward the stream (from its cached key frame on), the last one leaving stops it. Live view, snapshots,
the Motion JPEG and fMP4 fallbacks, on-demand pushes and GB/T 28181 live media subscribe to it exactly as to a
local hub, and any number of them share one forward. Nothing crosses the processes for a camera nobody watches.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

from media.packet import MediaPacket, StreamInfo
from streams.health import CameraState, HealthSnapshot
from streams.hub import Hub
from streams.items import PacketsDropped, StreamEnded, StreamItem
from streams.subscription import ConsumerStats, OverflowPolicy, Subscription

# watch(seq) asks the worker to forward under that tag; watch(None) to stop.
WatchRequest = Callable[[int | None], None]


class RemoteHub(Hub):
    def __init__(self, camera_id: str, watch: WatchRequest, gop_cache_bytes: int, capacity: int) -> None:
        super().__init__(camera_id, gop_cache_bytes, capacity)
        self._watch = watch
        self._watch_lock = threading.Lock()
        self._seq = 0  # the forward in progress (0: none); items of any other are late and ignored
        self._next_seq = 1
        self._sessions: dict[tuple[int, int], int] = {}  # (forward, the worker's session) → ours
        self._session_count = 0
        self._session: int | None = None  # ours, while a session runs here
        self.reported_info: StreamInfo | None = None  # the worker hub's session, whether or not forwarded
        self.reported_consumers: list[ConsumerStats] = []

    # --- readers ---------------------------------------------------------------------------------------

    def subscribe(
        self,
        name: str,
        capacity: int | None = None,
        policy: OverflowPolicy = OverflowPolicy.DROP,
        max_delay_s: float = 0.0,
    ) -> Subscription:
        subscription = super().subscribe(name, capacity, policy, max_delay_s)
        self._update_watch()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        super().unsubscribe(subscription)
        self._update_watch()

    @property
    def info(self) -> StreamInfo | None:
        forwarded = self._info
        return forwarded if forwarded is not None else self.reported_info

    def consumers(self) -> list[ConsumerStats]:
        """The worker's consumers (the recorder, detectors, and `forward` while watched), then those here."""
        return self.reported_consumers + super().consumers()

    # --- the forward -----------------------------------------------------------------------------------

    def receive(self, seq: int, item: StreamItem) -> None:
        """An item of the worker's forward; called in the link's reading thread."""
        if seq != self._seq:
            return
        if isinstance(item, MediaPacket):
            if self._session is not None:
                self.publish(item._replace(session=self._session))
        elif isinstance(item, StreamInfo):
            self._session = self._local_session(seq, item.session)
            self.begin(dataclasses.replace(item, session=self._session))
        elif isinstance(item, StreamEnded):
            self._end(item.reason)
        elif isinstance(item, PacketsDropped):
            # The forward fell behind and resumes on a key frame: ours waits for it too, as after a new session.
            with self._lock:
                self._awaiting_keyframe = True
        self._update_watch()  # delivering may have detached subscribers

    def worker_lost(self, reason: str) -> None:
        """The worker is gone: the session ends for every reader here; the forward starts again, if still
        wanted, once `rewatch` is called for the worker that replaces it."""
        self._end(reason)
        with self._watch_lock:
            self._seq = 0

    def rewatch(self) -> None:
        """A new worker runs the camera: forward again where someone here still reads (also where one asked
        while no worker ran, and the request went nowhere)."""
        with self._watch_lock:
            self._seq = 0
        self._update_watch()

    def _end(self, reason: str) -> None:
        if self._session is not None:
            self.end(self._session, reason)
            self._session = None

    def _local_session(self, seq: int, session: int) -> int:
        key = (seq, session)
        if key not in self._sessions:
            self._session_count += 1
            self._sessions = {key: self._session_count}  # only the current one is ever looked up again
        return self._sessions[key]

    def _update_watch(self) -> None:
        with self._lock:
            wanted = bool(self._subscribers)
        with self._watch_lock:
            if wanted and self._seq == 0:
                self._seq = self._next_seq
                self._next_seq += 1
                self._watch(self._seq)
            elif not wanted and self._seq != 0:
                self._seq = 0
                self._watch(None)
                self._end("nobody watches")  # forget the cache: the next reader starts from the worker's


class RemoteHealth:
    """A connection's health as its worker last reported it, aged to now (read from the pool at each call)."""

    def __init__(self, read: Callable[[], HealthSnapshot]) -> None:
        self._read = read

    def snapshot(self) -> HealthSnapshot:
        return self._read()


class RemoteStream:
    """The `StreamHandle` of a camera connection that runs in a worker."""

    def __init__(self, hub: RemoteHub, health: RemoteHealth) -> None:
        self.hub = hub
        self.health = health

    def __repr__(self) -> str:
        return f"RemoteStream({self.hub.camera_id!r})"


def aged(snapshot: HealthSnapshot, elapsed_s: float) -> HealthSnapshot:
    """A reported snapshot as of `elapsed_s` later: the age of the last packet grows."""
    if snapshot.last_packet_age_s is None or elapsed_s <= 0:
        return snapshot
    return dataclasses.replace(snapshot, last_packet_age_s=snapshot.last_packet_age_s + elapsed_s)


def starting(camera_id: str, why: str | None = None, since: float | None = None) -> HealthSnapshot:
    """A camera whose worker has not reported it yet (starting), or has gone (`why`)."""
    now = time.time()
    return HealthSnapshot(
        camera_id=camera_id,
        state=CameraState.CONNECTING if why is None else CameraState.OFFLINE,
        state_since=since or now,
        fps=0.0,
        bitrate_bps=0.0,
        codec=None,
        profile=None,
        width=None,
        height=None,
        last_keyframe_at=None,
        keyframe_interval_s=None,
        last_packet_at=None,
        last_packet_age_s=None,
        connected_at=None,
        reconnects=0,
        packets_total=0,
        bytes_total=0,
        last_error=why,
        last_error_at=now if why else None,
        next_attempt_at=None,
    )

"""Per-camera fan-out: one camera connection feeds any number of consumers."""

from __future__ import annotations

import math
import threading
import time

from media.packet import MediaPacket, StreamInfo
from streams.items import StreamEnded
from streams.subscription import ConsumerStats, OverflowPolicy, Subscription


class Hub:
    """Distributes one camera's packets to subscribers, each through its own bounded queue.

    It remembers the current codec parameters and the packets since the latest key frame, so that a new
    subscriber starts decoding at once, on a key frame. Packets of a connection that arrive before its
    first key frame are useless to every consumer and are skipped here.
    """

    def __init__(self, camera_id: str, gop_cache_bytes: int = 8 * 1024 * 1024, default_capacity: int = 500) -> None:
        self.camera_id = camera_id
        self.default_capacity = default_capacity
        self._gop_cache_bytes = gop_cache_bytes
        self._lock = threading.Lock()
        self._subscribers: list[Subscription] = []
        self._info: StreamInfo | None = None
        self._gop: list[MediaPacket] = []
        self._gop_bytes = 0
        self._awaiting_keyframe = True
        self._gop_overflow = False
        self._skipped_before_keyframe = 0
        self._detached_total = 0
        self._retired: list[ConsumerStats] = []
        # The least delay any subscriber allows (inf: none subscribed): how long the source may rest between bursts
        # of reading. Rewritten on every change of subscribers; the source reads it as a plain attribute.
        self.tolerated_delay_s = math.inf

    # --- the source's side --------------------------------------------------------------------

    def begin(self, info: StreamInfo) -> None:
        """A new connection delivers packets with these codec parameters."""
        with self._lock:
            self._info = info
            self._reset_gop()
            self._awaiting_keyframe = True
            self._deliver(info)

    def publish(self, packet: MediaPacket) -> None:
        """Called for every packet: plain attribute work, and consumers reached only when there are some."""
        with self._lock:
            if packet.keyframe:
                self._awaiting_keyframe = False
                self._reset_gop()
                self._gop_overflow = False
            elif self._awaiting_keyframe:
                self._skipped_before_keyframe += 1
                return
            if not self._gop_overflow:
                size = len(packet.data)
                if self._gop_bytes + size <= self._gop_cache_bytes:
                    self._gop.append(packet)
                    self._gop_bytes += size
                else:
                    # A GOP larger than the cache cannot be replayed whole; better none than a start on
                    # a P-frame, until the next key frame.
                    self._reset_gop()
                    self._gop_overflow = True
            if self._subscribers:
                self._deliver(packet)

    def end(self, session: int, reason: str) -> None:
        with self._lock:
            if self._info is None:
                return
            self._info = None
            self._reset_gop()
            self._deliver(StreamEnded(session, reason, time.time()))

    def _reset_gop(self) -> None:
        self._gop = []
        self._gop_bytes = 0

    def _deliver(self, item: StreamInfo | MediaPacket | StreamEnded) -> None:
        gone = [sub for sub in self._subscribers if not sub.offer(item)]
        if gone:
            self._subscribers = [sub for sub in self._subscribers if sub not in gone]
            self._retune()
            detached = [stats for stats in (sub.stats() for sub in gone) if stats.detached]
            self._detached_total += len(detached)
            self._retired = [*self._retired, *detached][-16:]

    # --- the consumers' side ------------------------------------------------------------------

    def subscribe(
        self,
        name: str,
        capacity: int | None = None,
        policy: OverflowPolicy = OverflowPolicy.DROP,
        max_delay_s: float = 0.0,
    ) -> Subscription:
        """A new consumer; it first receives the current StreamInfo and the cached GOP, if any.

        `max_delay_s`: how late the consumer may receive a packet (0: as soon as it arrives, as a viewer needs).
        """
        subscription = Subscription(name, capacity or self.default_capacity, policy, max_delay_s)
        with self._lock:
            if self._info is not None:
                subscription.offer(self._info)
                for packet in self._gop:
                    subscription.offer(packet)
            self._subscribers.append(subscription)
            self._retune()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close("unsubscribed")
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)
                self._retune()

    def _retune(self) -> None:
        self.tolerated_delay_s = min((sub.max_delay_s for sub in self._subscribers), default=math.inf)

    @property
    def info(self) -> StreamInfo | None:
        return self._info

    def latest_keyframe(self) -> tuple[StreamInfo, MediaPacket] | None:
        """The session's parameters and its latest key frame, where the cache holds it; no subscription needed."""
        with self._lock:
            if self._info is None or not self._gop or not self._gop[0].keyframe:
                return None
            return self._info, self._gop[0]

    def consumers(self) -> list[ConsumerStats]:
        """Live consumers, then the most recently detached ones (so health can say who fell behind)."""
        with self._lock:
            live = list(self._subscribers)
            retired = list(self._retired)
        return [sub.stats() for sub in live] + retired

    @property
    def skipped_before_keyframe(self) -> int:
        return self._skipped_before_keyframe

    @property
    def detached_total(self) -> int:
        return self._detached_total

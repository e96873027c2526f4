"""A consumer's bounded view of a camera hub: it may fall behind, but never holds the camera back."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from media.packet import MediaPacket
from streams.items import PacketsDropped, StreamItem


class OverflowPolicy(StrEnum):
    """What happens when a consumer's queue is full."""

    DROP = "drop"  # drop what is queued, resume on the next key frame, tell the consumer how much was lost
    DETACH = "detach"  # stop delivering; the consumer learns it was detached on its next read


class SubscriptionClosed(Exception):
    """Raised by `get` once a subscription is closed or detached and its queue is drained."""


@dataclass(frozen=True, slots=True)
class ConsumerStats:
    name: str
    policy: str
    queued: int
    capacity: int
    delivered: int
    dropped: int
    detached: bool
    closed_reason: str | None


class Subscription:
    """Thread-safe bounded queue fed by the hub's publishing thread, read by one consumer.

    The consumer may be a thread (`get`) or a coroutine (`get_async`); the hub never waits for it.
    """

    def __init__(self, name: str, capacity: int, policy: OverflowPolicy, max_delay_s: float = 0.0) -> None:
        self.name = name
        self.capacity = capacity
        self.policy = policy
        # How late its consumer may be handed a packet after the camera sent it: 0 for a live viewer; a recorder
        # that writes once a fragment closes lets the camera's connection be read in bursts (streams/read_pacing.py).
        self.max_delay_s = max_delay_s
        self._queue: deque[StreamItem] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._sleepers = 0  # threads waiting in `get`: notifying nobody is Python work on every packet
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None
        self._delivered = 0
        self._dropped = 0
        self._pending_drop = 0
        self._closed_reason: str | None = None
        self._detached = False
        self._started = False
        # A consumer that decodes key frames only (the static-scene detectors) is handed nothing else: the other
        # packets would cost it a queue entry and a wake-up each for nothing. Set by the consumer, read per packet.
        self.key_frames_only = False

    # --- publisher side (the hub) -------------------------------------------------------------

    def offer(self, item: StreamItem) -> bool:
        """Queue `item`; returns False once the subscription is closed (the hub then forgets it)."""
        if self.key_frames_only and isinstance(item, MediaPacket) and not item.keyframe:
            return True  # not lost, not wanted: neither delivered nor dropped
        with self._lock:
            if self._closed_reason is not None:
                return False
            if len(self._queue) >= self.capacity:
                if self.policy is OverflowPolicy.DETACH:
                    return self._detach()
                self._drop_queued_packets()
            if isinstance(item, MediaPacket):
                if not self._started:
                    if not item.keyframe:
                        return True  # a consumer's stream starts on a key frame
                    self._started = True
                if self._pending_drop:
                    if not item.keyframe:
                        self._pending_drop += 1
                        self._dropped += 1
                        return True
                    self._queue.append(PacketsDropped(item.session, self._pending_drop, time.time()))
                    self._pending_drop = 0
            self._queue.append(item)
            self._wake()
            return True

    def _detach(self) -> bool:
        self._detached = True
        self._closed_reason = f"detached: queue full ({self.capacity} items)"
        self._wake()
        return False

    def _drop_queued_packets(self) -> None:
        # Earlier drop markers still queued are folded into the next one, so the consumer sees one loss;
        # of the session boundaries only the latest end and the latest start matter to a consumer that
        # missed everything between them (a camera reconnecting all day must not grow the queue).
        latest: dict[type, tuple[int, StreamItem]] = {}
        for position, item in enumerate(self._queue):
            if isinstance(item, MediaPacket):
                self._dropped += 1
                self._pending_drop += 1
            elif isinstance(item, PacketsDropped):
                self._pending_drop += item.count
            else:
                latest[type(item)] = (position, item)
        kept = [item for _, item in sorted(latest.values(), key=lambda entry: entry[0])]
        self._queue = deque(kept)

    def _wake(self) -> None:
        if self._sleepers:
            self._ready.notify()
        if self._waiter is not None:
            loop, future = self._waiter
            self._waiter = None
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:
                pass  # the consumer's event loop is closed: nobody is waiting any more

    # --- consumer side ------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> StreamItem | None:
        """Next item, or None after `timeout` seconds; raises SubscriptionClosed when closed and drained."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._queue:
                if self._closed_reason is not None:
                    raise SubscriptionClosed(self._closed_reason)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._sleepers += 1
                try:
                    self._ready.wait(remaining)
                finally:
                    self._sleepers -= 1
            self._delivered += 1
            return self._queue.popleft()

    def get_all(self, timeout: float | None = None) -> list[StreamItem]:
        """Every queued item, waiting up to `timeout` for the first; [] after the timeout. For consumers that
        need no low latency (the recorder): one wake-up takes many packets."""
        first = self.get(timeout)
        if first is None:
            return []
        with self._lock:
            items = [first, *self._queue]
            self._delivered += len(self._queue)
            self._queue.clear()
        return items

    async def get_async(self) -> StreamItem:
        """Next item, awaiting the publisher thread without blocking the event loop."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._queue:
                    self._delivered += 1
                    return self._queue.popleft()
                if self._closed_reason is not None:
                    raise SubscriptionClosed(self._closed_reason)
                future: asyncio.Future[None] = loop.create_future()
                self._waiter = (loop, future)
            try:
                await future
            finally:
                if not future.done():  # cancelled or timed out: forget the waiter
                    with self._lock:
                        if self._waiter is not None and self._waiter[1] is future:
                            self._waiter = None

    def close(self, reason: str = "closed") -> None:
        with self._lock:
            if self._closed_reason is None:
                self._closed_reason = reason
            self._wake()

    @property
    def closed(self) -> bool:
        return self._closed_reason is not None

    def stats(self) -> ConsumerStats:
        with self._lock:
            return ConsumerStats(
                name=self.name,
                policy=self.policy.value,
                queued=len(self._queue),
                capacity=self.capacity,
                delivered=self._delivered,
                dropped=self._dropped,
                detached=self._detached,
                closed_reason=self._closed_reason,
            )


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)

"""Live violation events for the UI: published from analysis threads, read by event-stream coroutines."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from core.store.violations import ViolationRecord


@dataclass(frozen=True, slots=True)
class FeedItem:
    phase: str  # started | reopened | ended | updated (its clip was cut, or cannot be)
    violation: ViolationRecord


class FeedSink(Protocol):
    """Where violation changes are told as they happen: the live feed, or the link to the process that has it."""

    def publish(self, item: FeedItem) -> None: ...


class ViolationFeed:
    """Fan-out to any number of listeners, each with a bounded queue; a slow listener loses the oldest."""

    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[FeedItem]]] = set()

    def publish(self, item: FeedItem) -> None:
        """Thread-safe; never waits."""
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue in listeners:
            try:
                loop.call_soon_threadsafe(_put, queue, item)
            except RuntimeError:
                pass  # that listener's loop has closed

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[FeedItem]]:
        entry = (asyncio.get_running_loop(), asyncio.Queue[FeedItem](self._capacity))
        with self._lock:
            self._listeners.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._listeners.discard(entry)

    @property
    def listeners(self) -> int:
        return len(self._listeners)


def _put(queue: asyncio.Queue[FeedItem], item: FeedItem) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)

"""A camera's ingest as one unit: its source thread, its fan-out hub and its health."""

from __future__ import annotations

import threading
from typing import Protocol

from streams.health import HealthSnapshot, HealthTracker
from streams.hub import Hub
from streams.source import CameraSource, SourceSettings


class HealthReader(Protocol):
    def snapshot(self) -> HealthSnapshot: ...


class StreamHandle(Protocol):
    """A running camera connection as its readers see it: the hub to subscribe to and the health to read. The
    connection may run in this process (`CameraStream`) or in a worker process, mirrored here while watched."""

    @property
    def hub(self) -> Hub: ...

    @property
    def health(self) -> HealthReader: ...


class CameraStream:
    """Owns one camera connection; consumers subscribe to `hub`, observers read `health`."""

    def __init__(
        self, settings: SourceSettings, stall_after_s: float, gop_cache_bytes: int, queue_packets: int = 500
    ) -> None:
        self.settings = settings
        self.hub = Hub(settings.camera_id, gop_cache_bytes, queue_packets)
        self.health = HealthTracker(settings.camera_id, stall_after_s)
        self._source = CameraSource(settings, self.hub, self.health)

    def __repr__(self) -> str:
        return f"CameraStream({self.settings.camera_id!r})"

    def start(self, dial_after: threading.Event | None = None) -> None:
        """Start the connection's threads; with `dial_after`, the first dial waits until it is set."""
        self._source.start(dial_after)

    def stop(self) -> None:
        self._source.stop()

    def join(self, timeout: float | None = None) -> bool:
        return self._source.join(timeout)

    @property
    def running(self) -> bool:
        return self._source.running

"""What the uplink takes from the service that wires it: the cameras' running streams and the recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from core.store.recordings import Segment
from streams.camera import StreamHandle
from streams.health import HealthSnapshot


class CameraStreams(Protocol):
    """Where the uplink finds a camera's running stream and its health (the supervisor)."""

    def stream(self, camera_id: str) -> StreamHandle | None: ...

    def health(self, camera_id: str) -> HealthSnapshot | None: ...


class Recordings(Protocol):
    """The recordings index and where its files are."""

    def segments(self, camera_id: str, start_ts: float, end_ts: float) -> list[Segment]: ...

    @property
    def directory(self) -> Path: ...

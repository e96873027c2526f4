"""What the service and its API read of the running cameras, wherever their pipelines run: in this process
(`LocalCameras`) or in worker processes (`workers.WorkerPool`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.config import Config
from detectors.pipeline.status import PipelineStatus
from recordings.recorder import RecorderStatus
from service.supervisor import Changes
from streams.camera import StreamHandle
from streams.health import HealthSnapshot
from uplink.push import PushStatus


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    """One worker process, as the supervising process sees it."""

    index: int
    state: str  # starting | running | restarting | stopped
    pid: int | None
    cameras: list[str]
    cpu_percent: float  # of one core, over the last few seconds
    rss_bytes: int
    started_at: float | None
    restarts: int
    last_exit: str | None  # why the previous process ended ("killed by signal 9", "exit status 1")
    last_exit_at: float | None
    next_start_at: float | None  # while restarting: when the next process starts


class MoveRefused(Exception):
    """A camera cannot be moved to that worker; the message says why."""


class CameraRuntime(Protocol):
    async def apply(self, config: Config) -> Changes:
        """Bring the running cameras in line with `config`: only what changed restarts."""

    async def stop(self) -> dict[str, HealthSnapshot]:
        """Stop every camera; each one's last health, for the record."""

    def camera_ids(self) -> list[str]: ...

    def stream(self, camera_id: str) -> StreamHandle | None: ...

    def health(self, camera_id: str) -> HealthSnapshot | None: ...

    def detect_stream(self, camera_id: str) -> StreamHandle | None: ...

    def snapshots(self) -> dict[str, HealthSnapshot]: ...

    def recorder_status(self, camera_id: str) -> RecorderStatus | None: ...

    def detection_status(self, camera_id: str) -> PipelineStatus | None: ...

    def push_statuses(self) -> list[PushStatus]: ...

    def workers(self) -> list[WorkerHealth]:
        """The worker processes; empty where the cameras run in this process."""

    async def move(self, camera_id: str, worker: int) -> None:
        """Run the camera in that worker from now on (MoveRefused says why it cannot)."""

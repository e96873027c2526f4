"""Camera pipelines in this process: the supervisor and the consumers it attaches to every camera (recorder,
detectors, always-on pushes). A worker process runs one of these for its cameras; with `workers.processes: 0`
the service itself does."""

from __future__ import annotations

import asyncio

from core.config import Config
from core.store import Store
from detectors.pipeline.factory import DetectionFactory
from detectors.pipeline.status import PipelineStatus
from detectors.registry import declare_kinds
from detectors.violations.clips import ClipRequester
from detectors.violations.feed import FeedSink
from detectors.violations.recorder import ViolationRecorder
from recordings.recorder import RecorderFactory, RecorderStatus
from service.camera_runtime import MoveRefused, WorkerHealth
from service.supervisor import Changes, Supervisor
from streams.camera import CameraStream
from streams.health import HealthSnapshot
from uplink.push import PushFactory, PushStatus

_FLUSH_ON_APPLY_S = 2.0


class LocalCameras:
    """The `CameraRuntime` of cameras whose pipelines run in this process."""

    def __init__(self, config: Config, store: Store, feed: FeedSink, clips: ClipRequester) -> None:
        self._config = config
        self.recorders = RecorderFactory(config, store.recordings)
        self.detection = DetectionFactory(ViolationRecorder(store.violations, feed, clips=clips))
        # Always-on pushes to upper platforms ride on the camera's one connection, like the recorder.
        self.pushes = PushFactory(lambda: self._config.uplink.platforms)
        # The detectors read a camera's sub-stream where it names a `detect_source`, the rest its main stream.
        self.supervisor = Supervisor(
            config.ingest, consumers=[self.recorders, self.pushes], detect_consumers=[self.detection]
        )

    async def apply(self, config: Config) -> Changes:
        self._config = config
        declare_kinds(config.cameras)  # an operator model's kinds, for the store and the feed
        self.supervisor.reconfigure(config.ingest)
        self.recorders.reconfigure(config)
        changes = await self.supervisor.apply(config.cameras)
        # A camera stopped here (moved to another worker, disabled) has its last changes in the index before the
        # answer, whoever records it next continues from them; a database that refuses writes delays it no more
        # than this (the changes stay queued).
        await asyncio.to_thread(self.recorders.index.flush, _FLUSH_ON_APPLY_S)
        return changes

    async def stop(self) -> dict[str, HealthSnapshot]:
        final = await self.supervisor.stop_all()
        await asyncio.to_thread(self.recorders.close)
        return final

    def camera_ids(self) -> list[str]:
        return self.supervisor.camera_ids()

    def stream(self, camera_id: str) -> CameraStream | None:
        return self.supervisor.stream(camera_id)

    def health(self, camera_id: str) -> HealthSnapshot | None:
        return self.supervisor.health(camera_id)

    def detect_stream(self, camera_id: str) -> CameraStream | None:
        return self.supervisor.detect_stream(camera_id)

    def snapshots(self) -> dict[str, HealthSnapshot]:
        return self.supervisor.snapshots()

    def recorder_status(self, camera_id: str) -> RecorderStatus | None:
        return self.recorders.status(camera_id)

    def detection_status(self, camera_id: str) -> PipelineStatus | None:
        return self.detection.status(camera_id)

    def push_statuses(self) -> list[PushStatus]:
        return self.pushes.statuses()

    def workers(self) -> list[WorkerHealth]:
        return []

    async def move(self, camera_id: str, worker: int) -> None:
        raise MoveRefused("the cameras run in the service process itself (workers.processes: 0)")

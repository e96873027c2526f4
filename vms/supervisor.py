"""Starts, stops and restarts camera pipelines; a change to one camera touches no other."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from streams.camera import CameraStream
from streams.health import HealthSnapshot, HealthTracker
from streams.source import SourceSettings
from vms.config import CameraConfig, IngestConfig

log = logging.getLogger(__name__)


def source_settings(camera: CameraConfig, ingest: IngestConfig) -> SourceSettings:
    src = camera.source
    return SourceSettings(
        camera_id=camera.id,
        url=src.url,
        username=src.username,
        password=src.password.get_secret_value() if src.password else None,
        transport=src.transport or ingest.transport,
        loop=src.loop,
        open_timeout_s=ingest.open_timeout_s,
        watchdog_s=ingest.watchdog_s,
        backoff_s=tuple(ingest.backoff_s),
    )


@dataclass(frozen=True)
class Changes:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # metadata only, stream untouched


@dataclass
class _Pipeline:
    camera: CameraConfig
    stream: CameraStream | None  # None while the camera is disabled
    idle_health: HealthTracker


class Supervisor:
    """Owns every camera's pipeline. Methods are called from the event loop; threads do the I/O."""

    def __init__(self, ingest: IngestConfig, stop_timeout_s: float = 5.0) -> None:
        self._ingest = ingest
        self._stop_timeout_s = stop_timeout_s
        self._pipelines: dict[str, _Pipeline] = {}
        self._lock = asyncio.Lock()

    async def apply(self, cameras: Sequence[CameraConfig]) -> Changes:
        """Bring running pipelines in line with `cameras`: only cameras whose source changed restart."""
        async with self._lock:
            changes = Changes()
            wanted = {cam.id: cam for cam in cameras}
            for camera_id in [cid for cid in self._pipelines if cid not in wanted]:
                await self._stop(self._pipelines.pop(camera_id))
                changes.removed.append(camera_id)
            for camera_id, camera in wanted.items():
                current = self._pipelines.get(camera_id)
                if current is None:
                    self._pipelines[camera_id] = self._start(camera)
                    changes.added.append(camera_id)
                elif self._needs_restart(current.camera, camera):
                    await self._stop(current)
                    self._pipelines[camera_id] = self._start(camera)
                    changes.restarted.append(camera_id)
                elif current.camera != camera:
                    current.camera = camera
                    changes.updated.append(camera_id)
            if any((changes.added, changes.removed, changes.restarted, changes.updated)):
                log.info(
                    "supervisor: added %s, removed %s, restarted %s, updated %s",
                    changes.added, changes.removed, changes.restarted, changes.updated,
                )
            return changes

    def reconfigure(self, ingest: IngestConfig) -> None:
        """New ingest settings; cameras pick them up when they (re)start, so `apply` restarts them."""
        self._ingest = ingest

    async def stop_all(self) -> None:
        async with self._lock:
            pipelines = list(self._pipelines.values())
            self._pipelines.clear()
            for pipeline in pipelines:
                if pipeline.stream is not None:
                    pipeline.stream.stop()
            await asyncio.gather(*(self._stop(p) for p in pipelines))

    def _needs_restart(self, old: CameraConfig, new: CameraConfig) -> bool:
        return old.enabled != new.enabled or source_settings(old, self._ingest) != source_settings(new, self._ingest)

    def _start(self, camera: CameraConfig) -> _Pipeline:
        idle = HealthTracker(camera.id, self._ingest.stall_after_s)
        if not camera.enabled:
            return _Pipeline(camera, None, idle)
        stream = CameraStream(
            source_settings(camera, self._ingest), self._ingest.stall_after_s, self._ingest.gop_cache_bytes
        )
        stream.start()
        return _Pipeline(camera, stream, idle)

    async def _stop(self, pipeline: _Pipeline) -> None:
        if pipeline.stream is None:
            return
        pipeline.stream.stop()
        if not await asyncio.to_thread(pipeline.stream.join, self._stop_timeout_s):
            # Blocked inside FFmpeg on a silent camera: the daemon thread ends at its watchdog timeout.
            log.warning("camera %s: source still winding down; left to finish in the background", pipeline.camera.id)

    # --- read side ----------------------------------------------------------------------------

    def camera_ids(self) -> list[str]:
        return list(self._pipelines)

    def camera(self, camera_id: str) -> CameraConfig | None:
        pipeline = self._pipelines.get(camera_id)
        return pipeline.camera if pipeline else None

    def stream(self, camera_id: str) -> CameraStream | None:
        pipeline = self._pipelines.get(camera_id)
        return pipeline.stream if pipeline else None

    def health(self, camera_id: str) -> HealthSnapshot | None:
        pipeline = self._pipelines.get(camera_id)
        if pipeline is None:
            return None
        tracker = pipeline.stream.health if pipeline.stream else pipeline.idle_health
        return tracker.snapshot()

    def snapshots(self) -> dict[str, HealthSnapshot]:
        return {cid: snap for cid in list(self._pipelines) if (snap := self.health(cid)) is not None}

"""Starts, stops and restarts camera pipelines; a change to one camera touches no other.

A camera is one connection, or two where it names a `detect_source` (its sub-stream): the consumers that
analyse the picture (the detectors) read that one, everything else the main stream. The sub-stream has its own
health and back-off, and a change of it restarts it and its consumers alone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from core.config import CameraConfig, IngestConfig, SourceConfig
from streams.camera import CameraStream
from streams.health import HealthSnapshot, HealthTracker
from streams.source import SourceSettings

log = logging.getLogger(__name__)


DETECT_SUFFIX = ":detect"  # the sub-stream's name in logs and its health: `<camera>:detect` (ids hold no ':')

StreamKey = tuple[SourceSettings, float, int, int]


def source_settings(camera: CameraConfig, ingest: IngestConfig) -> SourceSettings:
    return _settings(camera.id, camera.source, ingest)


def detect_source_settings(camera: CameraConfig, ingest: IngestConfig) -> SourceSettings | None:
    """The sub-stream's connection settings, or None where the camera is analysed on its main stream."""
    if camera.detect_source is None:
        return None
    return _settings(camera.id + DETECT_SUFFIX, camera.detect_source, ingest)


def _settings(name: str, src: SourceConfig, ingest: IngestConfig) -> SourceSettings:
    return SourceSettings(
        camera_id=name,
        url=src.url,
        username=src.username,
        password=src.password.get_secret_value() if src.password else None,
        query_secrets=tuple((name, value.get_secret_value()) for name, value in src.query_secrets.items()),
        transport=src.transport or ingest.transport,
        loop=src.loop,
        open_timeout_s=ingest.open_timeout_s,
        watchdog_s=ingest.watchdog_s,
        backoff_s=tuple(ingest.backoff_s),
        read_pause_s=ingest.read_pause_s,
    )


@dataclass(frozen=True)
class Changes:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # metadata only, stream untouched
    detect_restarted: list[str] = field(default_factory=list)  # the sub-stream and its consumers only


class CameraConsumer(Protocol):
    """Something that runs beside one camera stream for as long as it runs: the recorder, the detectors.

    It reads the stream's hub through its own subscription, in its own thread; `stop` asks it to finish
    and returns at once, `running` says whether it still works.
    """

    def stop(self) -> None: ...

    @property
    def running(self) -> bool: ...


class ConsumerFactory(Protocol):
    """Attaches one kind of consumer to each camera stream the supervisor starts."""

    name: str

    def key(self, camera: CameraConfig) -> Hashable:
        """What of the camera's configuration the consumer is built from: when it changes, the consumer
        alone is rebuilt, the camera connection stays."""

    def attach(self, camera: CameraConfig, stream: CameraStream) -> CameraConsumer | None:
        """Start a consumer of `stream`, or None where this camera needs none."""


class DetectConsumerFactory(Protocol):
    """Attaches a consumer that analyses the picture: it reads the camera's sub-stream where the camera names a
    `detect_source`, else the main stream."""

    name: str

    def key(self, camera: CameraConfig) -> Hashable:
        """As `ConsumerFactory.key`."""

    def attach(
        self, camera: CameraConfig, stream: CameraStream, main: CameraStream | None = None
    ) -> CameraConsumer | None:
        """Start a consumer of `stream`; `main` is the camera's main stream where `stream` is its sub-stream."""


@dataclass
class _Pipeline:
    camera: CameraConfig
    stream: CameraStream | None  # None while the camera is disabled
    tracker: HealthTracker  # the stream's, or an idle one that says "stopped"
    key: StreamKey | None  # what the stream was built from
    consumers: dict[str, tuple[Hashable, CameraConsumer | None]] = field(default_factory=dict)
    detect_stream: CameraStream | None = None  # the sub-stream's connection, where the camera names one
    detect_key: StreamKey | None = None


class Supervisor:
    """Owns every camera's pipeline. Methods are called from the event loop; threads do the I/O."""

    def __init__(
        self,
        ingest: IngestConfig,
        stop_timeout_s: float = 5.0,
        consumers: Sequence[ConsumerFactory] = (),
        detect_consumers: Sequence[DetectConsumerFactory] = (),
    ) -> None:
        self._ingest = ingest
        self._factories = list(consumers)
        self._detect_factories = list(detect_consumers)
        self._stop_timeout_s = stop_timeout_s
        self._pipelines: dict[str, _Pipeline] = {}
        self._lock = asyncio.Lock()

    async def apply(self, cameras: Sequence[CameraConfig]) -> Changes:
        """Bring running pipelines in line with `cameras`: only cameras whose stream settings changed restart."""
        async with self._lock:
            changes = Changes()
            wanted = {cam.id: cam for cam in cameras}
            retiring = []
            for camera_id in [cid for cid in self._pipelines if cid not in wanted]:
                retiring.append(self._pipelines.pop(camera_id))
                changes.removed.append(camera_id)
            for camera_id, camera in wanted.items():
                current = self._pipelines.get(camera_id)
                if current is not None and current.key != self._key(camera):
                    retiring.append(current)
                    changes.restarted.append(camera_id)
                elif current is not None:
                    if current.camera != camera:
                        current.camera = camera
                        changes.updated.append(camera_id)
                    if current.stream is not None and current.detect_key != self._detect_key(camera):
                        # Only the sub-stream changed: recording and live view on the main stream go on.
                        await self._restart_detect(current)
                        changes.detect_restarted.append(camera_id)
                    # Also when only a consumer's own settings changed (e.g. the recording section).
                    await self._refresh_consumers(current)
                    continue
                else:
                    changes.added.append(camera_id)
            await self._stop_all(retiring)  # a restarted camera's old connection ends before the new one opens
            started = [self._build(wanted[camera_id]) for camera_id in changes.added + changes.restarted]
            # Every pipeline is built, and every connection's thread started, before any camera dials: a
            # connected camera's threads take the interpreter lock from the loop starting the next (a restarted
            # worker's 48th camera was built 1.7 s after its first on a busy box, 0.07 s idle; its threads then
            # started up to 0.7 s after the first's), and the cameras dial together.
            dial = threading.Event()
            try:
                for pipeline in started:
                    self._pipelines[pipeline.camera.id] = pipeline
                    self._connect(pipeline, dial)
            finally:
                dial.set()
            if any((changes.added, changes.removed, changes.restarted, changes.updated)):
                log.info(
                    "supervisor: added %s, removed %s, restarted %s, updated %s (detect stream restarted %s)",
                    changes.added,
                    changes.removed,
                    changes.restarted,
                    changes.updated,
                    changes.detect_restarted,
                )
            return changes

    def reconfigure(self, ingest: IngestConfig) -> None:
        """New ingest settings; `apply` then restarts the cameras whose effective settings changed."""
        self._ingest = ingest

    async def stop_all(self) -> dict[str, HealthSnapshot]:
        """Stop every camera; returns each one's last health, for the record."""
        async with self._lock:
            pipelines = list(self._pipelines.values())
            self._pipelines.clear()
            await self._stop_all(pipelines)
            return {p.camera.id: p.tracker.snapshot() for p in pipelines}

    def _key(self, camera: CameraConfig) -> StreamKey | None:
        """The arguments a camera's stream is built from (None while disabled); a change of them needs a restart."""
        if not camera.enabled:
            return None
        return self._stream_key(source_settings(camera, self._ingest))

    def _detect_key(self, camera: CameraConfig) -> StreamKey | None:
        """The same for the camera's sub-stream; None where it has none (or is disabled)."""
        settings = detect_source_settings(camera, self._ingest)
        return self._stream_key(settings) if settings is not None and camera.enabled else None

    def _stream_key(self, settings: SourceSettings) -> StreamKey:
        ingest = self._ingest
        return (settings, ingest.stall_after_s, ingest.gop_cache_bytes, ingest.queue_packets)

    def _build(self, camera: CameraConfig) -> _Pipeline:
        """A camera's streams and consumers, not connected yet (`_connect`)."""
        key = self._key(camera)
        if key is None:
            return _Pipeline(camera, None, HealthTracker(camera.id, self._ingest.stall_after_s), key)
        stream = CameraStream(*key)
        pipeline = _Pipeline(camera, stream, stream.health, key)
        # Consumers subscribe before the first packet, so the recorder misses nothing of the first GOP.
        for factory in self._factories:
            pipeline.consumers[factory.name] = (factory.key(camera), self._attach(factory, camera, stream))
        self._open_detect(pipeline, stream)
        return pipeline

    @staticmethod
    def _connect(pipeline: _Pipeline, dial: threading.Event) -> None:
        for stream in (pipeline.stream, pipeline.detect_stream):
            if stream is not None:
                stream.start(dial)

    def _open_detect(self, pipeline: _Pipeline, main: CameraStream) -> None:
        """The sub-stream, where the camera names one, and the consumers that analyse the picture; the caller
        starts the sub-stream's connection once they subscribed."""
        camera = pipeline.camera
        pipeline.detect_key = self._detect_key(camera)
        detect = CameraStream(*pipeline.detect_key) if pipeline.detect_key is not None else None
        attached = False
        for factory in self._detect_factories:
            consumer = self._attach_detect(factory, camera, detect, main)
            pipeline.consumers[factory.name] = (factory.key(camera), consumer)
            attached = attached or consumer is not None
        # Where nothing analyses the camera's picture (no detector, health analytics off), the sub-stream is not
        # dialled at all: a connection nobody reads is a camera's bandwidth and a licence slot for nothing.
        pipeline.detect_stream = detect if attached else None

    async def _restart_detect(self, pipeline: _Pipeline) -> None:
        """A new sub-stream (or none, or a first one): its connection and its consumers alone restart."""
        assert pipeline.stream is not None
        names = {factory.name for factory in self._detect_factories}
        old = [c for name, (_, c) in pipeline.consumers.items() if name in names and c is not None]
        await self._wait_stopped([pipeline.detect_stream] if pipeline.detect_stream is not None else [], "source")
        await self._wait_stopped(old, "consumer")
        self._open_detect(pipeline, pipeline.stream)
        if pipeline.detect_stream is not None:
            pipeline.detect_stream.start()

    def _attach_detect(
        self, factory: DetectConsumerFactory, camera: CameraConfig, detect: CameraStream | None, main: CameraStream
    ) -> CameraConsumer | None:
        try:
            return factory.attach(camera, detect, main) if detect is not None else factory.attach(camera, main)
        except Exception:
            log.exception("camera %s: %s could not start", camera.id, factory.name)
            return None

    def _attach(self, factory: ConsumerFactory, camera: CameraConfig, stream: CameraStream) -> CameraConsumer | None:
        try:
            return factory.attach(camera, stream)
        except Exception:
            # One consumer that cannot start must not take the camera, or the other consumers, with it.
            log.exception("camera %s: %s could not start", camera.id, factory.name)
            return None

    async def _refresh_consumers(self, pipeline: _Pipeline) -> None:
        """Rebuild the consumers whose part of the configuration changed; the connection stays up."""
        if pipeline.stream is None:
            return
        for factory in self._factories:
            key = factory.key(pipeline.camera)
            old_key, old = pipeline.consumers.get(factory.name, (None, None))
            if old_key == key and factory.name in pipeline.consumers:
                continue
            await self._wait_stopped([old] if old is not None else [], "consumer")
            pipeline.consumers[factory.name] = (key, self._attach(factory, pipeline.camera, pipeline.stream))
        for detect_factory in self._detect_factories:
            key = detect_factory.key(pipeline.camera)
            old_key, old = pipeline.consumers.get(detect_factory.name, (None, None))
            if old_key == key and detect_factory.name in pipeline.consumers:
                continue
            if pipeline.detect_key is not None and pipeline.detect_stream is None:
                await self._restart_detect(pipeline)  # the sub-stream was left closed: dial it now if needed
                return
            await self._wait_stopped([old] if old is not None else [], "consumer")
            consumer = self._attach_detect(detect_factory, pipeline.camera, pipeline.detect_stream, pipeline.stream)
            pipeline.consumers[detect_factory.name] = (key, consumer)

    async def _stop_all(self, pipelines: Sequence[_Pipeline]) -> None:
        # Streams first: their hubs then tell every consumer the stream ended, and the recorder closes
        # its segment on that rather than on an abrupt stop.
        streams = [s for p in pipelines for s in (p.stream, p.detect_stream) if s is not None]
        await self._wait_stopped(streams, "source")
        consumers = [c for p in pipelines for _, c in p.consumers.values() if c is not None]
        await self._wait_stopped(consumers, "consumer")

    async def _wait_stopped(self, workers: Sequence[CameraStream | CameraConsumer], what: str) -> None:
        for worker in workers:
            worker.stop()
        deadline = time.monotonic() + self._stop_timeout_s
        # Poll rather than join in executor threads: dozens of cameras stop at once without a thread each.
        while any(w.running for w in workers) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for worker in workers:
            if worker.running:
                # A source blocked inside FFmpeg on a silent camera ends at its watchdog timeout.
                log.warning("%r: %s still winding down; left to finish in the background", worker, what)

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
        return pipeline.tracker.snapshot() if pipeline else None

    def detect_stream(self, camera_id: str) -> CameraStream | None:
        """The camera's sub-stream connection; None where it is analysed on its main stream (or not running)."""
        pipeline = self._pipelines.get(camera_id)
        return pipeline.detect_stream if pipeline else None

    def detect_health(self, camera_id: str) -> HealthSnapshot | None:
        stream = self.detect_stream(camera_id)
        return stream.health.snapshot() if stream is not None else None

    def snapshots(self) -> dict[str, HealthSnapshot]:
        return {cid: snap for cid in list(self._pipelines) if (snap := self.health(cid)) is not None}

"""The recording side of the service: start-up reconciliation, retention, exports and evidence clips together
(the recorders are consumers of each camera stream, attached where the camera's pipeline runs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from core.config import Config
from core.store import Store
from core.store.recordings import Segment
from recordings.cleanup import RetentionCleaner
from recordings.evidence import EvidenceClips
from recordings.export import Exporter
from recordings.reconcile import reconcile

log = logging.getLogger(__name__)


class RecordingService:
    """Owns what keeps video: the index made whole at start-up, retention, exports, evidence clips."""

    def __init__(self, config: Config, store: Store, clip_settled: Callable[[int], None] = lambda _: None) -> None:
        self._config = config
        self._store = store
        self.cleaner = RetentionCleaner(lambda: self._config, store.recordings, store.exports)
        self.exporter = Exporter(
            store.exports, store.recordings, lambda: self._config.recordings_dir, config.storage.exports_dir
        )
        self.evidence = EvidenceClips(
            store.recordings,
            store.violations,
            lambda: self._config.recordings_dir,
            config.storage.data_dir / "evidence",
            lambda: self._config.retention.keep_after_close_hours * 3600,
            clip_settled,
        )
        self._maintenance: asyncio.Task[None] | None = None

    @property
    def config(self) -> Config:
        return self._config

    @property
    def directory(self) -> Path:
        """Where the recorded segments are (their index paths are relative to it)."""
        return self._config.recordings_dir

    def segments(self, camera_id: str, start_ts: float, end_ts: float) -> list[Segment]:
        """A camera's segments overlapping a range, in time order. Blocking: a store read."""
        return self._store.recordings.segments(camera_id, start_ts, end_ts)

    async def start(self) -> None:
        """Reconcile the index with the disk before any recorder writes, then start the background work."""
        self._config.recordings_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(reconcile, self._store.recordings, self._config.recordings_dir)
        self.exporter.start()
        self.evidence.start()
        self._maintenance = asyncio.create_task(self._maintain(), name="recordings-retention")

    def reconfigure(self, config: Config) -> None:
        self._config = config

    async def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
        self.exporter.stop()
        self.evidence.stop()

    async def _maintain(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.cleaner.run_once)
            except Exception:
                log.exception("retention pass failed; the next one will try again")
            await asyncio.sleep(self._config.retention.cleanup_interval_s)

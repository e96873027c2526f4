"""Writes camera health history to the store: every state change with its cause, and periodic samples."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from core.store.health import HealthEvent, HealthRepository, HealthSample
from streams.health import HealthSnapshot

log = logging.getLogger(__name__)


class HealthHistory:
    """Polls the cameras' health snapshots once a second and writes what changed, in a worker thread."""

    def __init__(
        self,
        repository: HealthRepository,
        snapshots: Callable[[], dict[str, HealthSnapshot]],
        poll_s: float = 1.0,
        sample_every_s: float = 60.0,
        keep_days: float = 30.0,
    ) -> None:
        self._repo = repository
        self._snapshots = snapshots
        self._poll_s = poll_s
        self._sample_every_s = sample_every_s
        self._keep_s = keep_days * 86400
        self._last: dict[str, tuple[str, str | None]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="health-history")

    async def stop(self, final: dict[str, HealthSnapshot]) -> None:
        """Stop polling, recording the cameras' `final` states (the supervisor has stopped them by now)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await asyncio.to_thread(self.flush_events, final)

    def flush_events(self, snapshots: dict[str, HealthSnapshot]) -> None:
        """Record the state changes seen since the previous call."""
        events, seen = [], {}
        for camera_id, snap in snapshots.items():
            key = (snap.state.value, snap.last_error)
            if self._last.get(camera_id) != key:
                detail = snap.last_error if snap.state.value == "offline" else None
                if snap.state.value == "stalled":
                    detail = f"no packet for {snap.last_packet_age_s:.1f} s"
                events.append(HealthEvent(camera_id, snap.state_since, snap.state.value, detail))
                seen[camera_id] = key
        for camera_id in self._last.keys() - snapshots.keys():
            # Gone from the supervisor: removed from the configuration (or the service stops).
            events.append(HealthEvent(camera_id, time.time(), "removed", None))
        self._repo.add_events(events)
        # Only once written, so a failed write is retried on the next poll.
        self._last = {cid: key for cid, key in {**self._last, **seen}.items() if cid in snapshots}

    def record_samples(self, snapshots: dict[str, HealthSnapshot]) -> None:
        now = time.time()
        self._repo.add_samples(
            [
                HealthSample(cid, now, s.state.value, s.fps, s.bitrate_bps, s.reconnects, s.last_packet_age_s)
                for cid, s in snapshots.items()
            ]
        )

    def _poll(self, sample: bool) -> None:
        # Off the event loop: hundreds of cameras' snapshots each second would hold up the API's requests.
        snapshots = self._snapshots()
        self.flush_events(snapshots)
        if sample:
            self.record_samples(snapshots)

    async def _run(self) -> None:
        next_sample = time.monotonic() + self._sample_every_s
        next_prune = time.monotonic()
        while True:
            try:
                sample = time.monotonic() >= next_sample
                if sample:
                    next_sample += self._sample_every_s
                await asyncio.to_thread(self._poll, sample)
                if time.monotonic() >= next_prune:
                    next_prune += 3600
                    await asyncio.to_thread(self._repo.prune, time.time() - self._keep_s)
            except Exception:  # the store may be briefly unavailable (disk full); keep ingest unaffected
                log.exception("health history: write failed; will retry")
            await asyncio.sleep(self._poll_s)

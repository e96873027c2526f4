"""Retention: video goes by age, by the recordings volume's cap, and by the free-disk floor.

Video a hold references (a violation's evidence) stays whatever the rule. Each pass deletes in small batches
from a worker thread, and the recorders never wait for it: they write new files while old ones go.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Config
from core.store.exports import ExportRepository
from core.store.recordings import RecordingRepository, Segment

log = logging.getLogger(__name__)

_BATCH = 200


@dataclass
class CleanupReport:
    at: float
    deleted: int = 0
    freed_bytes: int = 0
    recordings_bytes: int = 0
    free_bytes: int = 0
    warnings: list[str] = field(default_factory=list)


class RetentionCleaner:
    """One pass at a time, called by the service's maintenance loop."""

    def __init__(
        self, config: Callable[[], Config], recordings: RecordingRepository, exports: ExportRepository
    ) -> None:
        self._config = config
        self._recordings = recordings
        self._exports = exports
        self.last: CleanupReport | None = None

    def run_once(self, now: float | None = None) -> CleanupReport:
        now = time.time() if now is None else now
        config = self._config()
        directory = config.recordings_dir
        report = CleanupReport(now)
        cameras = {camera.id: camera for camera in config.cameras}

        for camera_id in self._recordings.camera_ids():
            camera = cameras.get(camera_id)
            hours = config.retention_hours(camera) if camera else config.retention.default_hours
            horizon = now - hours * 3600
            while batch := self._recordings.expired(camera_id, horizon, now, _BATCH):
                self._delete(directory, batch, report)
            self._recordings.prune_gaps(camera_id, horizon)

        cap = config.retention.max_size
        if cap is not None:
            self._delete_oldest_while(
                lambda: self._recordings.total_bytes() - int(cap),
                directory,
                now,
                report,
                lambda excess: f"recordings are {excess} bytes over the cap of {int(cap)} and all that is left is held",
            )
        floor = int(config.retention.min_free)
        self._delete_oldest_while(
            lambda: floor - (_free_bytes(directory) or floor),
            directory,
            now,
            report,
            lambda lack: f"free disk is {lack} bytes under the floor of {floor} and no video may be deleted",
        )

        self._recordings.prune_holds(now)
        self._expire_exports(config, now)
        report.recordings_bytes = self._recordings.total_bytes()
        report.free_bytes = _free_bytes(directory) or 0
        for warning in report.warnings:
            log.warning("retention: %s", warning)
        if report.deleted:
            log.info("retention: deleted %d segment(s), %d bytes", report.deleted, report.freed_bytes)
        self.last = report
        return report

    def _delete_oldest_while(
        self,
        excess: Callable[[], int],
        directory: Path,
        now: float,
        report: CleanupReport,
        warning: Callable[[int], str],
    ) -> None:
        """Delete the oldest deletable segments while `excess()` bytes are too many (cap) or missing (floor)."""
        while (over := excess()) > 0:
            batch = self._oldest_until(over, now)
            if not batch:
                report.warnings.append(warning(over))
                return
            self._delete(directory, batch, report)

    def _oldest_until(self, excess: int, now: float) -> list[Segment]:
        """The oldest deletable segments whose sizes add up to `excess`, at most a batch."""
        chosen, total = [], 0
        for segment in self._recordings.oldest(now, _BATCH):
            chosen.append(segment)
            total += segment.size_bytes
            if total >= excess:
                break
        return chosen

    def _delete(self, directory: Path, segments: list[Segment], report: CleanupReport) -> None:
        # The file goes first: a crash in between leaves a row without a file, which reconciliation removes;
        # the other order would leave a file that reconciliation indexes again.
        for segment in segments:
            path = directory / segment.path
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            _remove_past_day(path.parent, report.at)
            report.freed_bytes += segment.size_bytes
        self._recordings.delete_segments([s.id for s in segments])
        report.deleted += len(segments)

    def _expire_exports(self, config: Config, now: float) -> None:
        for export in self._exports.finished_before(now - config.recording.export_keep_hours * 3600):
            if export.file_name:
                (config.storage.exports_dir / export.file_name).unlink(missing_ok=True)
            self._exports.delete(export.id)


def _free_bytes(directory: Path) -> int | None:
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return None


def _remove_past_day(day: Path, now: float) -> None:
    """Remove an emptied day folder of a past day; today's stays, a recorder may be about to write in it."""
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    if day.name < today:
        try:
            day.rmdir()
        except OSError:
            pass

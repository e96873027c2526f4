"""Start-up reconciliation of the recordings index with the files on disk.

After a kill -9 or a power cut: the segment that was being written is cut back to its last complete fragment,
closed and indexed; files without rows are indexed; rows without files are removed and their span becomes a
gap; a camera whose recording was cut off gets a gap from its last video to now, closed when recording
resumes. Everything fixed is logged.
"""

from __future__ import annotations

import glob
import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from core.store.recordings import NewSegment, RecordingRepository
from media.mp4.file import Contents, read_contents, truncate_incomplete
from media.segment_path import parse_segment_path

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    closed: list[str] = field(default_factory=list)  # open segments closed
    indexed: list[str] = field(default_factory=list)  # files without rows, now indexed
    missing: list[str] = field(default_factory=list)  # rows without files, removed
    discarded: list[str] = field(default_factory=list)  # files holding no video, deleted


def reconcile(
    repository: RecordingRepository,
    directory: Path,
    cameras: Collection[str] | None = None,
    cause: str = "service was not running",
) -> ReconcileReport:
    """The whole index at start-up; or only `cameras` (their worker process died while the others record on),
    their gaps saying `cause`. Every fix commits in one transaction: after a kill the other workers' index writers
    wait for one write lock, not a hundred, and the dead worker's cameras are handed to the spare sooner."""
    with repository.together():
        report = _reconcile(repository, directory, cameras, cause)
    for kind, paths in (
        ("closed after an interruption", report.closed),
        ("indexed from disk", report.indexed),
        ("removed from the index, file missing", report.missing),
        ("deleted, no video in them", report.discarded),
    ):
        if paths:
            log.warning("recordings: %d segment(s) %s: %s", len(paths), kind, ", ".join(paths[:5]))
    return report


def _reconcile(
    repository: RecordingRepository, directory: Path, cameras: Collection[str] | None, cause: str
) -> ReconcileReport:
    report = ReconcileReport()
    mine = (lambda camera_id: True) if cameras is None else set(cameras).__contains__
    for segment in repository.open_segments():
        if not mine(segment.camera_id):
            continue
        path = directory / segment.path
        existed = path.exists()
        found = _examine(path)
        if found is None:
            repository.delete_segments([segment.id])
            _unlink(path)
            (report.discarded if existed else report.missing).append(segment.path)
            continue
        size, init_size, contents = found
        repository.update_segment(
            segment.id, segment.start_ts + contents.duration_s, size, contents.keyframes, init_size, closed=True
        )
        report.closed.append(segment.path)

    known = repository.all_paths()
    for relative, segment_id in known.items():
        if not mine(relative.split("/", 1)[0]):
            continue
        if not (directory / relative).exists():
            missing = repository.segment(segment_id)
            repository.delete_segments([segment_id])
            if missing is not None:
                repository.open_gap(missing.camera_id, missing.start_ts, "segment file missing")
                repository.close_gap(missing.camera_id, missing.end_ts)
            report.missing.append(relative)

    if directory.is_dir():
        patterns = ["*/*/*.mp4"] if cameras is None else [f"{glob.escape(c)}/*/*.mp4" for c in sorted(cameras)]
        for path in sorted(p for pattern in patterns for p in directory.glob(pattern)):
            relative = path.relative_to(directory).as_posix()
            if relative in known:
                continue
            parsed = parse_segment_path(relative)
            if parsed is None:
                log.warning("recordings: %s is not a segment of ours; left alone", relative)
                continue
            found = _examine(path)
            if found is None:
                _unlink(path)
                report.discarded.append(relative)
                continue
            size, init_size, contents = found
            camera_id, start_ts = parsed
            params = "file:" + hashlib.sha256(contents.extradata).hexdigest()[:11]
            repository.add_closed_segment(
                NewSegment(
                    camera_id, relative, start_ts, init_size, contents.codec, contents.width, contents.height, params
                ),
                start_ts + contents.duration_s,
                size,
                contents.keyframes,
            )
            report.indexed.append(relative)

    # Cut off without a word (kill -9, power): the gap runs from the last video until recording resumes.
    for camera_id in repository.camera_ids():
        last = repository.last_end(camera_id) if mine(camera_id) else None
        if last is not None:
            repository.open_gap(camera_id, last, cause)
    return report


def _examine(path: Path) -> tuple[int, int, Contents] | None:
    """(size, init size, contents) of a segment after cutting off a torn tail; None if it holds no video."""
    if not path.exists():
        return None
    layout = truncate_incomplete(path)
    if layout is None or layout.fragments == 0:
        return None
    contents = read_contents(path)
    if contents is None:
        return None
    return layout.file_size, layout.init_size, contents


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass

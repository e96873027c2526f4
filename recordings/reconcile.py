"""Reconciliation of the recordings index with the files on disk, at start-up and after a worker died.

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
    before: float | None = None,
) -> ReconcileReport:
    """The whole index at start-up; or only `cameras` (their worker process died while the others record on),
    their gaps saying `cause`.

    With `before` (the moment the worker died) only segments that started before it are touched, so the dead
    worker's cameras may already record again in a new one meanwhile: the files are read and cut back first,
    without holding the database, and every fix then commits in one short transaction (the other workers' index
    writers wait for one write lock, not a hundred). A gap then runs from the last video before `before` and ends
    where the first new segment starts, if one already did (else the recorder ends it when it does)."""
    found = _survey(repository, directory, cameras, before)
    with repository.together():
        _fix(repository, found, cameras, cause, before)
    for path in found.unlink:
        _unlink(path)
    report = found.report
    for kind, paths in (
        ("closed after an interruption", report.closed),
        ("indexed from disk", report.indexed),
        ("removed from the index, file missing", report.missing),
        ("deleted, no video in them", report.discarded),
    ):
        if paths:
            log.warning("recordings: %d segment(s) %s: %s", len(paths), kind, ", ".join(paths[:5]))
    return report


@dataclass
class _Found:
    """What `_survey` found on disk, for `_fix` to write."""

    report: ReconcileReport = field(default_factory=ReconcileReport)
    closes: list[tuple[int, float, int, tuple[float, ...], int]] = field(default_factory=list)  # id, end, size, ...
    deletes: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)  # rows whose file is gone: a gap "segment file missing" each
    orphans: list[tuple[NewSegment, float, int, tuple[float, ...]]] = field(default_factory=list)
    unlink: list[Path] = field(default_factory=list)


def _survey(
    repository: RecordingRepository, directory: Path, cameras: Collection[str] | None, before: float | None
) -> _Found:
    found = _Found()
    report = found.report
    mine = (lambda camera_id: True) if cameras is None else set(cameras).__contains__
    earlier = (lambda start_ts: True) if before is None else (lambda start_ts: start_ts < before)
    for segment in repository.open_segments():
        if not (mine(segment.camera_id) and earlier(segment.start_ts)):
            continue
        path = directory / segment.path
        existed = path.exists()
        examined = _examine(path)
        if examined is None:
            found.deletes.append(segment.id)
            found.unlink.append(path)
            (report.discarded if existed else report.missing).append(segment.path)
            continue
        size, init_size, contents = examined
        found.closes.append((segment.id, segment.start_ts + contents.duration_s, size, contents.keyframes, init_size))
        report.closed.append(segment.path)

    known = repository.all_paths()
    deleted = set(found.deletes)
    for relative, segment_id in known.items():
        if not mine(relative.split("/", 1)[0]) or segment_id in deleted:
            continue
        if before is not None and (parsed := parse_segment_path(relative)) is not None and not earlier(parsed[1]):
            continue  # a camera's new segment, begun since its worker died
        if not (directory / relative).exists():
            found.missing.append(segment_id)
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
            camera_id, start_ts = parsed
            if not earlier(start_ts):
                continue  # a new segment of a camera that records again, its row on its way
            examined = _examine(path)
            if examined is None:
                found.unlink.append(path)
                report.discarded.append(relative)
                continue
            size, init_size, contents = examined
            params = "file:" + hashlib.sha256(contents.extradata).hexdigest()[:11]
            new = NewSegment(
                camera_id, relative, start_ts, init_size, contents.codec, contents.width, contents.height, params
            )
            found.orphans.append((new, start_ts + contents.duration_s, size, contents.keyframes))
            report.indexed.append(relative)
    return found


def _fix(
    repository: RecordingRepository,
    found: _Found,
    cameras: Collection[str] | None,
    cause: str,
    before: float | None,
) -> None:
    for segment_id, end_ts, size, keyframes, init_size in found.closes:
        repository.update_segment(segment_id, end_ts, size, keyframes, init_size, closed=True)
    if found.deletes:
        repository.delete_segments(found.deletes)
    for segment_id in found.missing:
        missing = repository.segment(segment_id)
        if missing is None:
            continue
        repository.delete_segments([segment_id])
        repository.open_gap(missing.camera_id, missing.start_ts, "segment file missing")
        repository.close_gap(missing.camera_id, missing.end_ts)
    for new, end_ts, size, keyframes in found.orphans:
        repository.add_closed_segment(new, end_ts, size, keyframes)

    # Cut off without a word (kill -9, power): the gap runs from the last video until recording resumes.
    for camera_id in repository.camera_ids() if cameras is None else cameras:
        last = repository.last_end(camera_id, before)
        if last is None:
            continue
        repository.open_gap(camera_id, last, cause)
        resumed = repository.first_start(camera_id, since=before) if before is not None else None
        if resumed is not None:
            repository.close_gap(camera_id, resumed)


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

"""Clip export: the packets of a time range copied from its segments into one MP4, without re-encoding.

The clip starts on the key frame at or before the requested start (a clip cannot start between key frames
without decoding) and ends at the requested end. Recorded video on both sides of a gap follows back to back,
so the clip's timestamps never jump. The same cut serves violation evidence.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from core.store.exports import Export, ExportRepository
from core.store.recordings import RecordingRepository, Segment

log = logging.getLogger(__name__)


class ExportError(Exception):
    """The range cannot be cut; the message says why, for the user."""


def _time_base(stream: av.video.stream.VideoStream) -> Fraction:
    if stream.time_base is None:
        raise ExportError("a recorded segment has no time base")
    return stream.time_base


@dataclass(frozen=True, slots=True)
class Clip:
    clip_start: float  # UTC time of the clip's first frame (a key frame)
    duration_s: float
    size_bytes: int
    packets: int


def cut_clip(
    directory: Path,
    segments: Sequence[Segment],
    start_ts: float,
    end_ts: float,
    destination: Path,
    progress: Callable[[float], None] | None = None,
) -> Clip:
    """Copy [start_ts, end_ts) of `segments` (time-ordered, overlapping the range) into `destination`."""
    segments = [s for s in segments if s.end_ts > start_ts and s.start_ts < end_ts]
    if not segments:
        raise ExportError("no video was recorded in this range")
    shapes = {(s.codec, s.width, s.height) for s in segments}
    # An MP4 has one set of parameter sets: a camera re-configured in between (same size, other SPS) would
    # decode wrongly after the change. Segments indexed from disk after a crash carry no comparable digest.
    params = {s.params for s in segments if not s.params.startswith("file:")}
    if len(shapes) > 1 or len(params) > 1:
        raise ExportError("the camera's codec settings changed within this range; export the parts separately")
    total = sum(max(s.size_bytes - s.init_size, 1) for s in segments)
    done_bytes = 0
    clip_start = max(start_ts, segments[0].start_ts)
    clip_start = segments[0].keyframe_at_or_before(clip_start)
    partial = destination.with_name(destination.name + ".partial")
    destination.parent.mkdir(parents=True, exist_ok=True)
    packets = 0
    out_end = 0  # end of the last packet written, in the output time base
    last_report = 0.0
    output = av.open(str(partial), "w", format="mp4", container_options={"movflags": "+faststart"})
    try:
        out_stream = None
        for segment in segments:
            with av.open(str(directory / segment.path)) as source:
                stream = source.streams.video[0]
                tb = _time_base(stream)
                if out_stream is None:
                    out_stream = output.add_stream_from_template(stream)
                    out_stream.time_base = tb
                out_tb = _time_base(out_stream)
                first_ts = None
                offset = None  # output dts of this segment's first copied packet, minus its own dts
                for packet in source.demux(stream):
                    if packet.dts is None or packet.size == 0:
                        continue
                    pts = packet.pts if packet.pts is not None else packet.dts
                    if first_ts is None:
                        first_ts = pts
                    at = segment.start_ts + float((pts - first_ts) * tb)
                    if at < clip_start - 1e-3 and packets == 0:
                        continue
                    if packets == 0 and not packet.is_keyframe:
                        continue
                    if at >= end_ts:
                        break
                    dts_out = int(packet.dts * tb / out_tb)
                    if offset is None:
                        offset = out_end - dts_out
                    duration = int((packet.duration or 0) * tb / out_tb)
                    packet.dts = dts_out + offset
                    packet.pts = int(pts * tb / out_tb) + offset
                    packet.duration = duration
                    packet.time_base = out_tb
                    packet.stream = out_stream
                    out_end = max(out_end, packet.pts + max(duration, 1))
                    output.mux_one(packet)
                    packets += 1
                    done_bytes += packet.size
                    if progress is not None and time.monotonic() - last_report > 0.5:
                        last_report = time.monotonic()
                        progress(min(done_bytes / total, 0.99))
        if packets == 0:
            raise ExportError("no video was recorded in this range")
        output.close()
    except BaseException:
        output.close()
        partial.unlink(missing_ok=True)
        raise
    partial.rename(destination)
    assert out_stream is not None  # a packet was copied
    return Clip(clip_start, float(out_end * _time_base(out_stream)), destination.stat().st_size, packets)


class Exporter:
    """Runs export jobs one after another in a worker thread; jobs survive a restart (they run again)."""

    def __init__(
        self,
        exports: ExportRepository,
        recordings: RecordingRepository,
        recordings_dir: Callable[[], Path],
        exports_dir: Path,
    ) -> None:
        self._exports = exports
        self._recordings = recordings
        self._recordings_dir = recordings_dir
        self.directory = exports_dir
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="exporter", daemon=True)

    def start(self) -> None:
        for export in self._exports.unfinished():
            self._queue.put(export.id)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)

    def submit(self, export: Export) -> None:
        self._queue.put(export.id)

    def _run(self) -> None:
        while (export_id := self._queue.get()) is not None:
            export = self._exports.get(export_id)
            if export is None or export.state not in ("queued", "running"):
                continue
            self._exports.running(export_id)
            name = f"{export.camera_id}_{time.strftime('%Y%m%d-%H%M%S', time.gmtime(export.start_ts))}_{export_id}.mp4"
            try:
                segments = self._recordings.segments(export.camera_id, export.start_ts, export.end_ts)
                clip = cut_clip(
                    self._recordings_dir(),
                    segments,
                    export.start_ts,
                    export.end_ts,
                    self.directory / name,
                    progress=functools.partial(self._exports.progress, export_id),
                )
            except ExportError as error:
                self._exports.failed(export_id, str(error))
            except Exception as error:
                log.exception("export %s failed", export_id)
                self._exports.failed(export_id, f"export failed: {type(error).__name__}")
            else:
                self._exports.done(export_id, name, clip.clip_start, clip.duration_s, clip.size_bytes)
                log.info("export %s: %s, %.1f s, %d bytes", export_id, name, clip.duration_s, clip.size_bytes)

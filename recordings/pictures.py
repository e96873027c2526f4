"""Recorded video as pictures: the playback of cameras whose codec browsers cannot play (H.265).

Browsers play recorded H.264 through Media Source Extensions straight from the segment files; H.265 they mostly
cannot. For those cameras, playback decodes the segments from the key frame at or before the chosen moment and
encodes JPEG pictures, a few per second of video, each with the wall-clock time it shows.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av

from core.store.recordings import Segment
from media.jpeg import encode_jpeg


@dataclass(frozen=True, slots=True)
class RecordedPicture:
    at: float  # the wall-clock time the picture shows
    jpeg: bytes


def recorded_pictures(
    directory: Path,
    segments: Sequence[Segment],
    start_ts: float,
    fps: float,
    max_width: int,
) -> Generator[RecordedPicture]:
    """Pictures of `segments` (in time order) from `start_ts` on, `fps` per second of video at most; gaps
    between segments are skipped. Blocking: iterate it in a worker thread."""
    interval = 1.0 / fps
    due = start_ts
    for segment in segments:
        if segment.end_ts <= start_ts:
            continue
        path = directory / segment.path
        try:
            container = av.open(str(path))
        except (av.FFmpegError, OSError):
            continue  # deleted by retention meanwhile, or torn: the next one plays
        with container:
            stream = container.streams.video[0]
            seconds = float(stream.time_base or 0)
            offset = start_ts - segment.start_ts
            if offset > 0:
                # Segment timestamps start at zero: seek to the key frame at or before the offset.
                container.seek(int(offset / seconds), stream=stream, backward=True, any_frame=False)
            try:
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    at = segment.start_ts + frame.pts * seconds
                    if at < due:
                        continue
                    due = at + interval
                    yield RecordedPicture(at, encode_jpeg(frame, max_width, quality=5))
            except av.FFmpegError:
                continue  # a torn tail ends this segment's pictures, not the playback

"""Playback: an HLS playlist over a range's segments, and the timeline of recorded spans."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from core.store.recordings import Segment

CONTIGUOUS_S = 1.0  # segments closer than this play as one span


def hls_playlist(segments: Sequence[Segment], start_ts: float) -> str:
    """HLS version 7 with fMP4 segments. Each segment file carries its own initialisation section and its
    timestamps start at zero, so each is preceded by a discontinuity; program dates give the wall clock."""
    duration = max((s.duration_s for s in segments), default=1.0)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(duration))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    first = segments[0]
    offset = first.keyframe_at_or_before(max(start_ts, first.start_ts)) - first.start_ts
    if offset > 0:
        lines.append(f"#EXT-X-START:TIME-OFFSET={offset:.3f},PRECISE=YES")
    for index, segment in enumerate(segments):
        if index:
            lines.append("#EXT-X-DISCONTINUITY")
        when = dt.datetime.fromtimestamp(segment.start_ts, dt.UTC).isoformat(timespec="milliseconds")
        lines += [
            f'#EXT-X-MAP:URI="segments/{segment.id}/init.mp4"',
            f"#EXT-X-PROGRAM-DATE-TIME:{when.replace('+00:00', 'Z')}",
            f"#EXTINF:{segment.duration_s:.3f},",
            f"segments/{segment.id}/media.m4s",
        ]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def recorded_spans(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """Time-ordered segments merged into the spans a timeline draws."""
    spans: list[tuple[float, float]] = []
    for segment in segments:
        if spans and segment.start_ts - spans[-1][1] <= CONTIGUOUS_S:
            spans[-1] = (spans[-1][0], max(spans[-1][1], segment.end_ts))
        else:
            spans.append((segment.start_ts, segment.end_ts))
    return spans

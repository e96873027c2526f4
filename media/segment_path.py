"""Where segment files live: `<camera>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSS.mmmZ>.mp4` under the recordings directory.

Times are UTC, so names sort in time order and never repeat across a change to daylight-saving or local
time. The start time in the name lets reconciliation index a file that has no row.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePosixPath

_NAME = re.compile(r"^(\d{8}T\d{6})\.(\d{3})Z\.mp4$")


def segment_path(camera_id: str, start_ts: float) -> str:
    """The path of a segment starting at `start_ts`, relative to the recordings directory."""
    when = dt.datetime.fromtimestamp(start_ts, dt.UTC)
    millis = int((start_ts - int(start_ts)) * 1000)
    name = f"{when:%Y%m%dT%H%M%S}.{millis:03d}Z.mp4"
    return f"{camera_id}/{when:%Y-%m-%d}/{name}"


def parse_segment_path(path: str) -> tuple[str, float] | None:
    """(camera id, start time) of a relative segment path, or None if it is not one of ours."""
    parts = PurePosixPath(path).parts
    if len(parts) != 3:
        return None
    match = _NAME.match(parts[2])
    if match is None:
        return None
    when = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
    return parts[0], when.timestamp() + int(match.group(2)) / 1000

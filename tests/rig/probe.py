"""What Debian's ffprobe and ffmpeg make of a file or URL: decodable, how long, timestamps without jumps."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class VideoCheck:
    codec: str
    frames_decoded: int
    packets: int
    duration_s: float  # from the first packet's pts to the end of the last
    largest_step_s: float  # the largest pts step between consecutive packets
    errors: str  # what the decoder complained about ('' when it decoded cleanly)


def check_video(source: str, headers: str | None = None) -> VideoCheck:
    """Demux every packet with ffprobe and decode every frame with ffmpeg, both strict about errors."""
    http = ["-headers", headers] if headers else []
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            *http,
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name:packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
            source,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    lines = [line.split(",") for line in probe.stdout.split() if line]
    # The stream's line is its codec alone; a packet's is "pts,duration", "N/A,0.04" for a packet without a pts.
    codec = next(fields[0] for fields in lines if len(fields) == 1 and not _number(fields[0]))
    stamps = [
        (float(f[0]), float(f[1]) if len(f) > 1 and _number(f[1]) else 0.0)
        for f in lines
        if len(f) >= 1 and _number(f[0])
    ]
    pts = sorted(p for p, _ in stamps)
    steps = [b - a for a, b in pairwise(pts)]
    last_duration = stamps[-1][1] if stamps else 0.0
    # ffprobe decodes every frame through the demuxer alone: the ffmpeg command line would re-time or drop
    # frames at a playlist's discontinuities, which is not what a player does.
    decode = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            *http,
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            source,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    counts = [line.strip().rstrip(",") for line in decode.stdout.splitlines() if line.strip()]
    frames = int(counts[-1]) if counts and counts[-1].isdigit() else 0
    return VideoCheck(
        codec=codec,
        frames_decoded=frames,
        packets=len(pts),
        duration_s=(pts[-1] - pts[0] + (last_duration or (steps[-1] if steps else 0))) if pts else 0.0,
        largest_step_s=max(steps, default=0.0),
        errors=decode.stderr.strip() if decode.returncode == 0 else f"exit {decode.returncode}: {decode.stderr}",
    )


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

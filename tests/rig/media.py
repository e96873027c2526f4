"""Test-clip generation with Debian's ffmpeg.

Clips are cached under ``tests/.media`` (git-ignored); a sidecar ``<clip>.json``
records the encode parameters so a clip is only re-encoded when they change.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import av
import numpy as np

FFMPEG = "/usr/bin/ffmpeg"

Codec = Literal["h264", "hevc"]


def clip_cache_dir() -> Path:
    """Return (creating it) the shared clip cache folder ``tests/.media``."""
    d = Path(__file__).resolve().parent.parent / ".media"
    d.mkdir(parents=True, exist_ok=True)
    return d


def h264_camera_args(gop: int, profile: str = "main") -> list[str]:
    """ffmpeg's encoder arguments for H.264 as cameras send it: no B-frames, a fixed closed GOP of `gop` frames."""
    return [
        "-c:v",
        "libx264",
        "-profile:v",
        profile,
        "-preset",
        "veryfast",
        "-bf",
        "0",
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-x264-params",
        "open-gop=0",
    ]


def make_clip(
    path: str | Path,
    *,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    seconds: float = 10,
    codec: Codec = "h264",
    profile: str = "main",
    gop_seconds: float = 2,
    bitrate: str = "800k",
    pattern: str = "testsrc2",
) -> Path:
    """Encode a camera-like MP4 (no B-frames, closed GOP, CBR-ish, no audio).

    Returns ``path``. Does nothing if ``path`` exists and its sidecar JSON holds
    the same parameters.
    """
    out = Path(path)
    params = {
        "width": width,
        "height": height,
        "fps": fps,
        "seconds": seconds,
        "codec": codec,
        "profile": profile,
        "gop_seconds": gop_seconds,
        "bitrate": bitrate,
        "pattern": pattern,
        "v": 1,
    }
    sidecar = out.with_name(out.name + ".json")
    if out.exists() and sidecar.exists():
        try:
            if json.loads(sidecar.read_text()) == params:
                return out
        except ValueError:
            pass
    out.parent.mkdir(parents=True, exist_ok=True)
    gop = max(1, round(fps * gop_seconds))
    # Temporal noise keeps P-frames from being near-empty, so the real bitrate
    # approaches the target like a real sensor's would.
    src = f"{pattern}=size={width}x{height}:rate={fps},noise=alls=12:allf=t+u"
    vcodec: list[str]
    if codec == "h264":
        vcodec = h264_camera_args(gop, profile)
    elif codec == "hevc":
        vcodec = [
            "-c:v",
            "libx265",
            "-profile:v",
            profile,
            "-preset",
            "veryfast",
            "-x265-params",
            f"bframes=0:keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error",
            # hvc1 keeps VPS/SPS/PPS out of band (in codec_data), like avc1.
            "-tag:v",
            "hvc1",
        ]
    else:
        raise ValueError(f"unsupported codec {codec!r}")
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp.mp4")  # two test runs may build the same clip
    cmd = [
        FFMPEG,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        src,
        "-t",
        str(seconds),
        *vcodec,
        "-pix_fmt",
        "yuv420p",
        "-b:v",
        bitrate,
        "-maxrate",
        bitrate,
        "-bufsize",
        bitrate,
        "-an",
        "-movflags",
        "+faststart",
        str(tmp),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed ({res.returncode}): {res.stderr.strip()}")
    tmp.replace(out)
    sidecar.write_text(json.dumps(params))
    return out


def encode_pictures(path: Path, pictures: Iterable[np.ndarray], fps: int) -> Path:
    """BGR pictures encoded as a camera would send them (H.264, no B-frames, 2 s GOP) into `path`, unless it is
    there already (the caller names it by its recipe); written aside and renamed, so a half-written clip is never
    taken for a cached one."""
    if path.exists():
        return path
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": str(2 * fps), "bf": "0", "preset": "veryfast", "crf": "23"}
        for n, picture in enumerate(pictures):
            if n == 0:  # the clip takes the pictures' size
                stream.height, stream.width = picture.shape[:2]
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    partial.rename(path)
    return path

"""Embedded defaults: a demo organisation whose cameras play clips generated on first start.

This is what `vms run` uses without a configuration file, so a newcomer sees the service work at once.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType

from core.config import Config
from service.configuration import parse_config

log = logging.getLogger(__name__)

# (camera id, name, institution, role, lavfi pattern)
_DEMO_CAMERAS = [
    ("hl-jly-gate", "大门", "hl-jly", "gate", "testsrc2"),
    ("hl-jly-duty", "值班室（消防控制室）", "hl-jly", "duty_room", "smptehdbars"),
    # A still picture: a zooming fractal would look like a camera turned away to the tamper detectors.
    ("hl-jly-exit-1", "一楼疏散通道", "hl-jly", "evacuation_route", "rgbtestsrc"),
    ("ny-jly-kitchen", "厨房烹饪区", "ny-jly", "kitchen", "testsrc"),
]
_SIZE, _FPS, _SECONDS = (640, 360), 25, 12


def make_demo_clip(path: Path, pattern: str) -> None:
    """Encode a short H.264 Main-profile clip without B-frames, as an IP camera would send."""
    width, height = _SIZE
    joiner = ":" if "=" in pattern else "="
    spec = f"{pattern}{joiner}size={width}x{height}:rate={_FPS}"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part.mp4")
    with av.open(spec, format="lavfi") as source, av.open(str(partial), "w") as out:
        stream = out.add_stream("libx264", rate=_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, _FPS)
        stream.options = {"profile": "main", "bf": "0", "g": str(2 * _FPS), "preset": "veryfast", "crf": "28"}
        for index, frame in enumerate(source.decode(video=0)):
            if index >= _FPS * _SECONDS:
                break
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, _FPS)
            frame.pict_type = PictureType.NONE  # lavfi marks every frame I; x264 would obey and emit no P-frames
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    partial.replace(path)


def demo_config(data_dir: Path) -> Config:
    """The embedded default configuration, generating its demo clips under `data_dir/demo` if missing."""
    clips = data_dir / "demo"
    cameras = []
    for camera_id, name, institution, role, pattern in _DEMO_CAMERAS:
        clip = clips / f"{camera_id}-{pattern}.mp4"
        if not clip.exists():
            log.info("demo: generating %s", clip)
            make_demo_clip(clip, pattern)
        cameras.append(
            {
                "id": camera_id,
                "name": name,
                "institution": institution,
                "role": role,
                "source": {"url": str(clip.resolve())},
            }
        )
    return parse_config(
        {
            "storage": {"data_dir": str(data_dir)},
            "organisation": {
                "id": "qd-mzj",
                "name": "启东市民政局",
                "towns": [
                    {"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院"}]},
                    {"id": "ny", "name": "南阳镇", "institutions": [{"id": "ny-jly", "name": "南阳镇中心敬老院"}]},
                ],
            },
            "cameras": cameras,
        },
        "<embedded defaults>",
    )

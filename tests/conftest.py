"""Shared fixtures: generated camera-like clips, the GStreamer RTSP test server, a running vms."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import RtspServer
from tests.running_service import RunningService


@pytest.fixture(scope="session")
def clip_h264() -> Path:
    """640x360 25 fps H.264 Main, 2 s GOP, no B-frames, 10 s."""
    return make_clip(clip_cache_dir() / "h264-640x360.mp4")


@pytest.fixture(scope="session")
def clip_hevc() -> Path:
    return make_clip(clip_cache_dir() / "hevc-640x360.mp4", codec="hevc")


@pytest.fixture(scope="session")
def clip_with_b_frames() -> Path:
    """320x240 25 fps H.264 High with two B-frames between references, 1 s GOP, 4 s: cameras send none, but a
    source and the writer must carry them where one does."""
    path = clip_cache_dir() / "high-bframes-320x240.mp4"
    if not path.exists():
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=25",
                "-t",
                "4",
                "-c:v",
                "libx264",
                "-profile:v",
                "high",
                "-bf",
                "2",
                "-g",
                "25",
                "-pix_fmt",
                "yuv420p",
                str(path),
            ],
            check=True,
        )
    return path


@pytest.fixture
def rtsp(clip_h264: Path, clip_hevc: Path) -> Iterator[RtspServer]:
    """A camera server with several mounts, as a small institution would have."""
    mounts = [
        {"path": "/gate", "clip": str(clip_h264)},
        {"path": "/duty", "clip": str(clip_h264)},
        {"path": "/exit", "clip": str(clip_h264), "inband_params": True},
        {"path": "/kitchen-hevc", "clip": str(clip_hevc)},
        {"path": "/secure", "clip": str(clip_h264), "auth": {"user": "admin", "password": "Cam#Secret9"}},
        {"path": "/audio", "kind": "audio"},
    ]
    with RtspServer(mounts) as server:
        yield server


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator:
    started: list[RunningService] = []

    def start(config: dict) -> RunningService:
        service = RunningService(tmp_path, config)
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


ORGANISATION = {
    "id": "qd",
    "name": "启东市民政局",
    "towns": [
        {"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院"}]},
        {"id": "ny", "name": "南阳镇", "institutions": [{"id": "ny-jly", "name": "南阳镇中心敬老院"}]},
    ],
}

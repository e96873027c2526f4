"""Cameras pushed to an upper platform's media server, not re-encoded: over RTMP into a real `ffmpeg -listen`
receiver (which goes away and comes back), over RTSP (ANNOUNCE/RECORD) into the GStreamer server's RECORD mount on
demand; H.265 over RTMP refused with its reason. ffprobe checks what arrived."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.conftest import ORGANISATION
from tests.rig.probe import check_video
from tests.rig.rtsp import RtspServer, free_port
from tests.running_service import RunningService

pytestmark = pytest.mark.rtsp

STREAM_KEY = "sk-3f9a-secret"


class RtmpReceiver:
    """`ffmpeg -listen 1`: takes one RTMP publisher and writes what it sends, as it is, to an MPEG-TS file."""

    def __init__(self, port: int, output: Path) -> None:
        self.output = output
        self._proc = subprocess.Popen(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-analyzeduration",
                "500000",
                "-listen",
                "1",
                "-i",
                f"rtmp://127.0.0.1:{port}/live/{STREAM_KEY}",
                "-c",
                "copy",
                "-f",
                "mpegts",
                "-y",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        self._proc.send_signal(signal.SIGINT)  # ffmpeg finishes its file
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@pytest.fixture
def cameras(clip_h264: Path, clip_hevc: Path, tmp_path: Path) -> Iterator[RtspServer]:
    mounts = [
        {"path": "/gate", "clip": str(clip_h264)},
        {"path": "/kitchen", "clip": str(clip_hevc)},
        {"path": "/ingest", "kind": "record", "file": str(tmp_path / "recorded.ts")},
    ]
    with RtspServer(mounts) as server:
        yield server


def _platform(client, platform_id: str = "nantong") -> dict:  # type: ignore[no-untyped-def]
    return next(p for p in client.get("/api/uplink/platforms").json() if p["id"] == platform_id)


def _push(client, camera_id: str) -> dict:  # type: ignore[no-untyped-def]
    return next(p for p in _platform(client)["pushes"] if p["camera_id"] == camera_id)


def _wait(condition, timeout: float = 30.0, what: str = ""):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"never: {what}")


def test_pushed_over_rtmp_and_rtsp_without_re_encoding(cameras: RtspServer, tmp_path: Path) -> None:
    rtmp_port = free_port()
    config = {
        "organisation": ORGANISATION,
        "cameras": [
            {
                "id": "gate",
                "name": "大门",
                "institution": "hl-jly",
                "role": "gate",
                "source": {"url": cameras.url("/gate")},
            },
            {
                "id": "kitchen",
                "name": "厨房",
                "institution": "hl-jly",
                "role": "kitchen",
                "source": {"url": cameras.url("/kitchen")},
            },
        ],
        "uplink": {
            "platforms": [
                {
                    "id": "nantong",
                    "name": "南通市民政养老服务平台",
                    "push": [
                        {
                            "camera": "gate",
                            "url": f"rtmp://127.0.0.1:{rtmp_port}/live",
                            "stream_key": STREAM_KEY,
                            "backoff_s": [0.5, 1],
                        },
                        {"camera": "kitchen", "url": f"rtmp://127.0.0.1:{rtmp_port}/live", "stream_key": STREAM_KEY},
                        {"camera": "gate", "url": cameras.url("/ingest"), "mode": "on_demand"},
                    ],
                }
            ]
        },
    }
    receiver = RtmpReceiver(rtmp_port, tmp_path / "rtmp-1.ts")
    service = RunningService(tmp_path, config)
    service.start()
    try:
        with service.client() as client:
            pushing = _wait(
                lambda: (p := _push(client, "gate"))["state"] == "pushing" and p["packets_sent"] > 50 and p,
                what="the gate pushed over RTMP",
            )
            assert STREAM_KEY not in client.get("/api/uplink/platforms").text
            metrics = client.get("/metrics").text
            assert 'vms_uplink_push_up{camera="gate",mode="always",platform="nantong"} 1.0' in metrics, metrics
            assert pushing["url"] == f"rtmp://127.0.0.1:{rtmp_port}/live" and pushing["mode"] == "always"
            refused = _wait(
                lambda: (p := _push(client, "kitchen"))["state"] == "refused" and p, what="H.265 over RTMP refused"
            )
            assert "hevc cannot be pushed over RTMP" in refused["last_error"] and "RTSP" in refused["last_error"]

            # The platform's server goes away and comes back: the push follows it.
            time.sleep(2)
            receiver.stop()
            _wait(lambda: _push(client, "gate")["state"] in ("failing", "connecting"), what="the push noticed")
            receiver = RtmpReceiver(rtmp_port, tmp_path / "rtmp-2.ts")
            _wait(
                lambda: (p := _push(client, "gate"))["state"] == "pushing" and p["connections"] >= 2,
                what="pushing again",
            )

            # On demand, over RTSP into a RECORD mount.
            assert client.post("/api/uplink/platforms/nantong/pushes/gate").json()["mode"] == "on_demand"
            _wait(
                lambda: (
                    sum(p["camera_id"] == "gate" and p["state"] == "pushing" for p in _platform(client)["pushes"]) == 2
                ),
                what="the on-demand push",
            )
            time.sleep(3)
            assert client.delete("/api/uplink/platforms/nantong/pushes/gate").status_code == 204
            assert client.delete("/api/uplink/platforms/nantong/pushes/gate").status_code == 404
            assert client.post("/api/uplink/platforms/nantong/pushes/kitchen").status_code == 409  # always on
        time.sleep(2)
    finally:
        receiver.stop()
        service.stop()
    assert STREAM_KEY not in service.log()
    for name in ("rtmp-1.ts", "recorded.ts"):
        check = check_video(str(tmp_path / name))
        with av.open(str(tmp_path / name)) as container:
            size = (container.streams.video[0].codec_context.width, container.streams.video[0].codec_context.height)
        assert check.codec == "h264" and size == (640, 360), (name, check, size)
        assert check.errors == "" and check.frames_decoded >= 25, (name, check)

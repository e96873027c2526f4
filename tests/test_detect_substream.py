"""End to end: a camera with a main 1920x1080 stream and a D1 sub-stream (704x576, the 16:9 scene squeezed, as
many NVR sub-streams are) of the same corridor. The running service detects the blocked route on the sub-stream,
records the main stream at its own resolution, keeps recording while the sub-stream stalls (detection then says
it sees no video, and no video loss is raised), shows both connections' health, and a reload that changes only
the detect source reconnects the sub-stream alone. Video loss stays the main stream's."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from core.config import IngestConfig, SourceConfig
from service.supervisor import Supervisor
from tests.conftest import ORGANISATION
from tests.rig.media import clip_cache_dir
from tests.rig.rtsp import RtspServer
from tests.rig.scenes import FLOOR_ZONE, Scene, Thing, encode, people
from tests.running_service import RunningService
from tests.test_supervisor import CounterFactory, PacketCounter, cameras, wait_online

pytestmark = pytest.mark.rtsp

# The route is clear for 15 s, then a box stays on it; the clip loops after 60 s. The clip starts when the service
# first dials the sub-stream, and analysis on a loaded box may begin seconds later: it must still learn the route
# clear (learn_s 2), or it would take the box for part of the floor.
BLOCKED = Scene("route_blocked_at_15s", seconds=60, walkers=people(60, every=8), things=(Thing(15, 60),))
MAIN, SUB = (1920, 1080), (704, 576)


def _scaled(source: Path, size: tuple[int, int]) -> Path:
    """The same scene at another size, as a camera's other stream: real ffmpeg, 1 s GOP, no B-frames (cached)."""
    out = source.with_name(f"{source.stem}-{size[0]}x{size[1]}.mp4")
    if out.exists() and out.stat().st_mtime >= source.stat().st_mtime:
        return out
    partial = out.with_suffix(".partial.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-vf", f"scale={size[0]}:{size[1]},setsar=1", "-an"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-g", "10", "-keyint_min", "10"]
        + ["-sc_threshold", "0", "-pix_fmt", "yuv420p", str(partial)],
        check=True,
        timeout=120,
    )
    partial.rename(out)
    return out


@pytest.fixture(scope="module")
def streams() -> tuple[Path, Path]:
    scene = encode(BLOCKED, clip_cache_dir() / "scenes" / "route-blocked-substream.mp4", fps=10, gop_seconds=1)
    return _scaled(scene, MAIN), _scaled(scene, SUB)


def _camera(rtsp: RtspServer, sub_path: str) -> dict[str, Any]:
    return {
        "id": "hl-exit",
        "name": "一楼疏散通道",
        "institution": "hl-jly",
        "role": "evacuation_route",
        "source": {"url": rtsp.url("/main")},
        "detect_source": {"url": rtsp.url(sub_path, "viewer", "Sub#Secret7")},
        "detectors": [
            {
                "type": "blocked_route",
                # Drawn on the main picture (16:9); the D1 sub-stream shows the same scene squeezed.
                "zones": [{"name": "通道地面", "points": FLOOR_ZONE, "drawn_on": "1920x1080"}],
                "params": {"dwell_s": 5, "learn_s": 2},
            },
            {"type": "tamper", "params": {"video_loss_s": 2}},
        ],
    }


def _config(rtsp: RtspServer, sub_path: str) -> dict[str, Any]:
    return {
        "organisation": ORGANISATION,
        "ingest": {"stall_after_s": 1, "watchdog_s": 3, "backoff_s": [1]},
        "recording": {"segment_s": 4},
        "cameras": [_camera(rtsp, sub_path)],
    }


def test_detection_on_the_sub_stream_recording_on_the_main(streams: tuple[Path, Path], service_factory) -> None:
    main_clip, sub_clip = streams
    auth = {"user": "viewer", "password": "Sub#Secret7"}
    mounts = [
        {"path": "/main", "clip": str(main_clip)},
        {"path": "/sub", "clip": str(sub_clip), "auth": auth},
        {"path": "/sub2", "clip": str(sub_clip), "auth": auth},
    ]
    with RtspServer(mounts) as rtsp:
        service: RunningService = service_factory(_config(rtsp, "/sub"))
        began = time.time()
        admin = service.client()

        def both_online(cam: dict) -> bool:
            return cam["health"]["state"] == "online" and (cam["detect_health"] or {}).get("state") == "online"

        cam = service.wait_for(admin, "hl-exit", both_online)
        # Two connections, each with its own health; the sub-stream's credentials are never shown.
        assert (cam["health"]["width"], cam["health"]["height"]) == MAIN
        assert (cam["detect_health"]["width"], cam["detect_health"]["height"]) == SUB
        assert cam["detect_health"]["camera_id"] == "hl-exit:detect"
        assert cam["detect_source"] == {
            "url": rtsp.url("/sub"),
            "transport": "tcp",
            "has_credentials": True,
        }
        assert "Sub#Secret7" not in str(cam) and "Sub#Secret7" not in service.log()
        assert [c["name"] for c in cam["detect_consumers"]] == ["detectors"]
        # Each connection has its series in /metrics, the sub-stream under the name its health gives it.
        metrics = admin.get("/metrics").text
        assert (
            'vms_camera_up{camera="hl-exit"} 1.0' in metrics and 'vms_camera_up{camera="hl-exit:detect"} 1.0' in metrics
        )
        assert 'vms_consumer_dropped_packets_total{camera="hl-exit:detect",consumer="detectors"}' in metrics
        assert "detectors" not in [c["name"] for c in cam["consumers"]] and "recorder" in str(cam["consumers"])

        # The blocked route is found on the sub-stream's pictures.
        deadline = time.monotonic() + 40
        found: list[dict] = []
        while time.monotonic() < deadline and not found:
            time.sleep(0.5)
            found = admin.get("/api/violations", params={"type": "blocked_route"}).json()
        detection = admin.get("/api/cameras/hl-exit/detection").json()
        assert found, f"no blocked route within 40 s; detection: {detection}"
        assert detection["source"] == "detect" and (detection["width"], detection["height"]) == SUB
        assert detection["state"] == "running" and not detection["error"], detection
        # Its snapshot is the main stream's key frame (1920x1080, taken down to the snapshots' 960 px), not the
        # squeezed D1 picture the detectors judged.
        snapshot = admin.get(found[0]["snapshot_url"])
        picture = cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_COLOR)
        assert picture.shape[1::-1] == (960, 540)

        # The sub-stream stalls: detection says it sees nothing; the main stream records on, and no 视频丢失.
        before = admin.get("/api/cameras/hl-exit").json()
        rtsp.stall("/sub")
        blind = service.wait_for(
            admin, "hl-exit", lambda c: c["detection"]["state"] == "no_video" and c["detect_health"]["reconnects"] >= 1
        )
        assert blind["detect_health"]["state"] != "online"
        metrics = admin.get("/metrics").text
        assert (
            'vms_camera_up{camera="hl-exit:detect"} 0.0' in metrics and 'vms_camera_up{camera="hl-exit"} 1.0' in metrics
        )
        assert blind["health"]["state"] == "online" and blind["recording"]["state"] == "recording"
        assert blind["health"]["reconnects"] == before["health"]["reconnects"]
        assert blind["recording"]["bytes_written"] > before["recording"]["bytes_written"]
        rtsp.resume("/sub")
        service.wait_for(admin, "hl-exit", both_online)
        assert not admin.get("/api/violations", params={"type": "video_loss"}).json()

        # A reload that changes only the detect source reconnects the sub-stream and restarts the detectors alone.
        before = admin.get("/api/cameras/hl-exit").json()
        service.write_config(_config(rtsp, "/sub2"))
        changes = admin.post("/api/config/reload").json()
        assert changes["updated"] == ["hl-exit"] and changes["restarted"] == [], changes
        after = service.wait_for(
            admin, "hl-exit", lambda c: both_online(c) and c["detection"]["state"] == "running", timeout=20
        )
        assert after["detect_source"]["url"] == rtsp.url("/sub2")
        assert after["health"]["connected_at"] == before["health"]["connected_at"]
        assert after["health"]["reconnects"] == before["health"]["reconnects"]
        assert after["health"]["packets_total"] > before["health"]["packets_total"]

        # Recorded throughout, at the main stream's resolution, without a gap since the first segment began.
        time.sleep(1.0)
        timeline = admin.get(
            "/api/cameras/hl-exit/recordings", params={"start": began - 60, "end": time.time() + 1}
        ).json()
        segments = timeline["segments"]
        assert segments and {(s["width"], s["height"]) for s in segments} == {MAIN}
        first = min(s["start"] for s in segments)
        assert [g for g in timeline["gaps"] if g["start"] > first] == [], timeline["gaps"]

        # 视频丢失 is the main stream's: it stalls while the sub-stream plays on, and the violation is raised.
        rtsp.stall("/main")
        deadline = time.monotonic() + 15
        lost: list[dict] = []
        while time.monotonic() < deadline and not lost:
            time.sleep(0.5)
            lost = admin.get("/api/violations", params={"type": "video_loss"}).json()
        assert lost and lost[0]["camera"]["id"] == "hl-exit", admin.get("/api/cameras/hl-exit").json()


class StreamsSeen:
    """A detect consumer that notes which streams it was given: (the stream it reads, the main one or None)."""

    name = "detectors"

    def __init__(self) -> None:
        self.made: list[tuple[object, object, PacketCounter]] = []

    def key(self, camera):
        return camera.blur_faces  # stands for the detectors' own settings

    def attach(self, camera, stream, main=None):
        if camera.blur_faces:
            return None  # as the detectors on a camera with nothing to analyse
        self.made.append((stream, main, PacketCounter(camera, stream)))
        return self.made[-1][2]


def test_the_sub_stream_comes_and_goes_without_touching_the_main_one(clip_h264: Path, clip_hevc: Path) -> None:
    """Adding, changing and removing a camera's detect source restarts its sub-stream and the detect consumers
    alone; the main connection and its consumers (the recorder's place) stay as they are."""

    async def scenario() -> None:
        seen, counter = StreamsSeen(), CounterFactory()
        supervisor = Supervisor(IngestConfig(), consumers=[counter], detect_consumers=[seen])
        (plain,) = cameras(clip_h264, 1)
        await supervisor.apply([plain])
        await wait_online(supervisor, ["c0"])
        main, (main_counter,) = supervisor.stream("c0"), counter.made
        assert seen.made[-1][:2] == (main, None) and supervisor.detect_stream("c0") is None
        assert supervisor.detect_health("c0") is None

        for url in (f"file://{clip_hevc}", str(clip_hevc)):  # a first sub-stream, then another
            before = seen.made[-1][2]
            changes = await supervisor.apply([plain.model_copy(update={"detect_source": SourceConfig(url=url)})])
            if url.startswith("file://"):
                assert changes.updated == ["c0"] and changes.detect_restarted == ["c0"] and not changes.restarted
            detect = supervisor.detect_stream("c0")
            assert detect is not None and seen.made[-1][:2] == (detect, main) and not before.running
            for _ in range(100):
                if supervisor.detect_health("c0").state == "online" and seen.made[-1][2].packets > 5:
                    break
                await asyncio.sleep(0.1)
            assert (
                supervisor.detect_health("c0").codec == "hevc"
                and supervisor.detect_health("c0").camera_id == "c0:detect"
            )
            assert seen.made[-1][2].packets > 5

        # Nothing analyses the camera's picture: its sub-stream is not dialled, until something does.
        detect = supervisor.detect_stream("c0")
        blind = plain.model_copy(update={"blur_faces": True, "detect_source": SourceConfig(url=str(clip_h264))})
        assert (await supervisor.apply([blind])).detect_restarted == ["c0"]
        assert supervisor.detect_stream("c0") is None and not detect.running
        await supervisor.apply([blind.model_copy(update={"blur_faces": False})])
        detect = supervisor.detect_stream("c0")
        assert detect is not None and seen.made[-1][:2] == (detect, main)

        changes = await supervisor.apply([plain])
        assert changes.detect_restarted == ["c0"] and supervisor.detect_stream("c0") is None
        assert seen.made[-1][:2] == (main, None) and not detect.running
        assert supervisor.stream("c0") is main and main_counter.running and len(counter.made) == 1

        await supervisor.stop_all()
        assert not main.running and not seen.made[-1][2].running

    asyncio.run(scenario())

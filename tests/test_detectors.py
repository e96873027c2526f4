"""Detectors over labelled corridor clips (generated, encoded like a camera), the violation rules, and
`vms analyze` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

from detectors.frames.decoder import FrameDecoder
from detectors.offline.analyze import analysis_camera, analyze, parse_zone
from detectors.pipeline.analysis import CameraAnalysis
from detectors.plugins.blocked_route import BlockedRouteSettings
from detectors.zones import ZoneMismatch
from media.packet import MediaPacket, StreamInfo
from service.configuration import parse_config
from tests.rig.media import clip_cache_dir
from tests.rig.scenes import FLOOR_ZONE, HEIGHT, WIDTH, encode, scenes

DWELL = 5.0
SCENES = {s.name: s for s in scenes(DWELL)}


@pytest.fixture(scope="session")
def scene_clips() -> dict[str, Path]:
    folder = clip_cache_dir() / "scenes"
    return {name: encode(scene, folder / f"{name}-dwell{DWELL:g}.mp4", fps=5) for name, scene in SCENES.items()}


def route_camera(dwell: float = DWELL, **params: float):
    zone = parse_zone(" ".join(f"{x},{y}" for x, y in FLOOR_ZONE), "通道地面", WIDTH, HEIGHT)
    route = BlockedRouteSettings(zones=[zone], params={"dwell_s": dwell, **params})
    return analysis_camera([route], "evacuation_route")


@pytest.mark.parametrize("name", list(SCENES))
def test_scene_raises_exactly_its_violations(name: str, scene_clips: dict[str, Path]) -> None:
    """Blockings longer than the dwell alarm within dwell + 5 s; tampering within 10 s; people walking
    through, a chair left briefly and the light switched off and on raise nothing."""
    found = list(analyze(scene_clips[name], route_camera()))
    truth = SCENES[name].truth
    assert [f.type for f in found] == [kind for kind, _, _ in truth], found
    for violation, (kind, start, end) in zip(found, truth, strict=True):
        budget = DWELL + 5 if kind == "blocked_route" else 10.0
        assert start < violation.start_s <= start + budget, (violation, start)
        assert violation.end_s >= min(end, SCENES[name].seconds - 2.5)
        if kind == "blocked_route":
            x, y, w, h = violation.bbox
            assert 0.3 * WIDTH < x + w / 2 < 0.7 * WIDTH and y + h > 0.6 * HEIGHT  # the box, on the floor


def test_key_frames_only_are_decoded(scene_clips: dict[str, Path]) -> None:
    with av.open(str(scene_clips["box_left"])) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        info = StreamInfo(1, cc.name, None, cc.width, cc.height, stream.time_base, cc.extradata, 5.0, 0.0)
        decoder = FrameDecoder(info, key_frames_only=True)
        packets = keys = 0
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            packets += 1
            keys += packet.is_keyframe
            decoder.decode(
                MediaPacket(
                    1,
                    bytes(packet),
                    packet.pts,
                    packet.dts,
                    packet.duration or 0,
                    stream.time_base,
                    packet.is_keyframe,
                    0.0,
                )
            )
    assert packets >= 9 * keys and decoder.decoded == keys and decoder.errors == 0


def test_zone_drawn_on_another_picture_shape_is_refused_by_name() -> None:
    config = parse_config(
        {
            "organisation": {"towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}]},
            "cameras": [
                {
                    "id": "exit-1",
                    "name": "通道",
                    "institution": "i",
                    "role": "evacuation_route",
                    "source": {"url": "x.mp4"},
                    "detectors": [
                        {
                            "type": "blocked_route",
                            "zones": [
                                {
                                    "name": "东侧通道",
                                    "points": [[0.1, 0.5], [0.9, 0.5], [0.5, 1]],
                                    "drawn_on": "1920x1080",
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    CameraAnalysis(config.cameras[0], 1280, 720)  # same shape: fine
    with pytest.raises(ZoneMismatch, match=r"camera 'exit-1', zone '东侧通道': drawn on a 1920x1080 picture.*640x480"):
        CameraAnalysis(config.cameras[0], 640, 480)


def vms(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vms", *args], capture_output=True, text=True, timeout=60)


def test_vms_analyze_prints_one_json_object_per_violation(scene_clips: dict[str, Path], tmp_path: Path) -> None:
    tuning = tmp_path / "tuning.yaml"
    tuning.write_text(
        f"detectors:\n  - type: blocked_route\n    zones: []\n    enabled: false\n    params: {{dwell_s: {DWELL:g}}}\n",
        encoding="utf-8",
    )
    zone = " ".join(f"{round(x * WIDTH)},{round(y * HEIGHT)}" for x, y in FLOOR_ZONE)
    result = vms(
        "analyze", str(scene_clips["box_left"]), "--role", "evacuation_route", "--zone", zone, "--config", str(tuning)
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    violation = json.loads(line)
    assert violation["type"] == "blocked_route" and 10 < violation["start_s"] <= 10 + DWELL + 5
    assert set(violation) >= {"type", "start_s", "end_s", "confidence", "bbox"}


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("10,10 700,10 300,300", "zone 'zone1': point (700, 10) lies outside the 640x360 frame"),
        ("0,0 100,100 100,0 0,100", "zone 'zone1': Value error, polygon edges 0 and 2 cross"),
        ("1,2 3", "zone 'zone1': needs at least three"),
    ],
)
def test_vms_analyze_names_the_bad_zone(zone: str, message: str, scene_clips: dict[str, Path]) -> None:
    result = vms("analyze", str(scene_clips["people_walking"]), "--zone", zone)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_vms_analyze_refuses_a_file_that_is_not_video(tmp_path: Path) -> None:
    fake = tmp_path / "exit.mp4"
    fake.write_bytes(b"this is a spreadsheet, not a video\n" * 100)
    result = vms("analyze", str(fake), "--zone", "0.1,0.1 0.9,0.1 0.5,0.9")
    assert result.returncode == 2 and "exit.mp4: not a video file" in result.stderr, result.stderr


def _route_camera_problems(*detectors: dict) -> str:
    """The problems of a configuration whose one camera has `detectors`."""
    from core.config import ConfigError

    with pytest.raises(ConfigError) as error:
        parse_config(
            {
                "organisation": {"towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}]},
                "cameras": [
                    {
                        "id": "c",
                        "name": "通道",
                        "institution": "i",
                        "role": "evacuation_route",
                        "source": {"url": "x.mp4"},
                        "detectors": list(detectors),
                    }
                ],
            }
        )
    return str(error.value)


def test_detector_parameters_are_checked_with_the_configuration() -> None:
    text = _route_camera_problems(
        {
            "type": "blocked_route",
            "zones": [{"name": "z", "points": [[0, 0], [1, 0], [1, 1]]}],
            "params": {"dwell_s": 601, "threshhold": 0.3},
        },
        {"type": "blocked_route"},
        {"type": "tamper", "schedule": [{"days": ["mon"], "start": "8:00"}]},
    )
    assert "cameras[0].detectors[0].params.dwell_s: Input should be less than or equal to 600" in text
    assert "cameras[0].detectors[0].params.threshhold: Extra inputs are not permitted" in text
    assert "cameras[0].detectors[1].zones: blocked_route needs at least one zone" in text
    assert "cameras[0].detectors[2].schedule[0].start" in text


def test_a_detectors_params_and_zone_are_reported_together() -> None:
    """Every problem of a detector entry in one pass: its params' errors do not wait for its zone to be fixed."""
    text = _route_camera_problems(
        {
            "type": "blocked_route",
            "zones": [{"name": "z", "points": [[0, 0], [1, 1], [1, 0], [0, 1]]}],
            "params": {"threshold": 2, "dwell_s": 1},
        }
    )
    paths = sorted(line.strip().split(": ")[0] for line in text.splitlines()[1:])
    assert paths == [
        "cameras[0].detectors[0].params.dwell_s",
        "cameras[0].detectors[0].params.threshold",
        "cameras[0].detectors[0].zones[0].points",
    ], text


def test_violation_is_kept_with_its_snapshot_and_asks_for_its_clip(
    scene_clips: dict[str, Path], tmp_path: Path
) -> None:
    import cv2
    import numpy as np

    from core.store import Store
    from detectors.frames.scaler import FrameScaler
    from detectors.violations.clips import ClipRequest
    from detectors.violations.events import ViolationEvent
    from detectors.violations.recorder import ViolationRecorder

    class Recordings:
        def __init__(self) -> None:
            self.requests: list[ClipRequest] = []
            self.kept: list[tuple[int, str, float]] = []

        def keep(self, violation_id: int, camera_id: str, start: float) -> None:
            self.kept.append((violation_id, camera_id, start))

        def request_clip(self, request: ClipRequest) -> str | None:
            self.requests.append(request)
            return f"clips/{request.violation_id}.mp4"

    with av.open(str(scene_clips["box_left"])) as container:
        frame = next(f for f in container.decode(video=0) if f.pts * container.streams.video[0].time_base >= 20)
    analysed = FrameScaler().scale(frame, 1000.0)
    camera = route_camera().model_copy(update={"id": "exit-1", "institution": "hl-jly"})
    store = Store.open(tmp_path / "vms.db")
    recordings = Recordings()
    recorder = ViolationRecorder(store.violations, clips=recordings)
    box = (0.35, 0.62, 0.30, 0.32)
    start = ViolationEvent("started", "blocked_route", "通道地面", 1000.0, 940.0, 1000.0, 0.9, box)
    violation_id = recorder.record(camera, start, analysed)
    row = store.violations.get(violation_id)
    assert row.state == "active" and row.clip_status == "waiting" and row.zone_points[0] == list(FLOOR_ZONE[0])
    assert recordings.kept == [(violation_id, "exit-1", 930.0)]  # held from the pre-roll on
    image = cv2.imdecode(np.frombuffer(store.violations.snapshot(violation_id), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (HEIGHT, WIDTH)
    b, g, r = image[round(0.62 * HEIGHT), round(0.5 * WIDTH)].tolist()  # the top edge of the drawn region
    assert r > 180 and g < 80 and b < 80
    end = ViolationEvent("ended", "blocked_route", "通道地面", 1090.0, 940.0, 1000.0, 0.95, box, "clear")
    recorder.record(camera, end, None)
    assert recordings.requests == [ClipRequest(violation_id, "exit-1", 930.0, 1100.0)]
    row = store.violations.get(violation_id)
    assert (row.state, row.ended_at, row.clip_status, row.clip_ref) == (
        "ended",
        1090.0,
        "ready",
        f"clips/{violation_id}.mp4",
    )
    store.close()


def test_bad_zones_in_the_configuration_name_camera_and_zone() -> None:
    text = _route_camera_problems(
        {
            "type": "blocked_route",
            "zones": [
                {"name": "东侧", "points": [[0, 0], [1, 1], [1, 0], [0, 1]]},
                {"name": "西侧", "points": [[0, 0], [1.2, 1], [1, 0]]},
            ],
        }
    )
    assert "polygon edges 0 and 2 cross; draw the zone without self-intersection (camera 'c', zone '东侧')" in text
    assert "less than or equal to 1 (camera 'c', zone '西侧')" in text

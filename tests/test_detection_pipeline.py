"""The per-camera detection pipeline beside a live stream: a detector that falls behind skips frames and
says so, and never slows the camera's other consumers."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

from core.config import IngestConfig
from core.store import Store
from core.store.violations import ViolationFilter
from detectors.interface import KEY_FRAMES, AnalysisFrame, FrameNeed, Observation
from detectors.pipeline.analysis import CameraAnalysis
from detectors.pipeline.camera_pipeline import CameraPipeline
from detectors.plugin import PlannedDetector
from detectors.plugins.tamper.settings import TamperSettings
from detectors.violations.recorder import ViolationRecorder
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ALWAYS
from service.supervisor import Supervisor
from tests.test_supervisor import CounterFactory, cameras, wait_online


class SlowDetector:
    """Takes 2.5 s per frame where key frames come every 2 s."""

    need = KEY_FRAMES
    kinds = ("slow",)

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        time.sleep(2.5)
        return [Observation("slow", False, frame.at)]


class SlowAnalysis(CameraAnalysis):
    def set_picture(self, width: int, height: int, at: float = 0.0):
        events = super().set_picture(width, height, at)
        self.add(PlannedDetector(SlowDetector(), AlarmParams(), ALWAYS))
        return events


class SlowFactory:
    name = "detectors"

    analysis = None

    def __init__(self, recorder: ViolationRecorder) -> None:
        self.recorder = recorder
        self.made: list[CameraPipeline] = []

    def key(self, camera):
        return camera.detectors

    def attach(self, camera, stream):
        self.made.append(
            CameraPipeline(camera, stream, self.recorder, max_lag_s=1.0, analysis_factory=self.analysis or SlowAnalysis)
        )
        self.made[-1].start()
        return self.made[-1]


def test_a_detector_that_falls_behind_skips_and_says_so(clip_h264: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store.open(tmp_path / "vms.db")
        slow, counter = SlowFactory(ViolationRecorder(store.violations)), CounterFactory()
        supervisor = Supervisor(IngestConfig(), consumers=[slow, counter])
        # Video loss after 2 s: a batch that takes the slow detector 2.5 s must not read as a silent camera.
        camera = cameras(clip_h264, 1)[0]
        camera = camera.model_copy(update={"detectors": [TamperSettings(params={"video_loss_s": 2})]})
        await supervisor.apply([camera])
        await wait_online(supervisor, ["c0"])
        await asyncio.sleep(8.0)
        status = slow.made[0].status()
        assert status.behind and status.frames_skipped >= 1 and status.frames_analysed >= 1, status
        assert status.key_frames_only and status.state == "running"
        assert "video_loss" not in status.active and not store.violations.find(ViolationFilter(type="video_loss"))
        # Ingest and the other consumer kept the camera's pace: 25 fps for 8 s.
        assert counter.made[0].packets > 150
        assert supervisor.health("c0").fps > 20
        await supervisor.stop_all()
        assert not slow.made[0].running
        store.close()

    asyncio.run(scenario())


def test_video_loss_starts_and_ends_with_the_camera(clip_h264: Path, tmp_path: Path) -> None:
    """A camera whose encoder stops raises 视频丢失 after video_loss_s; it ends when video is back."""
    from core.store.violations import ViolationFilter
    from detectors.pipeline.factory import DetectionFactory
    from service.configuration import parse_config
    from tests.rig.rtsp import RtspServer

    async def scenario(rtsp: RtspServer) -> None:
        store = Store.open(tmp_path / "vms.db")
        factory = DetectionFactory(ViolationRecorder(store.violations))
        supervisor = Supervisor(IngestConfig(watchdog_s=30, stall_after_s=1), consumers=[factory])
        config = parse_config(
            {
                "organisation": {"towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}]},
                "cameras": [
                    {
                        "id": "gate",
                        "name": "大门",
                        "institution": "i",
                        "role": "gate",
                        "source": {"url": rtsp.url("/gate")},
                        "detectors": [{"type": "tamper", "params": {"video_loss_s": 2}}],
                    }
                ],
            }
        )
        await supervisor.apply(config.cameras)
        await wait_online(supervisor, ["gate"])
        rtsp.stall("/gate")
        found = []
        for _ in range(60):
            await asyncio.sleep(0.25)
            found = store.violations.find(ViolationFilter(type="video_loss"))
            if found:
                break
        assert [(v.camera_id, v.state, v.institution_id) for v in found] == [("gate", "active", "i")]
        assert "video_loss" in factory.status("gate").active
        rtsp.resume("/gate")
        for _ in range(60):
            await asyncio.sleep(0.25)
            if store.violations.get(found[0].id).state == "ended":
                break
        ended = store.violations.get(found[0].id)
        assert ended.state == "ended" and ended.end_reason == "clear" and ended.clip_status == "pending"
        assert ended.clip_start < ended.started_at < ended.ended_at < ended.clip_end
        await supervisor.stop_all()
        store.close()

    with RtspServer([{"path": "/gate", "clip": str(clip_h264)}]) as rtsp:
        asyncio.run(scenario(rtsp))


class CountingDetector:
    """Asks for 5 decoded frames a second rather than key frames."""

    need = FrameNeed(key_frames_only=False, fps=5.0)
    kinds = ("counting",)

    def __init__(self) -> None:
        self.times: list[float] = []

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        self.times.append(frame.at)
        return []


class CountingAnalysis(CameraAnalysis):
    counter = CountingDetector()

    def set_picture(self, width: int, height: int, at: float = 0.0):
        events = super().set_picture(width, height, at)
        self.add(PlannedDetector(self.counter, AlarmParams(), ALWAYS))
        return events


def test_a_detector_asking_for_a_frame_rate_gets_it(clip_h264: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store.open(tmp_path / "vms.db")
        factory = SlowFactory(ViolationRecorder(store.violations))
        factory.analysis = CountingAnalysis
        supervisor = Supervisor(IngestConfig(), consumers=[factory])
        await supervisor.apply(cameras(clip_h264, 1))
        await wait_online(supervisor, ["c0"])
        await asyncio.sleep(4.0)
        status = factory.made[0].status()
        await supervisor.stop_all()
        store.close()
        times = CountingAnalysis.counter.times
        assert not status.key_frames_only and not status.behind
        span = times[-1] - times[0]
        assert span > 2.5 and 4.0 <= (len(times) - 1) / span <= 6.0, (len(times), span)

    asyncio.run(scenario())


class KeyFrameCounter:
    """A static-scene detector that notes the key frames it is given."""

    need = KEY_FRAMES
    kinds = ("still",)

    def __init__(self) -> None:
        self.times: list[float] = []

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        self.times.append(frame.at)
        return []


class KeyFrameAnalysis(CameraAnalysis):
    def set_picture(self, width: int, height: int, at: float = 0.0):
        events = super().set_picture(width, height, at)
        self.counter = KeyFrameCounter()
        self.add(PlannedDetector(self.counter, AlarmParams(), ALWAYS))
        return events


def test_a_camera_analysis_interval_leaves_key_frames_undecoded(clip_h264: Path, tmp_path: Path) -> None:
    """Every key frame (2 s GOP) where the interval is 0; one in three where it is 5 s, the others never decoded."""

    async def scenario() -> None:
        store = Store.open(tmp_path / "vms.db")
        factory = SlowFactory(ViolationRecorder(store.violations))
        factory.analysis = KeyFrameAnalysis
        supervisor = Supervisor(IngestConfig(), consumers=[factory])
        every, sparse = cameras(clip_h264, 2)
        await supervisor.apply([every, sparse.model_copy(update={"analysis_interval_s": 5.0})])
        await wait_online(supervisor, ["c0", "c1"])
        await asyncio.sleep(11.0)
        by_camera = {pipeline.camera.id: pipeline for pipeline in factory.made}
        statuses = {camera: pipeline.status() for camera, pipeline in by_camera.items()}
        handed = {camera: pipeline.subscription.stats().delivered for camera, pipeline in by_camera.items()}
        times = {camera: pipeline.analysis.counter.times for camera, pipeline in by_camera.items()}
        await supervisor.stop_all()
        store.close()
        gaps = {camera: [b - a for a, b in itertools.pairwise(seen)] for camera, seen in times.items()}
        assert len(times["c0"]) >= 5 and all(1.5 < gap < 2.5 for gap in gaps["c0"]), times
        assert statuses["c0"].key_frames_passed_over == 0 and statuses["c0"].analysis_interval_s == 0
        assert 2 <= len(times["c1"]) <= 3 and all(4.5 < gap < 6.5 for gap in gaps["c1"]), times
        # The key frames between were passed over, not decoded: the decoder saw only the analysed ones.
        assert statuses["c1"].key_frames_passed_over >= 3 and statuses["c1"].analysis_interval_s == 5.0
        assert by_camera["c1"]._decoder is not None and by_camera["c1"]._decoder.decoded == len(times["c1"])
        assert not statuses["c1"].behind
        # Only key frames were handed over from the hub (11 s at 25 fps would be ~275 packets).
        assert handed["c0"] < 15 and handed["c1"] < 15, handed

    asyncio.run(scenario())

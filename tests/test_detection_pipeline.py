"""The per-camera detection pipeline beside a live stream: a detector that falls behind skips frames and
says so, and never slows the camera's other consumers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from detectors.interface import KEY_FRAMES, AnalysisFrame, Observation
from detectors.pipeline.analysis import CameraAnalysis
from detectors.pipeline.camera_pipeline import CameraPipeline
from detectors.settings import AlarmParams
from detectors.violations.recorder import ViolationRecorder
from detectors.violations.schedule import ALWAYS
from detectors.catalog import PlannedDetector
from tests.test_supervisor import CounterFactory, cameras, wait_online
from vms.config import IngestConfig
from vms.store import Store
from vms.supervisor import Supervisor


class SlowDetector:
    """Takes 2.5 s per frame where key frames come every 2 s."""

    need = KEY_FRAMES
    kinds = ("slow",)

    def observe(self, frame: AnalysisFrame) -> list[Observation]:
        time.sleep(2.5)
        return [Observation("slow", False, frame.at)]


class SlowAnalysis(CameraAnalysis):
    def set_picture(self, width: int, height: int):
        events = super().set_picture(width, height)
        self.planned.append(PlannedDetector(SlowDetector(), AlarmParams(), ALWAYS))
        self._rules["slow"] = self.planned[-1]
        return events


class SlowFactory:
    name = "detectors"

    def __init__(self, recorder: ViolationRecorder) -> None:
        self.recorder = recorder
        self.made: list[CameraPipeline] = []

    def key(self, camera):
        return camera.detectors

    def attach(self, camera, stream):
        self.made.append(CameraPipeline(camera, stream, self.recorder, max_lag_s=1.0, analysis_factory=SlowAnalysis))
        return self.made[-1]


def test_a_detector_that_falls_behind_skips_and_says_so(clip_h264: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store.open(tmp_path / "vms.db")
        slow, counter = SlowFactory(ViolationRecorder(store.violations)), CounterFactory()
        supervisor = Supervisor(IngestConfig(), consumers=[slow, counter])
        await supervisor.apply(cameras(clip_h264, 1))
        await wait_online(supervisor, ["c0"])
        await asyncio.sleep(8.0)
        status = slow.made[0].status()
        assert status.behind and status.frames_skipped >= 1 and status.frames_analysed >= 1, status
        assert status.key_frames_only and status.state == "running"
        # Ingest and the other consumer kept the camera's pace: 25 fps for 8 s.
        assert counter.made[0].packets > 150
        assert supervisor.health("c0").fps > 20
        await supervisor.stop_all()
        assert not slow.made[0].running
        store.close()

    asyncio.run(scenario())

"""Attaches a detection pipeline to every camera stream the supervisor runs."""

from __future__ import annotations

from collections.abc import Hashable

from core.config.models import CameraConfig
from detectors.pipeline.camera_pipeline import CameraPipeline
from detectors.pipeline.status import PipelineStatus
from detectors.registry import runs_analysis
from detectors.violations.recorder import ViolationRecorder
from streams.camera import CameraStream


class DetectionFactory:
    """The supervisor's `DetectConsumerFactory` for detectors; rebuilt per camera when its detectors change (and
    with the sub-stream, when that changes)."""

    name = "detectors"

    def __init__(self, recorder: ViolationRecorder, max_lag_s: float = 2.0) -> None:
        self.recorder = recorder
        self.max_lag_s = max_lag_s
        self._pipelines: dict[str, CameraPipeline] = {}

    def key(self, camera: CameraConfig) -> Hashable:
        # Detectors depend on these only: a renamed camera keeps its analysis and what it has learnt.
        return (
            camera.institution,
            camera.role,
            camera.analysis_interval_s,
            tuple(d.model_dump_json() for d in camera.detectors),
        )

    def attach(
        self, camera: CameraConfig, stream: CameraStream, main: CameraStream | None = None
    ) -> CameraPipeline | None:
        """A pipeline reading `stream`: the camera's sub-stream where it names one (`main` then its main stream,
        which video loss is judged from), else its main stream."""
        if not runs_analysis(camera):
            self._pipelines.pop(camera.id, None)
            return None  # no thread, and no queue for the camera to fill, where nothing would look at it
        pipeline = CameraPipeline(camera, stream, self.recorder, max_lag_s=self.max_lag_s, main=main)
        pipeline.start()
        self._pipelines[camera.id] = pipeline
        return pipeline

    def status(self, camera_id: str) -> PipelineStatus | None:
        pipeline = self._pipelines.get(camera_id)
        return pipeline.status() if pipeline is not None else None

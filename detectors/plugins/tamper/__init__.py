"""Camera health analytics: is the picture still worth watching? Covered lens, defocus, moved camera, too
dark (kitchens) and video loss, on every camera unless its configuration switches them off."""

from __future__ import annotations

from typing import ClassVar

from core.config.models import CameraConfig
from detectors.interface import Detector
from detectors.plugin import DetectorPlugin, PlannedDetector, PlannedWatch, ViolationKind
from detectors.plugins.tamper import covered_lens, defocus, moved_camera, too_dark, video_loss
from detectors.plugins.tamper.settings import TamperParams, TamperSettings
from detectors.violations.rules import AlarmParams
from detectors.violations.schedule import ArmingSchedule


class TamperPlugin(DetectorPlugin[TamperSettings]):
    settings = TamperSettings
    kinds: ClassVar[tuple[ViolationKind, ...]] = (
        covered_lens.KIND,
        defocus.KIND,
        moved_camera.KIND,
        too_dark.KIND,
        video_loss.KIND,
    )

    def default(self, camera: CameraConfig) -> TamperSettings:
        return TamperSettings()

    def plan(self, settings: TamperSettings, camera: CameraConfig, width: int, height: int) -> list[PlannedDetector]:
        params = settings.params
        chosen: list[Detector] = []
        if params.covered:
            chosen.append(covered_lens.CoveredLensDetector(params))
        if params.defocus:
            chosen.append(defocus.DefocusDetector(params))
        if params.moved:
            chosen.append(moved_camera.MovedCameraDetector(params))
        if params.too_dark if params.too_dark is not None else camera.role == "kitchen":
            chosen.append(too_dark.TooDarkDetector(params))
        schedule = ArmingSchedule(settings.schedule)
        return [PlannedDetector(detector, params, schedule) for detector in chosen]

    def watches(self, settings: TamperSettings, camera: CameraConfig) -> list[PlannedWatch]:
        return [PlannedWatch(video_loss.VideoLossWatch(settings.params.video_loss_s), _at_once(settings.params))]


def _at_once(params: TamperParams) -> AlarmParams:
    """Video loss has waited `video_loss_s` already: it starts at once and ends on the first video."""
    return AlarmParams(dwell_s=1.0, min_share=0.5, clear_s=1.0, min_duration_s=0.0, realarm_s=params.realarm_s)


PLUGIN = TamperPlugin()

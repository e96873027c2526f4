"""Which detectors a camera runs, built from its configuration once its picture size is known."""

from __future__ import annotations

from dataclasses import dataclass

from detectors.frames.scaler import analysis_size
from detectors.interface import Detector
from detectors.route.blocked_route import BlockedRouteDetector
from detectors.settings import AlarmParams, BlockedRouteParams, TamperParams, detector_params
from detectors.tamper.covered_lens import CoveredLensDetector
from detectors.tamper.defocus import DefocusDetector
from detectors.tamper.moved_camera import MovedCameraDetector
from detectors.tamper.too_dark import TooDarkDetector
from detectors.violations.schedule import ArmingSchedule
from detectors.zones import check_zone_fits, zone_mask
from core.config.models import CameraConfig, DetectorConfig

IMPLEMENTED = ("blocked_route", "tamper")


@dataclass(frozen=True)
class PlannedDetector:
    """A detector with the rules its violations follow."""

    detector: Detector
    params: AlarmParams
    schedule: ArmingSchedule


def tamper_config(camera: CameraConfig) -> DetectorConfig | None:
    """Camera health analytics run on every camera unless its configuration switches them off."""
    configured = next((d for d in camera.detectors if d.type == "tamper"), None)
    if configured is None:
        return DetectorConfig(type="tamper")
    return configured if configured.enabled else None


def runs_analysis(camera: CameraConfig) -> bool:
    """Whether anything is analysed on this camera: a configured detector, or the health analytics."""
    return tamper_config(camera) is not None or any(
        d.enabled and d.type in IMPLEMENTED for d in camera.detectors)


def plan_detectors(camera: CameraConfig, width: int, height: int) -> list[PlannedDetector]:
    """The camera's frame detectors for a width x height picture; raises ZoneMismatch naming camera and zone."""
    aw, ah = analysis_size(width, height)
    planned: list[PlannedDetector] = []
    for config in camera.detectors:
        if not config.enabled or config.type != "blocked_route":
            continue
        params = detector_params(config)
        assert isinstance(params, BlockedRouteParams)
        for zone in config.zones:
            check_zone_fits(camera.id, zone, width, height)
        masks = [zone_mask(zone, aw, ah) for zone in config.zones]
        planned.append(PlannedDetector(BlockedRouteDetector(masks, params), params, ArmingSchedule(config.schedule)))
    tamper = tamper_config(camera)
    if tamper is not None:
        params = detector_params(tamper)
        assert isinstance(params, TamperParams)
        schedule = ArmingSchedule(tamper.schedule)
        chosen: list[Detector] = []
        if params.covered:
            chosen.append(CoveredLensDetector(params))
        if params.defocus:
            chosen.append(DefocusDetector(params))
        if params.moved:
            chosen.append(MovedCameraDetector(params))
        if params.too_dark if params.too_dark is not None else camera.role == "kitchen":
            chosen.append(TooDarkDetector(params))
        planned += [PlannedDetector(d, params, schedule) for d in chosen]
    return planned


def video_loss_params(camera: CameraConfig) -> TamperParams | None:
    tamper = tamper_config(camera)
    if tamper is None:
        return None
    params = detector_params(tamper)
    assert isinstance(params, TamperParams)
    return params

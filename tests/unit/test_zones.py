"""Zones on the sub-stream (detectors/zones.py): normalised zones land on the same part of the scene in the main
picture and in the smaller (or differently shaped) picture of the camera's sub-stream; `drawn_on` is checked
against either picture."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.config.models import CameraConfig, SourceConfig, ZoneConfig
from detectors.plugins.blocked_route import BlockedRouteSettings
from detectors.zones import ZoneMismatch, fits, on_detect_picture, zone_mask

ROUTE = [(0.30, 0.55), (0.70, 0.55), (0.95, 0.98), (0.05, 0.98)]


def _camera(drawn_on: str | None) -> CameraConfig:
    zone = ZoneConfig(name="通道", points=ROUTE, drawn_on=drawn_on)
    return CameraConfig(
        id="exit",
        name="通道",
        institution="i",
        role="evacuation_route",
        source=SourceConfig(url="rtsp://cam/main"),
        detect_source=SourceConfig(url="rtsp://cam/sub"),
        detectors=[BlockedRouteSettings(type="blocked_route", zones=[zone])],
    )


@pytest.mark.parametrize("sub", [(640, 360), (704, 576), (320, 180)])
def test_a_zone_covers_the_same_part_of_the_scene_on_the_sub_stream(sub: tuple[int, int]) -> None:
    zone = ZoneConfig(name="通道", points=ROUTE)
    main = zone_mask(zone, 1920, 1080).mask
    small = zone_mask(zone, *sub).mask
    # The sub-stream is the same scene scaled (a D1 sub-stream squeezes 16:9 into 704x576): back to the main size.
    scaled = cv2.resize(small.astype(np.uint8), (1920, 1080), interpolation=cv2.INTER_NEAREST).astype(bool)
    overlap = (main & scaled).sum() / (main | scaled).sum()
    assert overlap > 0.97, overlap


def test_drawn_on_the_main_picture_fits_a_sub_stream_of_another_shape() -> None:
    camera = _camera("1920x1080")
    assert not fits(camera.detectors[0].zones[0], 704, 576)  # on its own, the D1 picture would be refused
    seen = on_detect_picture(camera, (704, 576), (1920, 1080))
    assert seen is not None
    assert [z.drawn_on for d in seen.detectors for z in d.zones] == [None]
    assert seen.detectors[0].zones[0].points == camera.detectors[0].zones[0].points  # not moved, not scaled


def test_drawn_on_the_sub_stream_fits_too_and_needs_no_main_picture() -> None:
    assert on_detect_picture(_camera("704x576"), (704, 576), None) is not None
    assert on_detect_picture(_camera(None), (640, 360), None) is not None


def test_a_zone_drawn_on_neither_picture_is_refused_naming_camera_zone_and_sizes() -> None:
    with pytest.raises(ZoneMismatch) as refused:
        on_detect_picture(_camera("800x800"), (640, 360), (1920, 1080))
    message = str(refused.value)
    assert "'exit'" in message and "'通道'" in message and "800x800" in message
    assert "1920x1080" in message and "640x360" in message


def test_undecided_until_the_main_picture_is_known() -> None:
    assert on_detect_picture(_camera("1920x1080"), (704, 576), None) is None

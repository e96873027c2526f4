"""Zones in pixels of the analysis picture, and the checks that a zone fits the camera it is on.

Zones are written in normalised coordinates, so one zone lands on the same part of the scene in every picture of
it: the main stream's, and the sub-stream's a camera with a `detect_source` is analysed on (640x360, or 704x576 for
a 16:9 scene squeezed into D1), whatever its size or pixel shape. Nothing is scaled; only `drawn_on` needs care.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.config.models import CameraConfig, ZoneConfig


class ZoneMismatch(ValueError):
    """A zone that cannot be used on this camera's picture; the message names the camera and the zone."""


@dataclass(frozen=True)
class ZoneMask:
    name: str
    points: tuple[tuple[float, float], ...]  # normalised
    mask: np.ndarray  # bool, analysis size
    area: int


def fits(zone: ZoneConfig, width: int, height: int) -> bool:
    """Whether the zone was drawn on a picture of this shape (or says nothing of where it was drawn)."""
    if zone.drawn_on is None:
        return True
    drawn_w, drawn_h = (int(v) for v in zone.drawn_on.split("x"))
    return abs(drawn_w / drawn_h - width / height) <= 0.02


def check_zone_fits(camera_id: str, zone: ZoneConfig, width: int, height: int) -> None:
    """A zone drawn on a picture of another shape would land on the wrong place: refuse it."""
    if not fits(zone, width, height):
        raise ZoneMismatch(
            f"camera {camera_id!r}, zone {zone.name!r}: drawn on a {zone.drawn_on} picture but the camera sends "
            f"{width}x{height}; redraw the zone on this camera's picture"
        )


def on_detect_picture(
    camera: CameraConfig, detect: tuple[int, int], main: tuple[int, int] | None
) -> CameraConfig | None:
    """The camera as its detectors see it on the sub-stream's picture (`detect`, width and height).

    A zone's `drawn_on` may name the main stream's picture (where the live view and snapshots show it) or the
    sub-stream's: it fits if it matches either shape, and is then dropped, for the detectors to check it against
    the sub-stream alone would refuse a 16:9 zone on a D1 sub-stream of the same scene. Raises ZoneMismatch for a
    zone that fits neither; None while that cannot be told yet (the main picture's size is not known).
    """
    for entry in camera.detectors:
        for zone in entry.zones:
            if fits(zone, *detect) or (main is not None and fits(zone, *main)):
                continue
            if main is None:
                return None
            raise ZoneMismatch(
                f"camera {camera.id!r}, zone {zone.name!r}: drawn on a {zone.drawn_on} picture but the camera sends "
                f"{main[0]}x{main[1]} (its detect stream {detect[0]}x{detect[1]}); redraw the zone on this camera's "
                "picture"
            )
    detectors = [
        entry.model_copy(update={"zones": [zone.model_copy(update={"drawn_on": None}) for zone in entry.zones]})
        for entry in camera.detectors
    ]
    return camera.model_copy(update={"detectors": detectors})


def zone_mask(zone: ZoneConfig, width: int, height: int) -> ZoneMask:
    """Rasterise a normalised polygon onto a width x height analysis picture."""
    mask = np.zeros((height, width), np.uint8)
    polygon = np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in zone.points], np.int32)
    cv2.fillPoly(mask, [polygon], 1)
    as_bool = mask.astype(bool)
    return ZoneMask(zone.name, tuple(zone.points), as_bool, int(as_bool.sum()))


def union_mask(zones: list[ZoneMask]) -> np.ndarray | None:
    """The pixels of any of the zones; None (the whole picture) where there are none."""
    if not zones:
        return None
    mask = zones[0].mask.copy()
    for zone in zones[1:]:
        mask |= zone.mask
    return mask

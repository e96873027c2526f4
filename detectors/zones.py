"""Zones in pixels of the analysis picture, and the checks that a zone fits the camera it is on."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.config.models import ZoneConfig


class ZoneMismatch(ValueError):
    """A zone that cannot be used on this camera's picture; the message names the camera and the zone."""


@dataclass(frozen=True)
class ZoneMask:
    name: str
    points: tuple[tuple[float, float], ...]  # normalised
    mask: np.ndarray  # bool, analysis size
    area: int


def check_zone_fits(camera_id: str, zone: ZoneConfig, width: int, height: int) -> None:
    """A zone drawn on a picture of another shape would land on the wrong place: refuse it."""
    if zone.drawn_on is None:
        return
    drawn_w, drawn_h = (int(v) for v in zone.drawn_on.split("x"))
    if abs(drawn_w / drawn_h - width / height) > 0.02:
        raise ZoneMismatch(
            f"camera {camera_id!r}, zone {zone.name!r}: drawn on a {zone.drawn_on} picture but the camera sends "
            f"{width}x{height}; redraw the zone on this camera's picture"
        )


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

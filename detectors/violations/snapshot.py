"""The picture of a violation: the frame at its start with the zone and the occupied region drawn."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from detectors.interface import AnalysisFrame, BBox
from detectors.models.faces import pixelate_faces

_ZONE = (0, 215, 255)  # amber, BGR
_REGION = (0, 0, 255)  # red


def snapshot_jpeg(
    frame: AnalysisFrame,
    zone: Sequence[Sequence[float]] | None,
    bbox: BBox | None,
    max_width: int = 960,
    quality: int = 85,
    blur_faces: bool = False,
) -> bytes:
    """The picture, with faces under a mosaic first where `blur_faces` (the camera's privacy setting)."""
    image = np.ascontiguousarray(frame.bgr(max_width))
    if blur_faces:
        pixelate_faces(image)
    height, width = image.shape[:2]
    if zone:
        polygon = np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in zone], np.int32)
        overlay = image.copy()
        cv2.fillPoly(overlay, [polygon], _ZONE)
        cv2.addWeighted(overlay, 0.2, image, 0.8, 0, dst=image)
        cv2.polylines(image, [polygon], True, _ZONE, 2, cv2.LINE_AA)
    if bbox is not None:
        x, y, w, h = bbox
        cv2.rectangle(
            image, (round(x * width), round(y * height)), (round((x + w) * width), round((y + h) * height)), _REGION, 3
        )
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return encoded.tobytes()

"""Whether a kitchen's lights are off: the picture is dark, or the camera has switched to its night picture
(infrared: a grey picture, both chroma planes flat at their middle)."""

from __future__ import annotations

import numpy as np

from detectors.interface import AnalysisFrame

GREY_CHROMA = 2.5  # mean distance of U and V from 128 below which a picture has no colour (sensor noise is ~1)


def night_picture(frame: AnalysisFrame) -> bool:
    """The infrared picture a camera shows at night: no colour at all."""
    if frame.chroma is None:
        return False
    return float(np.abs(frame.chroma.astype(np.int16) - 128).mean()) < GREY_CHROMA


def lights_off(frame: AnalysisFrame, dark_luma: float) -> bool:
    return night_picture(frame) or float(frame.gray.mean()) < dark_luma

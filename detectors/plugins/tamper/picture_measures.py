"""Measures of a whole picture that do not change when the light is switched on or off."""

from __future__ import annotations

import cv2
import numpy as np


def spread(gray: np.ndarray) -> float:
    """Standard deviation of the smoothed grey levels: near zero for a covered lens."""
    return float(cv2.GaussianBlur(gray, (5, 5), 0).std())


def sharpness(gray: np.ndarray) -> float:
    """Fine detail relative to contrast: the spread of the Laplacian over the grey-level spread.

    Dimming the scene scales both alike, so only a loss of detail (defocus, fog on the dome) lowers it.
    """
    g = gray.astype(np.float32)
    return float(cv2.Laplacian(g, cv2.CV_32F).std() / (g.std() + 1.0))


def thumbnail(gray: np.ndarray, width: int = 64) -> np.ndarray:
    """A small, blurred, float copy for comparing whole views."""
    height = max(2, round(gray.shape[0] * width / gray.shape[1]))
    small = cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    return cv2.GaussianBlur(small, (3, 3), 0)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Zero-mean normalised correlation (1: same view, whatever the brightness)."""
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 1e-6 else 0.0

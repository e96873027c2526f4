"""Small things moving over a still scene (suspected rodents on a kitchen floor at night).

Each sample is compared with a background learnt from the samples before it, at a threshold set by the
picture's own grain (infrared night pictures are noisy); blobs of a rodent's size are followed from sample to
sample, and only a track that travels counts: grain and flicker come and go in place. Whatever is big (a
person, a door) is not small, and its ragged edges are not either. A change of most of the picture (the lights
coming on, the camera switching to its night picture) is learnt as the new background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from detectors.interface import BBox

GLOBAL_CHANGE = 0.25  # of the watched pixels changed at once: the scene itself changed
NEAR_BIG = 0.04  # picture widths: a small blob this close to a big one is a piece of it


@dataclass(frozen=True, slots=True)
class Mover:
    box: BBox  # normalised to the picture
    travel: float  # picture widths from where it was first seen
    sightings: int


@dataclass
class _Track:
    points: list[tuple[float, float, float]]  # at, x, y in picture widths
    box: BBox
    travel: float = 0.0
    last_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.last_at = self.points[-1][0]

    def add(self, at: float, x: float, y: float, box: BBox) -> None:
        self.points.append((at, x, y))
        _, x0, y0 = self.points[0]
        self.travel = max(self.travel, float(np.hypot(x - x0, y - y0)))
        self.box, self.last_at = box, at


class SmallMovers:
    """Feed it the luma picture of every sample (`update`); it says what small thing moved and how far."""

    def __init__(
        self,
        mask: np.ndarray | None = None,
        min_area: float = 0.00005,
        max_area: float = 0.004,
        min_travel: float = 0.05,
        max_speed: float = 0.8,
        min_level: float = 10.0,
        learn: float = 0.05,
    ) -> None:
        self.mask = mask
        self.min_area, self.max_area = min_area, max_area
        self.min_travel, self.max_speed = min_travel, max_speed
        self.min_level, self.learn = min_level, learn
        self._background: np.ndarray | None = None
        self._tracks: list[_Track] = []

    def reset(self) -> None:
        self._background = None
        self._tracks = []

    def update(self, gray: np.ndarray, at: float) -> list[Mover] | None:
        """The small things that have travelled, seen in this picture; None while the scene is being learnt."""
        picture = cv2.GaussianBlur(gray.astype(np.float32), (5, 5), 0)
        background = self._background
        if background is None or background.shape != picture.shape:
            self._background, self._tracks = picture, []
            return None
        difference = np.abs(picture - background)
        typical = float(np.median(difference))
        if typical > self.min_level:  # most of the picture changed: the lights, the exposure, the camera
            self._background, self._tracks = picture, []
            return None
        grain = 1.4826 * typical  # most of the picture is still: its median difference is the grain
        moving = difference > max(self.min_level, 5.0 * grain)
        mask = self.mask
        if mask is not None and mask.shape != moving.shape:  # a picture of another size than planned
            size = moving.shape[::-1]
            mask = self.mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        if mask is not None:
            moving &= mask
        watched = int(mask.sum()) if mask is not None else moving.size
        if watched == 0 or moving.sum() > GLOBAL_CHANGE * watched:
            self._background, self._tracks = picture, []
            return None
        # Learn the still parts quickly and the moving ones slowly: a mover does not burn in, a thing left
        # there does in the end.
        rate = np.where(moving, self.learn / 10, self.learn).astype(np.float32)
        background += rate * (picture - background)
        blobs = self._blobs(moving)
        return self._follow(blobs, at)

    def _blobs(self, moving: np.ndarray) -> list[tuple[float, float, BBox]]:
        cleaned = cv2.morphologyEx(moving.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        cleaned = cv2.dilate(cleaned, np.ones((3, 3), np.uint8))
        count, _, stats, centres = cv2.connectedComponentsWithStats(cleaned)
        height, width = moving.shape
        area = float(height * width)
        small, big = [], []
        for n in range(1, count):
            x, y, w, h, pixels = (int(v) for v in stats[n])
            share = pixels / area
            centre = (float(centres[n][0]) / width, float(centres[n][1]) / width)
            if share > self.max_area:
                big.append((x / width, y / width, (x + w) / width, (y + h) / width))
            elif share >= self.min_area:
                small.append((*centre, (x / width, y / height, w / width, h / height)))
        return [s for s in small if not any(_near(s[0], s[1], b) for b in big)]

    def _follow(self, blobs: list[tuple[float, float, BBox]], at: float) -> list[Mover]:
        self._tracks = [t for t in self._tracks if at - t.last_at <= 2.0]
        seen: list[_Track] = []
        for x, y, box in blobs:
            best: _Track | None = None
            best_distance = float("inf")
            for track in self._tracks:
                if track in seen:
                    continue
                last_at, lx, ly = track.points[-1]
                distance = float(np.hypot(x - lx, y - ly))
                if distance <= self.max_speed * (at - last_at) + 0.02 and distance < best_distance:
                    best, best_distance = track, distance
            if best is None:
                best = _Track([(at, x, y)], box)
                self._tracks.append(best)
            else:
                best.add(at, x, y, box)
            seen.append(best)
        return [
            Mover(t.box, round(t.travel, 3), len(t.points))
            for t in seen
            if len(t.points) >= 3 and t.travel >= self.min_travel
        ]


def _near(x: float, y: float, big: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = big
    return x0 - NEAR_BIG <= x <= x1 + NEAR_BIG and y0 - NEAR_BIG <= y <= y1 + NEAR_BIG

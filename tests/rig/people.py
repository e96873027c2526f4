"""Clips with real people in them, composed from Debian opencv-doc's `vtest.avi` (PETS footage of people walking
on a campus, 768x576, 10 fps): the empty scene is the per-pixel median of its frames (people never stand still
long enough to stay in it); a person is cut out of a frame where the shipped model finds them upright, and pasted
walking, standing or lying (turned on their side) onto the empty scene.

Each clip is H.264 at 10 fps, cached under `tests/.media` by its recipe."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import av
import cv2
import numpy as np

from tests.rig.media import clip_cache_dir, encode_pictures

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
FPS = 10
# A pedestrian in frame 660 (the shipped model finds them upright at 0.64, nobody near), cut out against the
# empty scene.
PERSON_FRAME = 660
PERSON_BOX = (288, 345, 366, 500)  # x0, y0, x1, y1 in pixels


@cache
def footage() -> tuple[np.ndarray, ...]:
    if not VTEST.exists():
        raise FileNotFoundError(f"{VTEST} is missing: install the Debian package opencv-doc (./dev install does)")
    with av.open(str(VTEST)) as container:
        return tuple(frame.to_ndarray(format="bgr24") for frame in container.decode(video=0))


@cache
def empty_scene() -> np.ndarray:
    return np.median(np.stack(footage()[::10]), axis=0).astype(np.uint8)


@cache
def person(scale: float = 1.2) -> tuple[np.ndarray, np.ndarray]:
    """(the person's picture, the mask of their pixels), scaled."""
    x0, y0, x1, y1 = PERSON_BOX
    crop = footage()[PERSON_FRAME][y0:y1, x0:x1]
    differs = np.abs(crop.astype(np.int16) - empty_scene()[y0:y1, x0:x1].astype(np.int16)).sum(axis=2) > 40
    mask = cv2.morphologyEx(differs.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    if count > 1:  # the person alone, not a passer-by's legs at the crop's edge
        mask = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    picture = cv2.resize(crop, None, fx=scale, fy=scale)
    return picture, cv2.resize(mask, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST).astype(bool)


def paste(scene: np.ndarray, picture: np.ndarray, mask: np.ndarray, foot: tuple[int, int]) -> np.ndarray:
    """`picture` onto a copy of `scene`, its bottom middle at `foot` (x, y)."""
    out = scene.copy()
    height, width = picture.shape[:2]
    x, y = foot[0] - width // 2, foot[1] - height
    region = out[y : y + height, x : x + width]
    region[mask] = picture[mask]
    return out


BOX = Path("/usr/share/doc/opencv-doc/examples/data/box.png")


@cache
def box() -> tuple[np.ndarray, np.ndarray]:
    """opencv-doc's photo of a box (grey) as a brown carton, and its mask."""
    grey = cv2.imread(str(BOX), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise FileNotFoundError(f"{BOX} is missing: install the Debian package opencv-doc")
    grey = cv2.resize(grey, None, fx=0.4, fy=0.4)
    carton = np.dstack([grey * 0.45, grey * 0.6, grey * 0.85]).astype(np.uint8)
    return carton, np.ones(grey.shape, bool)


@dataclass(frozen=True)
class Shot:
    """`seconds` of one of: "crowd" (the real footage from `start`), "empty", "walk" (from `a` to `b`),
    "stand" (at `a`), "lie" (on their side at `a`), "rat" (a rat running from `a` to `b`); with a carton
    standing at `box_at` where given; `night`: as a camera's infrared night picture (grey, darker, grainy)."""

    kind: str
    seconds: float
    a: tuple[int, int] = (0, 0)
    b: tuple[int, int] = (0, 0)
    start: int = 0
    box_at: tuple[int, int] | None = None
    night: bool = False


def frames(shots: Sequence[Shot]) -> Iterator[np.ndarray]:
    empty = empty_scene()
    upright, upright_mask = person()
    lying, lying_mask = (np.ascontiguousarray(np.rot90(a)) for a in person())
    grain = np.random.default_rng(7)
    for shot in shots:
        count = round(shot.seconds * FPS)
        scene = paste(empty, *box(), shot.box_at) if shot.box_at else empty
        for n in range(count):
            t = n / max(1, count - 1)
            along = (round(shot.a[0] + (shot.b[0] - shot.a[0]) * t), round(shot.a[1] + (shot.b[1] - shot.a[1]) * t))
            if shot.kind == "crowd":
                picture = footage()[(shot.start + n) % len(footage())]
            elif shot.kind in ("empty", "rat"):
                picture = scene
            elif shot.kind == "walk":
                picture = paste(scene, upright, upright_mask, along)
            elif shot.kind == "stand":
                picture = paste(scene, upright, upright_mask, shot.a)
            elif shot.kind == "lie":
                picture = paste(scene, lying, lying_mask, shot.a)
            else:
                raise ValueError(shot.kind)
            if shot.night:
                picture = night(picture, grain)
            yield rat(picture, along, shot.night) if shot.kind == "rat" else picture


def night(picture: np.ndarray, grain: np.random.Generator) -> np.ndarray:
    """The camera's infrared picture of the same scene: no colour, darker, grainy."""
    grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32) * 0.45 + 10
    grey += grain.normal(0, 4, grey.shape).astype(np.float32)
    return cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def rat(picture: np.ndarray, at: tuple[int, int], infrared: bool) -> np.ndarray:
    """A rat (a body of about 22x10 pixels and its tail) running at `at`: fur that shines under infrared, dark
    brown by day."""
    shape = np.zeros(picture.shape[:2], np.uint8)
    cv2.ellipse(shape, at, (11, 5), 0, 0, 360, 255, -1)
    cv2.line(shape, (at[0] - 10, at[1]), (at[0] - 24, at[1] + 3), 255, 2)
    alpha = cv2.GaussianBlur(shape, (5, 5), 0).astype(np.float32)[..., None] / 255
    fur = picture.astype(np.float32) + 45 if infrared else np.full_like(picture, (30, 45, 60), np.float32)
    return np.clip(picture * (1 - alpha) + fur * alpha, 0, 255).astype(np.uint8)


def people_clip(name: str, shots: Sequence[Shot]) -> Path:
    """The clip of `shots`, encoded once and cached by its recipe."""
    recipe = json.dumps([{k: v for k, v in shot.__dict__.items() if k != "night" or v} for shot in shots])
    path = clip_cache_dir() / f"people-{name}-{hashlib.sha1(recipe.encode()).hexdigest()[:10]}.mp4"
    return encode_pictures(path, frames(shots), FPS)

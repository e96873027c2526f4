"""Synthetic camera scenes: a corridor (evacuation route), a duty room, a kitchen and a gate, with people
walking through or staying, things left on the floor, the light dimmed, the lens covered, focus lost, the
camera turned.

Each scene is drawn frame by frame with numpy/OpenCV and encoded as a camera would (H.264 Main, no B-frames,
a fixed GOP) with PyAV. The demo cameras play them; the test rig and the detector benchmark use the same
scenes, labelled with the violations a detector should report (`Scene.truth`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

WIDTH, HEIGHT = 640, 360
# The route's floor in the corridor picture, normalised (what an installer would draw).
FLOOR_ZONE = [(0.30, 0.55), (0.70, 0.55), (0.95, 0.98), (0.05, 0.98)]
_PANORAMA = 1.8  # backdrops are wider than the view, so the camera can be turned
_VIEW_AT = 0.4  # where the view starts in the panorama, as a share of the view's width

Place = Literal["corridor", "duty_room", "kitchen", "gate"]
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Walker:
    """A person going from x0 to x1 (normalised) between t0 and t1; with x0 == x1 one who stays there."""

    t0: float
    t1: float
    x0: float
    x1: float
    y: float = 0.8
    colour: Colour = (60, 80, 160)


@dataclass(frozen=True)
class Thing:
    """A box, cart or chair standing on the floor from t0 to t1 (normalised centre and size)."""

    t0: float
    t1: float
    cx: float = 0.5
    cy: float = 0.78
    w: float = 0.30
    h: float = 0.32
    colour: Colour = (40, 120, 200)
    kind: str = "box"


@dataclass(frozen=True)
class Span:
    t0: float
    t1: float
    value: float = 0.0


@dataclass(frozen=True)
class Scene:
    name: str
    seconds: float
    place: Place = "corridor"
    walkers: tuple[Walker, ...] = ()
    things: tuple[Thing, ...] = ()
    dim: tuple[Span, ...] = ()  # light level (value) during the span; 1.0 otherwise
    cover: tuple[Span, ...] = ()
    blur: tuple[Span, ...] = ()  # Gaussian sigma (value)
    turn: tuple[Span, ...] = ()  # horizontal pan as a share of the width (value)
    truth: tuple[tuple[str, float, float], ...] = field(default=())  # (kind, start_s, end_s)


def _floor(img: np.ndarray, top: float, near: int, far: int, tile: int = 48) -> None:
    """A tiled floor from `top` (share of the height) down, lighter towards the camera."""
    h, w = img.shape[:2]
    floor_top = int(top * h)
    for y in range(floor_top, h):
        img[y, :] = (int(far + (near - far) * (y - floor_top) / (h - floor_top)),) * 3
    for x in range(0, w, tile):  # tile joints, converging away from the camera
        cv2.line(img, (x, floor_top), (x + (x - w // 2) // 3, h), (90, 90, 95), 1)
    for y in range(floor_top, h, 22):
        cv2.line(img, (0, y), (w, y), (95, 95, 100), 1)


def _corridor(rng: np.random.Generator, img: np.ndarray) -> None:
    h, w = img.shape[:2]
    img[:] = (170, 180, 185)
    _floor(img, 0.55, 160, 120)
    floor_top = int(0.55 * h)
    for i, x in enumerate(range(40, w - 80, 170)):  # doors and posters
        cv2.rectangle(img, (x, int(0.18 * h)), (x + 70, floor_top), (60 + 20 * (i % 3), 90, 130), -1)
        colour = tuple(int(c) for c in rng.integers(30, 230, 3))
        cv2.rectangle(img, (x + 90, int(0.22 * h)), (x + 140, int(0.38 * h)), colour, -1)
        cv2.putText(
            img, "EXIT" if i % 2 else "101", (x + 8, int(0.30 * h)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (240, 240, 240), 2
        )


def _duty_room(rng: np.random.Generator, img: np.ndarray) -> None:
    h, w = img.shape[:2]
    img[:] = (190, 195, 175)
    _floor(img, 0.62, 150, 115, tile=64)
    for x in range(60, w - 200, 300):
        cv2.rectangle(img, (x, int(0.12 * h)), (x + 150, int(0.40 * h)), (220, 200, 160), -1)  # window
        cv2.line(img, (x + 75, int(0.12 * h)), (x + 75, int(0.40 * h)), (120, 120, 120), 3)
    base = int(w / _PANORAMA * _VIEW_AT)
    cv2.rectangle(img, (base + 40, int(0.15 * h)), (base + 110, int(0.45 * h)), (40, 40, 190), -1)  # alarm panel
    cv2.putText(img, "FIRE", (base + 48, int(0.30 * h)), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2)
    desk_top = int(0.66 * h)
    cv2.rectangle(img, (base + 180, desk_top), (base + 560, desk_top + 18), (60, 90, 130), -1)  # the duty desk
    cv2.rectangle(img, (base + 200, desk_top + 18), (base + 215, h - 20), (50, 70, 100), -1)
    cv2.rectangle(img, (base + 525, desk_top + 18), (base + 540, h - 20), (50, 70, 100), -1)
    for x in (base + 240, base + 400):  # two monitors showing camera grids
        cv2.rectangle(img, (x, desk_top - 95), (x + 120, desk_top - 15), (30, 30, 30), -1)
        for gx in range(2):
            for gy in range(2):
                cv2.rectangle(
                    img,
                    (x + 6 + gx * 55, desk_top - 89 + gy * 36),
                    (x + 58 + gx * 55, desk_top - 57 + gy * 36),
                    tuple(int(c) for c in rng.integers(60, 200, 3)),
                    -1,
                )


def _kitchen(rng: np.random.Generator, img: np.ndarray) -> None:
    h, w = img.shape[:2]
    img[:] = (215, 215, 210)
    for y in range(0, int(0.55 * h), 24):  # wall tiles
        cv2.line(img, (0, y), (w, y), (190, 190, 185), 1)
    for x in range(0, w, 24):
        cv2.line(img, (x, 0), (x, int(0.55 * h)), (190, 190, 185), 1)
    _floor(img, 0.72, 140, 110, tile=40)
    counter = int(0.50 * h)
    cv2.rectangle(img, (0, counter), (w, int(0.72 * h)), (175, 175, 180), -1)  # stainless counter
    cv2.line(img, (0, counter), (w, counter), (120, 120, 125), 3)
    for i, x in enumerate(range(50, w - 120, 190)):
        cv2.rectangle(img, (x, int(0.10 * h)), (x + 130, int(0.22 * h)), (150, 150, 155), -1)  # hood
        cv2.circle(img, (x + 35, counter - 4), 26, (60, 60, 60), -1)  # woks on the stove
        cv2.circle(img, (x + 95, counter - 4), 20, (90, 90, 95), -1)
        if i % 2:
            cv2.rectangle(img, (x + 20, counter - 60), (x + 60, counter - 20), (30, 80, 170), -1)  # a pot
    cv2.rectangle(img, (int(w * 0.62), int(0.58 * h)), (int(w * 0.66), int(0.78 * h)), (40, 110, 40), -1)  # a bin


def _gate(rng: np.random.Generator, img: np.ndarray) -> None:
    h, w = img.shape[:2]
    img[: int(0.45 * h)] = (215, 190, 150)  # sky
    cv2.rectangle(img, (0, int(0.15 * h)), (w, int(0.45 * h)), (170, 175, 190), -1)  # the home's building
    for x in range(20, w, 70):
        cv2.rectangle(img, (x, int(0.20 * h)), (x + 40, int(0.32 * h)), (200, 170, 120), -1)
    _floor(img, 0.45, 145, 110, tile=90)  # the forecourt
    base = int(w / _PANORAMA * _VIEW_AT)
    for x in (base + 60, base + 540):  # gate pillars, the gate open between them
        cv2.rectangle(img, (x, int(0.20 * h)), (x + 40, int(0.80 * h)), (150, 150, 160), -1)
    cv2.putText(img, "GATE", (base + 280, int(0.27 * h)), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 160), 2)
    cv2.rectangle(img, (base + 100, int(0.48 * h)), (base + 150, int(0.78 * h)), (90, 110, 90), -1)  # guard booth


_BACKDROPS: dict[Place, Callable[[np.random.Generator, np.ndarray], None]] = {
    "corridor": _corridor,
    "duty_room": _duty_room,
    "kitchen": _kitchen,
    "gate": _gate,
}


def backdrop(place: Place, seed: int = 7) -> np.ndarray:
    """The place's panorama (wider than the view, for turning), with plaster and floor texture."""
    rng = np.random.default_rng(seed)
    img = np.zeros((HEIGHT, int(WIDTH * _PANORAMA), 3), np.uint8)
    _BACKDROPS[place](rng, img)
    return img.astype(np.float32) + rng.normal(0, 6, img.shape).astype(np.float32)


def _active(spans: tuple[Span, ...], t: float) -> Span | None:
    return next((s for s in spans if s.t0 <= t < s.t1), None)


def render(scene: Scene, t: float, base: np.ndarray, noise: np.ndarray) -> np.ndarray:
    turn = _active(scene.turn, t)
    offset = int((WIDTH * _VIEW_AT) + (turn.value * WIDTH if turn else 0.0))
    offset = max(0, min(base.shape[1] - WIDTH, offset))
    frame = base[:, offset : offset + WIDTH].copy()
    for thing in scene.things:
        if thing.t0 <= t < thing.t1:
            x = int((thing.cx - thing.w / 2) * WIDTH + WIDTH * _VIEW_AT - offset)
            y = int((thing.cy - thing.h / 2) * HEIGHT)
            w, h = int(thing.w * WIDTH), int(thing.h * HEIGHT)
            cv2.rectangle(frame, (x, y), (x + w, y + h), thing.colour, -1)
            cv2.rectangle(frame, (x, y), (x + w, y + h), (20, 20, 20), 2)
            if thing.kind == "cart":
                cv2.circle(frame, (x + 10, y + h), 8, (30, 30, 30), -1)
                cv2.circle(frame, (x + w - 10, y + h), 8, (30, 30, 30), -1)
            else:
                cv2.line(frame, (x, y + h // 3), (x + w, y + h // 3), (200, 200, 160), 3)
    for walker in scene.walkers:
        if walker.t0 <= t < walker.t1:
            share = (t - walker.t0) / (walker.t1 - walker.t0)
            cx = int((walker.x0 + (walker.x1 - walker.x0) * share) * WIDTH)
            cy = int(walker.y * HEIGHT)
            cv2.ellipse(frame, (cx, cy - 60), (22, 62), 0, 0, 360, walker.colour, -1)
            cv2.circle(frame, (cx, cy - 135), 16, (150, 170, 200), -1)
    dim = _active(scene.dim, t)
    if dim is not None:
        frame *= dim.value
    blur = _active(scene.blur, t)
    if blur is not None:
        frame = cv2.GaussianBlur(frame, (0, 0), blur.value)
    if _active(scene.cover, t) is not None:
        frame[:] = (28, 22, 25)  # a hand on the lens: dark, even, out of focus
    frame += noise
    picture: np.ndarray = np.clip(frame, 0, 255).astype(np.uint8)
    return picture


def encode(scene: Scene, path: Path, fps: int = 10, gop_seconds: float = 2.0) -> Path:
    """Encode `scene` to an H.264 MP4 at `path` (cached: a sidecar records what it was made from)."""
    sidecar = path.with_name(path.name + ".json")
    signature = json.dumps({"scene": asdict(scene), "fps": fps, "gop": gop_seconds, "v": 4}, sort_keys=True)
    if path.exists() and sidecar.exists() and sidecar.read_text() == signature:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    base = backdrop(scene.place)
    rng = np.random.default_rng(1)
    noises = [rng.normal(0, 3, (HEIGHT, WIDTH, 3)).astype(np.float32) for _ in range(6)]
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.mp4")  # two processes may build the same clip
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        gop = max(1, round(fps * gop_seconds))
        stream.options = {
            "preset": "veryfast",
            "crf": "26",
            "bf": "0",
            "g": str(gop),
            "keyint_min": str(gop),
            "sc_threshold": "0",
            "x264-params": "open-gop=0",
        }
        stream.codec_context.time_base = Fraction(1, fps)
        for i in range(int(scene.seconds * fps)):
            image = render(scene, i / fps, base, noises[i % len(noises)])
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    tmp.replace(path)
    sidecar.write_text(signature)
    return path


def people(seconds: float, every: float = 7.0, start: float = 1.0, colour: Colour | None = None) -> tuple[Walker, ...]:
    """People walking through now and then, both ways, some slowly."""
    out = []
    t, n = start, 0
    while t + 4 < seconds:
        duration = 3.0 + (n % 3) * 1.5
        x0, x1 = (0.05, 0.95) if n % 2 == 0 else (0.95, 0.05)
        out.append(
            Walker(t, t + duration, x0, x1, y=0.78 + 0.08 * (n % 3), colour=colour or ((40 * n) % 200 + 30, 80, 150))
        )
        t += every
        n += 1
    return tuple(out)

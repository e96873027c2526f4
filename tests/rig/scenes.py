"""Labelled corridor clips for the detectors: people walking through, things left on the route, the
light switched off and on, the lens covered, focus lost, the camera turned.

Each scene is drawn frame by frame with numpy/OpenCV and encoded like a camera would (H.264 Main, no
B-frames, fixed GOP) with PyAV. A scene carries its truth: the violations a detector should report.
Used by tests (short dwell) and by bench/detect_eval.py (default dwell).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT = 640, 360
# The route's floor in the corridor picture, normalised (what an installer would draw).
FLOOR_ZONE = [(0.30, 0.55), (0.70, 0.55), (0.95, 0.98), (0.05, 0.98)]


@dataclass(frozen=True)
class Walker:
    """A person crossing the picture from x0 to x1 (normalised) between t0 and t1."""

    t0: float
    t1: float
    x0: float
    x1: float
    y: float = 0.8
    colour: tuple[int, int, int] = (60, 80, 160)


@dataclass(frozen=True)
class Thing:
    """A box, cart or chair standing on the route from t0 to t1 (normalised centre and size)."""

    t0: float
    t1: float
    cx: float = 0.5
    cy: float = 0.78
    w: float = 0.30
    h: float = 0.32
    colour: tuple[int, int, int] = (40, 120, 200)
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
    walkers: tuple[Walker, ...] = ()
    things: tuple[Thing, ...] = ()
    dim: tuple[Span, ...] = ()  # light level (value) during the span; 1.0 otherwise
    cover: tuple[Span, ...] = ()
    blur: tuple[Span, ...] = ()  # Gaussian sigma (value)
    turn: tuple[Span, ...] = ()  # horizontal pan as a share of the width (value)
    truth: tuple[tuple[str, float, float], ...] = field(default=())  # (kind, start_s, end_s)


def _corridor(seed: int = 7) -> np.ndarray:
    """A wide corridor panorama (walls, doors, tiled floor, posters), wider than the view for turning."""
    rng = np.random.default_rng(seed)
    w, h = int(WIDTH * 1.8), HEIGHT
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (170, 180, 185)
    floor_top = int(0.55 * h)
    for y in range(floor_top, h):
        img[y, :] = (int(120 + 40 * (y - floor_top) / (h - floor_top)),) * 3
    for x in range(0, w, 48):  # tile joints
        cv2.line(img, (x, floor_top), (x + (x - w // 2) // 3, h), (90, 90, 95), 1)
    for y in range(floor_top, h, 22):
        cv2.line(img, (0, y), (w, y), (95, 95, 100), 1)
    for i, x in enumerate(range(40, w - 80, 170)):  # doors and posters
        cv2.rectangle(img, (x, int(0.18 * h)), (x + 70, floor_top), (60 + 20 * (i % 3), 90, 130), -1)
        cv2.rectangle(
            img, (x + 90, int(0.22 * h)), (x + 140, int(0.38 * h)), tuple(rng.integers(30, 230, 3).tolist()), -1
        )
        cv2.putText(
            img, "EXIT" if i % 2 else "101", (x + 8, int(0.30 * h)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (240, 240, 240), 2
        )
    return img.astype(np.float32) + rng.normal(0, 6, img.shape).astype(np.float32)  # plaster and floor texture


def _active(spans: tuple[Span, ...], t: float) -> Span | None:
    return next((s for s in spans if s.t0 <= t < s.t1), None)


def render(scene: Scene, t: float, base: np.ndarray, noise: np.ndarray) -> np.ndarray:
    turn = _active(scene.turn, t)
    offset = int((WIDTH * 0.4) + (turn.value * WIDTH if turn else 0.0))
    offset = max(0, min(base.shape[1] - WIDTH, offset))
    frame = base[:, offset : offset + WIDTH].copy()
    for thing in scene.things:
        if thing.t0 <= t < thing.t1:
            x = int((thing.cx - thing.w / 2) * WIDTH + WIDTH * 0.4 - offset)
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
    return np.clip(frame, 0, 255).astype(np.uint8)


def encode(scene: Scene, path: Path, fps: int = 10, gop_seconds: float = 2.0) -> Path:
    """Encode `scene` to an H.264 MP4 at `path` (cached: a sidecar records what it was made from)."""
    sidecar = path.with_name(path.name + ".json")
    signature = json.dumps({"scene": asdict(scene), "fps": fps, "gop": gop_seconds, "v": 3}, sort_keys=True)
    if path.exists() and sidecar.exists() and sidecar.read_text() == signature:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    base = _corridor()
    rng = np.random.default_rng(1)
    noises = [rng.normal(0, 3, (HEIGHT, WIDTH, 3)).astype(np.float32) for _ in range(6)]
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.mp4")  # two test runs may build the same clip
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


def people(seconds: float, every: float = 7.0, start: float = 1.0) -> tuple[Walker, ...]:
    """People walking through now and then, both ways, some slowly."""
    out = []
    t, n = start, 0
    while t + 4 < seconds:
        duration = 3.0 + (n % 3) * 1.5
        x0, x1 = (0.05, 0.95) if n % 2 == 0 else (0.95, 0.05)
        out.append(Walker(t, t + duration, x0, x1, y=0.78 + 0.08 * (n % 3), colour=((40 * n) % 200 + 30, 80, 150)))
        t += every
        n += 1
    return tuple(out)


def scenes(dwell_s: float) -> Iterator[Scene]:
    """The labelled set, timed for a blocked-route dwell of `dwell_s` seconds."""
    hold = dwell_s + 20  # a blocking longer than the dwell
    yield Scene("people_walking", seconds=dwell_s * 2 + 30, walkers=people(dwell_s * 2 + 30))
    yield Scene(
        "box_left",
        seconds=hold + 30,
        walkers=people(hold + 30, every=9),
        things=(Thing(10, 10 + hold),),
        truth=(("blocked_route", 10, 10 + hold),),
    )
    yield Scene(
        "cart_left",
        seconds=hold + 30,
        walkers=people(hold + 30, every=11),
        things=(Thing(8, 8 + hold, cx=0.42, w=0.40, h=0.26, colour=(170, 110, 60), kind="cart"),),
        truth=(("blocked_route", 8, 8 + hold),),
    )
    yield Scene(
        "chair_briefly",
        seconds=dwell_s + 30,
        things=(Thing(10, 10 + dwell_s / 2, w=0.25, h=0.3, colour=(30, 60, 110), kind="chair"),),
    )
    yield Scene("light_off_on", seconds=60, walkers=people(60, every=10), dim=(Span(15, 35, 0.35),))
    yield Scene(
        "box_in_dim_light",
        seconds=hold + 30,
        walkers=people(hold + 30, every=10),
        dim=(Span(5, hold + 30, 0.4),),
        things=(Thing(15, 15 + hold, colour=(45, 65, 90)),),
        truth=(("blocked_route", 15, 15 + hold),),
    )
    yield Scene(
        "light_flicker",
        seconds=70,
        walkers=people(70, every=6),
        dim=tuple(Span(t, t + 4, 0.3) for t in range(8, 64, 8)),
    )
    yield Scene(
        "person_lingering",
        seconds=dwell_s + 40,
        walkers=(Walker(8, 8 + dwell_s * 0.6, 0.45, 0.47, y=0.85), *people(dwell_s + 40, every=12, start=3)),
    )
    yield Scene("lens_covered", seconds=50, cover=(Span(20, 40),), truth=(("covered_lens", 20, 40),))
    yield Scene("focus_lost", seconds=50, blur=(Span(20, 40, 5.0),), truth=(("defocus", 20, 40),))
    yield Scene("camera_turned", seconds=50, turn=(Span(20, 50, 0.45),), truth=(("camera_moved", 20, 50),))

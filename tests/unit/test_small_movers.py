"""SmallMovers on drawn pictures: a blob that runs is a mover, grain and a blob flickering in place are not, a
change of the whole picture is learnt, big things are not small."""

from __future__ import annotations

import cv2
import numpy as np

from detectors.motion.small_movers import SmallMovers

SIZE = (360, 640)


def _scene(rng: np.random.Generator, blob: tuple[int, int] | None = None, radius: int = 6) -> np.ndarray:
    picture = np.clip(rng.normal(60, 4, SIZE), 0, 255).astype(np.uint8)
    if blob:
        cv2.circle(picture, blob, radius, 120, -1)
    return picture


def _run(pictures: list[np.ndarray]) -> list[list[object] | None]:
    movers = SmallMovers()
    return [movers.update(p, n * 0.2) for n, p in enumerate(pictures)]  # type: ignore[misc]


def test_a_blob_running_across_is_a_mover_after_three_sightings() -> None:
    rng = np.random.default_rng(1)
    results = _run([_scene(rng) for _ in range(5)] + [_scene(rng, (100 + 30 * n, 300)) for n in range(6)])
    assert results[0] is None and all(r == [] for r in results[1:7])
    assert results[7], results  # the third sighting, 60 px (0.09 of the width) from the first
    (mover,) = results[-1] or []
    assert mover.travel > 0.2 and mover.sightings == 6  # type: ignore[attr-defined]


def test_grain_and_a_blob_flickering_in_place_are_not_movers() -> None:
    rng = np.random.default_rng(2)
    flicker = [_scene(rng, (300, 200) if n % 2 else None) for n in range(30)]
    assert all(not r for r in _run(flicker))


def test_the_lights_coming_on_are_learnt_not_reported() -> None:
    rng = np.random.default_rng(3)
    dark = [_scene(rng) for _ in range(5)]
    bright = [np.clip(p.astype(np.int16) + 80, 0, 255).astype(np.uint8) for p in (_scene(rng) for _ in range(5))]
    results = _run(dark + bright)
    assert results[5] is None and all(r == [] for r in results[6:])


def test_a_big_thing_moving_is_not_small() -> None:
    rng = np.random.default_rng(4)
    pictures = [_scene(rng) for _ in range(3)] + [_scene(rng, (100 + 40 * n, 200), radius=40) for n in range(8)]
    assert all(not r for r in _run(pictures))

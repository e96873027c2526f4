"""The labelled corridor set for the detectors: people walking through, things left on the route, the light
switched off and on, the lens covered, focus lost, the camera turned. Each scene carries its truth: the
violations a detector should report. Drawn and encoded by the product's own scene renderer
(`service.demo.scenes`); used by tests (short dwell) and by bench/detect_eval.py (default dwell).
"""

from __future__ import annotations

from collections.abc import Iterator

from service.demo.scenes import FLOOR_ZONE, HEIGHT, WIDTH, Scene, Span, Thing, Walker, encode, people

__all__ = ["FLOOR_ZONE", "HEIGHT", "WIDTH", "Scene", "Thing", "encode", "people", "scenes"]


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

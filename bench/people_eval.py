"""Evaluation of the detectors that see people over labelled clips: per kind precision, recall, time to alarm.

    .venv/bin/python bench/people_eval.py [--dwell 30] [--route-dwell 60] [--rules duty,route,fall,after_hours,rodents]
                                          [--tamper] [--input-size 320]

The clips are composed from Debian opencv-doc's vtest.avi (PETS: people walking on a campus, 768x576, 10 fps) by
tests/rig/people.py: its empty scene, its real crowd (from a given frame), one pedestrian cut out of it and pasted
walking, standing or lying, a carton, a rat, and the camera's grey infrared night picture; a few clips put several
people at once (a queue) or a person onto the real crowd (`Group` here). Each is H.264 at 10 fps with a 2 s GOP,
cached under bench/.media/people_eval, and analysed as `vms analyze` does, with default parameters but those named:

  duty         值班脱岗 duty_absence on a duty-room camera, dwell `--dwell` (30 s; 600 s in service): rooms emptied
               by a crowd or by the guard (day and night) must alarm; a busy room, a guard standing still (near,
               or far off and small) or lying down for minutes and a break shorter than the dwell must not
  route        消防通道占用 blocked_route (dwell `--route-dwell`): people standing or queueing on the route for
               minutes (day, night, a queue of three, amid the real crowd) and people walking through must NOT
               alarm; cartons (left by a person, alone, with a person standing beside it) MUST; each clip of
               people is analysed again with ignore_people off, to show it would alarm without the model
  fall         人员跌倒 fall (dwell 3 s): a person walking then lying (near, on the far path, at night, amid the
               crowd, far off and small) must alarm; the empty scene (a cloth on the grass), the crowd, a carton
               walked past or set down by a person, a person standing still must not
  after_hours  非工作时间有人 after_hours_presence over a kitchen zone, armed 24 h (dwell 10 s): a person walking in,
               wandering, standing still, at night, far off and small, the real crowd must alarm; a walk through
               shorter than the dwell, someone outside the zone, empty scenes and lights switching must not
  rodents      疑似鼠患 rodents over the floor (lower 40 %): rats running at night (paths, speeds) must alarm, and so
               must one running while a person stands in view (the rule keeps quiet while the model finds anyone:
               a known blind spot, labelled as a rat all the same); grain, a person walking at night, the crowd at
               night, the lights switching and a rat by daylight (not this rule's by design) must not

Camera health (tamper) is switched off (the composed clips cut between scenes); `--tamper` keeps it on and
counts its alarms as false alarms of their kinds. Matching: a found violation counts for a labelled one of the same
kind when it starts within the label's span (+10 s); every other is a false alarm. Time to alarm is the alarm's
start minus the label's onset (the room emptied, the person down, the carton set down, the rat running); "- dwell"
subtracts the rule's dwell, what the rules themselves add. Model runs are SharedFrameModels.runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.int8_person import int8_person_model
from detectors.models.frame_models import SharedFrameModels
from detectors.offline.analyze import FoundViolation, analysis_camera, analyze
from detectors.registry import detector_settings
from tests.rig import people as rig
from tests.rig.media import encode_pictures
from tests.rig.people import Shot

FOLDER = ROOT / "bench" / ".media" / "people_eval"
RULES = ("duty", "route", "fall", "after_hours", "rodents")
KITCHEN = [[0.1, 0.4], [0.9, 0.4], [0.9, 0.95], [0.1, 0.95]]  # x 77-691, y 230-547 px
FLOOR = [[0.0, 0.6], [1.0, 0.6], [1.0, 1.0], [0.0, 1.0]]  # the lower part of the picture
# Route zones drawn on the floor where each clip's person or carton stands (person 94x186 px, carton 130x89 px).
ROUTE_CENTRE = [[0.44, 0.5], [0.55, 0.5], [0.55, 0.77], [0.44, 0.77]]  # tests/test_people.py's
ROUTE_CARTON = [[0.38, 0.55], [0.62, 0.55], [0.62, 0.82], [0.38, 0.82]]
ROUTE_RIGHT = [[0.67, 0.62], [0.79, 0.62], [0.79, 0.9], [0.67, 0.9]]
ROUTE_QUEUE = [[0.33, 0.5], [0.7, 0.5], [0.7, 0.82], [0.33, 0.82]]
ROUTE_LEFT = [[0.22, 0.64], [0.43, 0.64], [0.43, 0.86], [0.22, 0.86]]


@dataclass(frozen=True)
class Group:
    """`seconds` of several people at once: standing at `standing` (each shifts a few pixels now and then, as
    people waiting do), lying at `lying`, one walking from `walk[0]` to `walk[1]`; on the empty scene, or on the
    real crowd from frame `crowd`; a carton at `box_at`; a rat running from `rat[0]` to `rat[1]`; `night`: the
    infrared night picture; `scale`: the pedestrian's (1.2 in the rig's shots: 186 px tall; 0.6 is someone far
    off, 93 px)."""

    seconds: float
    standing: tuple[tuple[int, int], ...] = ()
    lying: tuple[tuple[int, int], ...] = ()
    walk: tuple[tuple[int, int], tuple[int, int]] | None = None
    crowd: int | None = None
    box_at: tuple[int, int] | None = None
    rat: tuple[tuple[int, int], tuple[int, int]] | None = None
    night: bool = False
    scale: float = 1.2


Segment = Shot | Group


@dataclass
class Clip:
    rule: str
    name: str
    segments: list[Segment]
    truth: tuple[tuple[str, float, float], ...] = ()
    zone: list[list[float]] | None = None  # the route's zone
    seconds: float = field(init=False)

    def __post_init__(self) -> None:
        self.seconds = sum(s.seconds for s in self.segments)


def at(segments: Sequence[Segment], index: int) -> float:
    """When segment `index` starts, in seconds."""
    return float(sum(s.seconds for s in segments[:index]))


def _group_frames(group: Group) -> Iterator[np.ndarray]:
    upright, upright_mask = rig.person(group.scale)
    lying, lying_mask = (np.ascontiguousarray(np.rot90(a)) for a in rig.person(group.scale))
    grain = np.random.default_rng(11)
    count = round(group.seconds * rig.FPS)
    for n in range(count):
        if group.crowd is not None:
            picture = rig.footage()[(group.crowd + n) % len(rig.footage())]
        else:
            picture = rig.empty_scene()
        if group.box_at:
            picture = rig.paste(picture, *rig.box(), group.box_at)
        for foot in group.lying:
            picture = rig.paste(picture, lying, lying_mask, foot)
        for k, (x, y) in enumerate(group.standing):
            shift = ((n // (rig.FPS * 4) + k) % 3 - 1) * 3  # a step of 3 px every 4 s, each in their own time
            picture = rig.paste(picture, upright, upright_mask, (x + shift, y))
        t = n / max(1, count - 1)
        if group.walk:
            picture = rig.paste(picture, upright, upright_mask, _along(group.walk, t))
        if group.night:
            picture = rig.night(picture, grain)
        yield rig.rat(picture, _along(group.rat, t), group.night) if group.rat else picture


def _along(path: tuple[tuple[int, int], tuple[int, int]], t: float) -> tuple[int, int]:
    (ax, ay), (bx, by) = path
    return round(ax + (bx - ax) * t), round(ay + (by - ay) * t)


def frames(segments: Sequence[Segment]) -> Iterator[np.ndarray]:
    for segment in segments:
        yield from rig.frames([segment]) if isinstance(segment, Shot) else _group_frames(segment)


def encode(clip: Clip) -> Path:
    """The clip as a camera would send it (H.264, no B-frames, 2 s GOP), encoded once and cached by its recipe."""
    recipe = json.dumps([[type(s).__name__, s.__dict__] for s in clip.segments])
    path = FOLDER / f"{clip.rule}-{clip.name}-{hashlib.sha1(recipe.encode()).hexdigest()[:10]}.mp4"
    return encode_pictures(path, frames(clip.segments), rig.FPS)


def duty_clips(dwell: float) -> list[Clip]:
    d = dwell
    clips = []
    s: list[Segment] = [Shot("crowd", 15, start=300), Shot("empty", d + 30)]
    clips.append(Clip("duty", "crowd-leaves", s, (("duty_absent", 15, s_end(s)),)))
    s = [
        Shot("crowd", 10, start=0),
        Shot("empty", d + 20),
        Shot("walk", 4, (60, 470), (380, 470)),
        Shot("stand", 20, (380, 470)),
    ]
    clips.append(Clip("duty", "crowd-leaves-one-back", s, (("duty_absent", 10, at(s, 2)),)))
    s = [Shot("stand", 30, (380, 450)), Shot("walk", 4, (380, 450), (60, 450)), Shot("empty", d + 25)]
    clips.append(Clip("duty", "guard-walks-out", s, (("duty_absent", at(s, 2), s_end(s)),)))
    s = [
        Shot("stand", 20, (600, 400), night=True),
        Shot("walk", 4, (600, 400), (700, 250), night=True),
        Shot("empty", d + 25, night=True),
    ]
    clips.append(Clip("duty", "guard-out-night", s, (("duty_absent", at(s, 2), s_end(s)),)))
    clips.append(Clip("duty", "guard-still", [Shot("stand", 2 * d + 30, (250, 520))]))
    s = [Shot("walk", 4, (200, 500), (400, 500)), Shot("lie", 2 * d + 10, (400, 500))]
    clips.append(Clip("duty", "guard-lying", s))
    clips.append(Clip("duty", "busy-room", [Shot("crowd", d + 20, start=450)]))
    s = [Group(4, walk=((700, 250), (600, 300)), scale=0.6), Group(2 * d + 10, standing=((600, 300),), scale=0.6)]
    clips.append(Clip("duty", "distant-guard-still", s))
    s = [
        Shot("stand", 15, (380, 450)),
        Shot("walk", 3, (380, 450), (60, 450)),
        Shot("empty", round(0.6 * d)),
        Shot("walk", 3, (60, 450), (380, 450)),
        Shot("stand", 15, (380, 450)),
    ]
    clips.append(Clip("duty", "break-under-dwell", s))
    return clips


def s_end(segments: Sequence[Segment]) -> float:
    return at(segments, len(segments))


def route_clips(dwell: float) -> list[Clip]:
    stay = dwell + 60  # people standing "for minutes": a minute past the dwell
    clips = []
    s: list[Segment] = [
        Shot("empty", 8),
        Shot("walk", 3, (150, 450), (380, 450)),
        Shot("stand", stay, (380, 450)),
        Shot("empty", 10),
    ]
    clips.append(Clip("route", "person-standing", s, zone=ROUTE_CENTRE))
    s = [
        Shot("empty", 8, night=True),
        Shot("walk", 3, (700, 520), (560, 520), night=True),
        Shot("stand", stay, (560, 520), night=True),
        Shot("empty", 10, night=True),
    ]
    clips.append(Clip("route", "person-standing-night", s, zone=ROUTE_RIGHT))
    s = [
        Shot("empty", 8),
        Group(3, walk=((100, 470), (300, 470))),
        Group(4, standing=((300, 470),), walk=((700, 450), (400, 460))),
        Group(4, standing=((300, 470), (400, 460)), walk=((700, 450), (500, 450))),
        Group(stay, standing=((300, 470), (400, 460), (500, 450))),
        Shot("empty", 10),
    ]
    clips.append(Clip("route", "queue-of-three", s, zone=ROUTE_QUEUE))
    s = [
        Shot("crowd", 8, start=150),
        Group(3, walk=((150, 450), (380, 450)), crowd=230),
        Group(stay, standing=((380, 450),), crowd=260),
        Shot("crowd", 10, start=(260 + round(stay * 10)) % 795),
    ]
    clips.append(Clip("route", "person-amid-crowd", s, zone=ROUTE_CENTRE))
    walks: list[Segment] = [Shot("empty", 8)]
    for n in range(round(stay / 10)):
        a, b = ((100, 450 + 5 * n), (650, 460)) if n % 2 == 0 else ((650, 460), (100, 450 - 5 * n))
        walks.append(Shot("walk", 10, a, b))
    clips.append(Clip("route", "people-walking-through", walks, zone=ROUTE_CENTRE))
    s = [
        Shot("empty", 8),
        Shot("walk", 3, (150, 450), (330, 450)),
        Shot("stand", 20, (330, 450), box_at=(420, 450)),
        Shot("walk", 3, (330, 450), (80, 450), box_at=(420, 450)),
        Shot("empty", dwell + 40, box_at=(420, 450)),
    ]
    clips.append(Clip("route", "carton-left-by-person", s, (("blocked_route", at(s, 2), s_end(s)),), ROUTE_CARTON))
    s = [Shot("empty", 10), Shot("empty", dwell + 40, box_at=(250, 480))]
    clips.append(Clip("route", "carton-alone", s, (("blocked_route", 10, s_end(s)),), ROUTE_LEFT))
    s = [
        Shot("empty", 8),
        Shot("walk", 3, (150, 450), (330, 450)),
        Group(dwell + 40, standing=((330, 450),), box_at=(430, 455)),
    ]
    clips.append(Clip("route", "carton-beside-person", s, (("blocked_route", at(s, 2), s_end(s)),), ROUTE_CARTON))
    return clips


def fall_clips() -> list[Clip]:
    clips = []
    s: list[Segment] = [
        Shot("empty", 2),
        Shot("walk", 4, (200, 420), (400, 420)),
        Shot("lie", 12, (400, 420)),
        Shot("empty", 8),
    ]
    clips.append(Clip("fall", "walk-fall", s, (("fall", at(s, 2), at(s, 3)),)))
    s = [
        Shot("walk", 5, (650, 520), (350, 520)),
        Shot("lie", 20, (350, 520)),
        Shot("stand", 5, (350, 520)),
        Shot("walk", 4, (350, 520), (100, 520)),
    ]
    clips.append(Clip("fall", "fall-and-get-up", s, (("fall", at(s, 1), at(s, 2)),)))
    s = [Shot("walk", 4, (100, 300), (250, 300)), Shot("lie", 15, (250, 300)), Shot("empty", 10)]
    clips.append(Clip("fall", "far-on-the-path", s, (("fall", at(s, 1), at(s, 2)),)))
    s = [
        Shot("empty", 3, night=True),
        Shot("walk", 4, (500, 380), (300, 380), night=True),
        Shot("lie", 15, (300, 380), night=True),
        Shot("empty", 8, night=True),
    ]
    clips.append(Clip("fall", "night", s, (("fall", at(s, 2), at(s, 3)),)))
    s = [
        Shot("walk", 10, (80, 500), (600, 480)),
        Shot("walk", 5, (600, 480), (500, 420)),
        Shot("lie", 30, (500, 420)),
        Shot("empty", 5),
    ]
    clips.append(Clip("fall", "long-walk-long-down", s, (("fall", at(s, 2), at(s, 3)),)))
    s = [
        Group(4, walk=((150, 500), (380, 500)), crowd=600),
        Group(15, lying=((380, 500),), crowd=640),
        Shot("crowd", 8, start=790),
    ]
    clips.append(Clip("fall", "amid-crowd", s, (("fall", at(s, 1), at(s, 2)),)))
    s = [
        Group(5, walk=((700, 280), (550, 300)), scale=0.6),
        Group(15, lying=((550, 300),), scale=0.6),
        Shot("empty", 8),
    ]
    clips.append(Clip("fall", "far-off-small", s, (("fall", at(s, 1), at(s, 2)),)))
    clips.append(Clip("fall", "empty-scene", [Shot("empty", 40)]))
    clips.append(Clip("fall", "crowd", [Shot("crowd", 30, start=200)]))
    s = [
        Shot("empty", 5, box_at=(450, 500)),
        Shot("walk", 6, (100, 430), (650, 430), box_at=(450, 500)),
        Shot("empty", 20, box_at=(450, 500)),
    ]
    clips.append(Clip("fall", "walk-past-carton", s))
    s = [
        Shot("walk", 4, (150, 470), (400, 470)),
        Shot("stand", 5, (400, 470), box_at=(500, 480)),
        Shot("walk", 4, (400, 470), (700, 470), box_at=(500, 480)),
        Shot("empty", 20, box_at=(500, 480)),
    ]
    clips.append(Clip("fall", "carton-set-down", s))
    s = [
        Shot("walk", 4, (150, 470), (400, 470)),
        Shot("stand", 20, (400, 470)),
        Shot("walk", 4, (400, 470), (700, 470)),
    ]
    clips.append(Clip("fall", "standing-still", s))
    return clips


def after_hours_clips() -> list[Clip]:
    clips = []
    s: list[Segment] = [
        Shot("empty", 5),
        Shot("walk", 3, (150, 450), (380, 450)),
        Shot("stand", 12, (380, 450)),
        Shot("empty", 10),
    ]
    clips.append(Clip("after_hours", "walk-in-stand", s, (("after_hours_presence", at(s, 1), at(s, 3)),)))
    s = [
        Shot("empty", 4),
        Shot("walk", 12, (120, 540), (600, 300)),
        Shot("walk", 12, (600, 300), (300, 500)),
        Shot("empty", 10),
    ]
    clips.append(Clip("after_hours", "wandering", s, (("after_hours_presence", at(s, 1), at(s, 3)),)))
    s = [
        Shot("empty", 5, night=True),
        Shot("walk", 4, (650, 520), (400, 480), night=True),
        Shot("stand", 20, (400, 480), night=True),
        Shot("empty", 10, night=True),
    ]
    clips.append(Clip("after_hours", "night", s, (("after_hours_presence", at(s, 1), at(s, 3)),)))
    s = [Shot("empty", 8), Shot("crowd", 25, start=700), Shot("empty", 10)]
    clips.append(Clip("after_hours", "crowd", s, (("after_hours_presence", at(s, 1), at(s, 2)),)))
    s = [
        Shot("empty", 3),
        Shot("walk", 3, (100, 520), (220, 520)),
        Shot("stand", 60, (220, 520)),
        Shot("walk", 3, (220, 520), (100, 520)),
        Shot("empty", 8),
    ]
    clips.append(Clip("after_hours", "standing-still-a-minute", s, (("after_hours_presence", at(s, 1), at(s, 4)),)))
    s = [
        Shot("empty", 5),
        Group(6, walk=((200, 260), (450, 280)), scale=0.6),
        Group(15, standing=((450, 280),), scale=0.6),
        Shot("empty", 8),
    ]
    clips.append(Clip("after_hours", "far-off-small", s, (("after_hours_presence", at(s, 1), at(s, 3)),)))
    s = [Shot("empty", 5), Shot("walk", 4, (100, 500), (650, 500)), Shot("empty", 15)]
    clips.append(Clip("after_hours", "walk-through-under-dwell", s))
    s = [Shot("empty", 3), Shot("walk", 3, (715, 560), (715, 330)), Shot("stand", 25, (715, 330)), Shot("empty", 5)]
    clips.append(Clip("after_hours", "outside-the-zone", s))
    clips.append(Clip("after_hours", "empty", [Shot("empty", 40)]))
    s = [Shot("empty", 10), Shot("empty", 10, night=True), Shot("empty", 10), Shot("empty", 10, night=True)]
    clips.append(Clip("after_hours", "lights-switching", s))
    return clips


def rodent_clips() -> list[Clip]:
    clips = []
    for name, seconds, a, b in (
        ("rat-across", 4, (100, 520), (600, 500)),
        ("rat-diagonal-back", 3, (700, 420), (250, 560)),
        ("rat-slow-short", 8, (300, 450), (460, 470)),
        ("rat-near-zone-top", 3, (150, 380), (500, 370)),
        ("rat-fast", 2, (50, 560), (450, 540)),
    ):
        s: list[Segment] = [
            Shot("empty", 6, night=True),
            Shot("rat", seconds, a, b, night=True),
            Shot("empty", 12, night=True),
        ]
        clips.append(Clip("rodents", name, s, (("suspected_rodents", at(s, 1), at(s, 2)),)))
    clips.append(Clip("rodents", "grain", [Shot("empty", 40, night=True)]))
    s = [
        Shot("empty", 4),
        Shot("empty", 6, night=True),
        Shot("walk", 4, (150, 450), (500, 450), night=True),
        Shot("empty", 10, night=True),
    ]
    clips.append(Clip("rodents", "person-at-night", s))
    clips.append(Clip("rodents", "crowd-night", [Shot("crowd", 30, start=400, night=True)]))
    s = [
        Shot("empty", 6),
        Shot("empty", 6, night=True),
        Shot("empty", 6),
        Shot("empty", 6, night=True),
        Shot("empty", 6),
    ]
    clips.append(Clip("rodents", "lights-switching", s))
    s = [Shot("empty", 6), Shot("rat", 4, (100, 520), (600, 500)), Shot("empty", 8)]
    clips.append(Clip("rodents", "rat-by-day", s))  # lights on: not this rule's by design
    s = [
        Group(8, standing=((150, 330),), night=True),
        Group(4, standing=((150, 330),), rat=((250, 520), (700, 500)), night=True),
        Group(10, standing=((150, 330),), night=True),
    ]
    # Someone in view at night (a cleaner, a guard): the rule says nothing while the model finds anyone.
    clips.append(Clip("rodents", "rat-while-person-in-view", s, (("suspected_rodents", at(s, 1), at(s, 2)),)))
    return clips


def rules(clip: Clip, args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    """The clip's camera: its detectors and role; with `--input-size` and `--int8`, the person model's input and
    file for the rules that look for people."""
    detectors, role = _rules(clip, args)
    for detector in detectors:
        person: dict[str, Any] = {}
        if args.input_size and detector["type"] in ("duty_absence", "fall", "after_hours_presence"):
            person["input_size"] = args.input_size
        if args.int8:
            person["path"] = str(int8_person_model())  # every rule that looks for people
        if person:
            params = detector.setdefault("params", {})
            params["person"] = {**params.get("person", {}), **person}
    return detectors, role


def _rules(clip: Clip, args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    if clip.rule == "duty":
        return [{"type": "duty_absence", "params": {"dwell_s": args.dwell}}], "duty_room"
    if clip.rule == "route":
        route = {"type": "blocked_route", "zones": [{"name": "通道", "points": clip.zone}]}
        return [{**route, "params": {"dwell_s": args.route_dwell}}], "evacuation_route"
    if clip.rule == "fall":
        return [{"type": "fall"}], "other"
    if clip.rule == "after_hours":
        zone = {"name": "操作间", "points": KITCHEN}
        # The clip's times (the first seconds of 1970, local time) are all out of hours.
        return [
            {"type": "after_hours_presence", "zones": [zone], "schedule": [{"start": "00:00", "end": "24:00"}]}
        ], "kitchen"
    return [{"type": "rodents", "zones": [{"name": "地面", "points": FLOOR}]}], "kitchen"


DWELL = {"fall": 3.0, "after_hours_presence": 10.0, "suspected_rodents": 2.0}  # the rules' defaults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dwell", type=float, default=30.0, help="duty-absence dwell in seconds (default 30)")
    parser.add_argument("--route-dwell", type=float, default=60.0, help="blocked-route dwell (default 60)")
    parser.add_argument("--rules", default=",".join(RULES), help=f"which rules (default {','.join(RULES)})")
    parser.add_argument("--tamper", action="store_true", help="keep camera health on and count its alarms")
    parser.add_argument(
        "--input-size", type=int, help="the person model's long side for duty, fall and after-hours (default 640)"
    )
    parser.add_argument("--int8", action="store_true", help="the person model in int8 (bench/int8_person.py)")
    args = parser.parse_args()
    chosen = [r.strip() for r in args.rules.split(",") if r.strip()]
    unknown = sorted(set(chosen) - set(RULES))
    if unknown:
        parser.error(f"unknown rules {unknown}: choose from {', '.join(RULES)}")
    if not rig.VTEST.exists():
        sys.exit(f"{rig.VTEST} is missing: install the Debian package opencv-doc (./dev install does)")
    FOLDER.mkdir(parents=True, exist_ok=True)
    dwell = {**DWELL, "duty_absent": args.dwell, "blocked_route": args.route_dwell}
    every = {
        "duty": lambda: duty_clips(args.dwell),
        "route": lambda: route_clips(args.route_dwell),
        "fall": fall_clips,
        "after_hours": after_hours_clips,
        "rodents": rodent_clips,
    }
    clips = [clip for rule in chosen for clip in every[rule]()]
    print("command: " + " ".join([".venv/bin/python", "bench/people_eval.py", *sys.argv[1:]]))
    began = time.time()
    encoding = 0.0
    counts: dict[str, dict[str, Any]] = {}
    video_s, runs_total = 0.0, 0
    blind_alarms = 0  # route clips of people that alarm with ignore_people off
    print(f"\n{'rule/clip':40} {'s':>4} {'runs':>5}  {'truth':30} found")
    for clip in clips:
        encoded_at = time.time()
        path = encode(clip)
        encoding += time.time() - encoded_at
        detectors, role = rules(clip, args)
        if not args.tamper:
            detectors.append({"type": "tamper", "enabled": False})
        before = SharedFrameModels.runs
        settings = detector_settings(detectors)
        found: list[FoundViolation] = list(analyze(path, analysis_camera(settings, role)))  # type: ignore[arg-type]
        runs = SharedFrameModels.runs - before
        runs_total += runs
        video_s += clip.seconds
        unmatched = list(found)
        for kind, start, end in clip.truth:
            c = counts.setdefault(kind, {"tp": 0, "fp": 0, "fn": 0, "delays": [], "misses": [], "false": []})
            match = next((f for f in unmatched if f.type == kind and start <= f.start_s <= end + 10), None)
            if match is None:
                c["fn"] += 1
                c["misses"].append(clip.name)
                continue
            unmatched.remove(match)
            c["tp"] += 1
            c["delays"].append(match.start_s - start)
        for extra in unmatched:
            c = counts.setdefault(extra.type, {"tp": 0, "fp": 0, "fn": 0, "delays": [], "misses": [], "false": []})
            c["fp"] += 1
            c["false"].append(clip.name)
        truth = ", ".join(f"{k} {s:g}-{e:g}s" for k, s, e in clip.truth) or "- (none expected)"
        shown = ", ".join(f"{f.type} {f.start_s:g}-{f.end_s:g}s" for f in found) or "-"
        print(f"{clip.rule + '/' + clip.name:40} {clip.seconds:4.0f} {runs:5}  {truth:30} {shown}", flush=True)
        if clip.rule == "route" and not clip.truth:
            # The control: the same clip with people not looked for (the route as it was before the person model).
            blind = [{**detectors[0], "params": {**detectors[0]["params"], "ignore_people": False}}, *detectors[1:]]
            plain = list(analyze(path, analysis_camera(detector_settings(blind), role)))  # type: ignore[arg-type]
            blind_alarms += bool(plain)
            shown = ", ".join(f"{f.type} {f.start_s:g}-{f.end_s:g}s" for f in plain) or "-"
            print(f"{'  ... people not looked for':40} {'':4} {'':5}  {'':30} {shown}", flush=True)
    elapsed = time.time() - began
    print(
        f"\nduty dwell {args.dwell:g} s, route dwell {args.route_dwell:g} s, tamper {'on' if args.tamper else 'off'}; "
        f"{len(clips)} clips, {video_s / 60:.1f} min of video analysed in {elapsed:.0f} s "
        f"({encoding:.0f} s of it encoding clips not yet cached); {runs_total} person-model runs "
        f"({runs_total / (video_s / 60):.1f} a minute of video)\n"
    )
    print(
        f"{'kind':21} {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>7} {'time to alarm med/max':>22} "
        f"{'- dwell med/max':>16}"
    )
    for kind, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        if c["delays"]:
            median, worst = statistics.median(c["delays"]), max(c["delays"])
            delay = f"{median:.1f} / {worst:.1f} s"
            rule_dwell = dwell.get(kind)
            minus = f"{median - rule_dwell:.1f} / {worst - rule_dwell:.1f} s" if rule_dwell is not None else "-"
        else:
            delay = minus = "-"
        print(f"{kind:21} {c['tp']:3} {c['fp']:3} {c['fn']:3} {precision:9.0%} {recall:7.0%} {delay:>22} {minus:>16}")
    problems = [(k, "missed", n) for k, c in counts.items() for n in c["misses"]]
    problems += [(k, "false alarm", n) for k, c in counts.items() for n in c["false"]]
    print()
    for kind, what, name in problems:
        print(f"{what}: {kind} on {name}")
    if not problems:
        print("no miss, no false alarm")
    if "route" in chosen:
        people = [c for c in clips if c.rule == "route" and not c.truth]
        cartons = [c for c in clips if c.rule == "route" and c.truth]
        route = counts.get("blocked_route", {"false": [], "tp": 0})
        wrong = sum(1 for c in people if c.name in route["false"])
        print(
            f"\nperson on the route: {wrong} of {len(people)} clips of people standing, queueing or walking on the "
            f"route raised a blocked-route alarm (expected 0); cartons: {route['tp']} of {len(cartons)} alarmed "
            f"(expected all); with people not looked for (ignore_people false) {blind_alarms} of {len(people)} "
            "clips of people alarm"
        )


if __name__ == "__main__":
    main()

"""Detector evaluation over labelled clips: per-type precision, recall and median time to alarm.

    .venv/bin/python bench/detect_eval.py [--dwell 60]

The set: the corridor scenes the tests generate (tests/rig/scenes.py: people walking through, a box,
a cart and, briefly, a chair left on the route, the light switched off and on, the lens covered, focus
lost, the camera turned), timed for the given dwell; and real footage, Debian opencv-doc's vtest.avi
(people walking on a plaza, no stationary object: no alarm expected) and vtest.avi with a real photo
of a box (opencv-doc's box.png) pasted onto the walkway from 30 s to 120 s. Every clip is encoded like a
camera's stream (H.264, no B-frames, 2 s GOP) and analysed as `vms analyze` does, with default
parameters but the dwell. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from detectors.offline.analyze import FoundViolation, analysis_camera, analyze, parse_zone
from detectors.plugins.blocked_route import BlockedRouteSettings
from tests.rig.scenes import FLOOR_ZONE, HEIGHT, WIDTH, encode, scenes

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
VTEST_ZONE = "0,190 440,200 440,300 300,290 170,245 0,245"  # the paved walkway, left of the lamp post
BOX_SPAN = (30.0, 120.0)
TYPES = ("blocked_route", "covered_lens", "defocus", "camera_moved")


@dataclass
class Clip:
    name: str
    path: Path
    zone: str
    truth: tuple[tuple[str, float, float], ...]
    seconds: float


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def vtest_clips(folder: Path) -> list[Clip]:
    vtest, box = OPENCV_DATA / "vtest.avi", OPENCV_DATA / "box.png"
    if not vtest.exists():
        sys.exit(f"{vtest} is missing: install the Debian package opencv-doc (./dev install does)")
    camera_like = [
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-bf",
        "0",
        "-g",
        "20",
        "-keyint_min",
        "20",
        "-sc_threshold",
        "0",
        "-pix_fmt",
        "yuv420p",
    ]
    plain, pasted = folder / "vtest-h264.mp4", folder / "vtest-box.mp4"
    if not plain.exists():  # vtest.avi is 79.5 s at 10 fps: played twice
        _ffmpeg("-stream_loop", "1", "-i", str(vtest), *camera_like, str(plain))
    if not pasted.exists():
        start, end = BOX_SPAN
        _ffmpeg(
            "-stream_loop",
            "1",
            "-i",
            str(vtest),
            "-i",
            str(box),
            "-filter_complex",
            f"[1]scale=130:-2[box];[0][box]overlay=210:205:enable='between(t,{start:g},{end:g})'",
            *camera_like,
            str(pasted),
        )
    return [
        Clip("vtest (people only)", plain, VTEST_ZONE, (), 159.0),
        Clip("vtest + pasted box", pasted, VTEST_ZONE, (("blocked_route", *BOX_SPAN),), 159.0),
    ]


def scene_clips(folder: Path, dwell: float) -> list[Clip]:
    zone = " ".join(f"{round(x * WIDTH)},{round(y * HEIGHT)}" for x, y in FLOOR_ZONE)
    return [
        Clip(s.name, encode(s, folder / f"{s.name}-dwell{dwell:g}.mp4", fps=10), zone, s.truth, s.seconds)
        for s in scenes(dwell)
    ]


def run(clip: Clip, dwell: float) -> list[FoundViolation]:
    import av

    with av.open(str(clip.path)) as container:
        width, height = container.streams.video[0].width, container.streams.video[0].height
    route = BlockedRouteSettings(zones=[parse_zone(clip.zone, "route", width, height)], params={"dwell_s": dwell})
    return list(analyze(clip.path, analysis_camera([route], "evacuation_route")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dwell", type=float, default=60.0, help="blocked-route dwell in seconds (default 60)")
    args = parser.parse_args()
    folder = ROOT / "bench" / ".media" / "detect_eval"
    folder.mkdir(parents=True, exist_ok=True)
    began = time.time()
    clips = scene_clips(folder, args.dwell) + vtest_clips(folder)
    counts = {t: {"tp": 0, "fp": 0, "fn": 0, "delays": []} for t in TYPES}
    video_s = 0.0
    print(f"{'clip':26} {'truth':34} found")
    for clip in clips:
        found = run(clip, args.dwell)
        video_s += clip.seconds
        unmatched = list(found)
        for kind, start, end in clip.truth:
            match = next((f for f in unmatched if f.type == kind and start <= f.start_s <= end + 10), None)
            if match is None:
                counts[kind]["fn"] += 1
                continue
            unmatched.remove(match)
            counts[kind]["tp"] += 1
            counts[kind]["delays"].append(match.start_s - start)
        for extra in unmatched:
            counts.setdefault(extra.type, {"tp": 0, "fp": 0, "fn": 0, "delays": []})["fp"] += 1
        truth = ", ".join(f"{k} {s:g}-{e:g}s" for k, s, e in clip.truth) or "-"
        shown = ", ".join(f"{f.type} {f.start_s:g}-{f.end_s:g}s" for f in found) or "-"
        print(f"{clip.name:26} {truth:34} {shown}")
    print(
        f"\ndwell {args.dwell:g} s; {len(clips)} clips, {video_s / 60:.1f} min of video analysed in "
        f"{time.time() - began:.1f} s (encoding included)\n"
    )
    print(f"{'type':15} {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>7} {'median time to alarm':>21}")
    for kind, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        delay = f"{statistics.median(c['delays']):.1f} s" if c["delays"] else "-"
        print(f"{kind:15} {c['tp']:3} {c['fp']:3} {c['fn']:3} {precision:9.0%} {recall:7.0%} {delay:>21}")
    route = counts["blocked_route"]
    worst = max(route["delays"], default=float("nan"))
    print(
        f"\nblocked route: slowest alarm {worst:.1f} s after the blocking (target: within dwell + 5 = "
        f"{args.dwell + 5:g} s)"
    )


if __name__ == "__main__":
    main()

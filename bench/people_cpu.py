"""CPU per 1080p25 camera of the detectors that see people (person model on), decode included, beside the
blocked-route/tamper camera vms ran before and the same cameras with the motion gate defeated, in one run.

    .venv/bin/python bench/people_cpu.py [--seconds 180] [--scenarios busy,quiet,...] [--cameras duty,...] [--live]
        [--sub-stream]

All scenarios and cameras with --live take about 25 minutes on 2 cores, plus encoding the streams the first time.

The streams are camera-like (1920x1080, 25 fps, H.264 Main, no B-frames, 2 s GOP, ~4 Mbit/s, sensor-like temporal
noise as in tests/rig/media.py's clips) made by upscaling frames composed by tests/rig/people.py from opencv-doc's
PETS footage (768x576, 10 fps), cached under bench/.media/people_cpu:

  busy         the real crowd of vtest.avi (5-9 people walking all the time), 60 s looped: the person model
               runs at its sample rate
  staffed      one person on duty at the desk all the time, leaning or turning (8 px) every 5 s: what a
               staffed duty room looks like; small movements keep the gate open
  quiet        an empty room (day picture) that someone enters once, stays 40 s still (seated at the desk)
               and leaves, in 180 s: the motion gate keeps the model off most of the time (one visit in 3
               minutes is still more than a real room sees)
  quiet-night  the same in the camera's infrared night picture, with a rat running over the floor once (the
               kitchen's rodent rule samples 5 frames/s while the lights are off)
  empty        nobody at all for 180 s (day picture): the floor of a camera with the person model on
  empty-night  the same in the infrared night picture (a kitchen after hours with nothing happening)

The cameras (each with camera health, `tamper`, on by default as in service):

  duty         duty room: duty_absence + fall, defaults (1 and 2 frames/s, the model only where something moved
               or every refresh_s = 30 s)
  kitchen      kitchen: after_hours_presence (schedule 00:00-24:00, so always armed) + rodents, defaults
  *-no-gate    the same with person.refresh_s = 1 (the minimum): the model looks at every sample, moved or not
  duty-320     duty with person.input_size = 320: the model's input for a sub-stream (640x360 read at half size)
  duty-fall-320  duty with the fall rule alone at input_size 320 (presence keeps 640)
  *-int8       duty, kitchen with the person model in int8 (`vms models quantize person`, bench/int8_person.py)
  duty-int8-fall-320  duty-int8 with the fall rule's input at 320 (presence keeps 640)
  route-before evacuation route: blocked_route with ignore_people off (no person model) + tamper: what vms ran
               before the person model
  route-now    the same with the default ignore_people (the model looks when the zone would count as blocked)
  decode-only  every frame decoded, nothing else: the floor of any camera whose detectors ask for frames/s
  *-keyframes  a what-if, not what vms does: duty and kitchen decoding key frames only (one frame per 2 s GOP,
               as the route camera does), their detectors judging those; CPU only, detection not evaluated

Each camera replays the demuxed packets as the hub hands them to the analysis thread, with advancing arrival
times (video time), decoding what the camera's detectors need (key frames only, or every frame sampled at the
rate asked, as detectors/pipeline/camera_pipeline.py does). `--live` adds the duty and kitchen cameras through
the service's own path (Hub -> Subscription -> CameraPipeline thread, published at 10x real time, arrival times
in video time). `--sub-stream` adds each camera again on the scenario's sub-stream (子码流: the same frames at
640x360, 25 fps, 2 s GOP, 512 kbit/s, as a camera's `detect_source` sends them), in the same run, so the two
figures sit side by side (`<camera> @sub`); zones are normalised, so the cameras are the same. CPU is the process
time (user + system, all threads: onnxruntime's included; the model cache runs one intra-op thread) per second
of video, as a share of one core; wall is the elapsed time per second of video (it includes waiting on a busy
machine). Model runs are SharedFrameModels.runs per minute of video.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import detect_cpu, int8_person
from core.config.models import CameraConfig
from detectors.frames.decoder import FrameDecoder
from detectors.frames.scaler import FrameScaler
from detectors.models.frame_models import MODELS, SharedFrameModels
from detectors.models.persons import PersonModel
from detectors.offline.analyze import analysis_camera
from detectors.pipeline.analysis import CameraAnalysis
from detectors.registry import detector_settings
from media.packet import MediaPacket, StreamInfo
from tests.rig import people as rig
from tests.rig.media import h264_camera_args
from tests.rig.people import Shot

FOLDER = ROOT / "bench" / ".media" / "people_cpu"
WIDTH, HEIGHT, FPS, GOP_S, BITRATE = 1920, 1080, 25, 2, "4M"
SUB_WIDTH, SUB_HEIGHT, SUB_BITRATE = 640, 360, "512k"  # a camera's sub-stream, analysed where `detect_source` names it
ROUTE_ZONE = [[0.44, 0.5], [0.55, 0.5], [0.55, 0.77], [0.44, 0.77]]  # where the quiet scenes' person sits
TARGET = 0.05  # of one core per duty-room or kitchen camera, person model on
HEADROOM = 0.8  # of the box's cores given to detection when counting cameras
SCENARIOS: dict[str, list[Shot]] = {
    "busy": [Shot("crowd", 60, start=100)],
    # Someone on duty at the desk, leaning or turning (8 px at 768x576) every 5 s, never leaving.
    "staffed": [Shot("walk", 5, (150, 450), (380, 450))]
    + [Shot("stand", 5, (380 + 8 * ((n % 4) - 1 if n % 4 < 3 else 0), 450)) for n in range(35)],
    "quiet": [
        Shot("empty", 60),
        Shot("walk", 5, (150, 450), (380, 450)),
        Shot("stand", 40, (380, 450)),
        Shot("walk", 5, (380, 450), (700, 450)),
        Shot("empty", 70),
    ],
    "quiet-night": [
        Shot("empty", 60, night=True),
        Shot("walk", 5, (150, 450), (380, 450), night=True),
        Shot("stand", 40, (380, 450), night=True),
        Shot("walk", 5, (380, 450), (700, 450), night=True),
        Shot("empty", 30, night=True),
        Shot("rat", 3, (100, 520), (600, 500), night=True),
        Shot("empty", 37, night=True),
    ],
    "empty": [Shot("empty", 180)],
    "empty-night": [Shot("empty", 180, night=True)],
}
# The motion gate defeated: the model looks at every sample, moved or not (refresh_s at its minimum, 1 s; the
# fall rule keeps its 2 frames/s).
NO_GATE = {"person": {"refresh_s": 1.0}}
NO_GATE_FALL = {"person": {"sample_fps": 2.0, "refresh_s": 1.0}}
SMALL_INPUT = {"person": {"input_size": 320}}
INT8 = {"person": {"path": str(int8_person.PATH)}}  # made by `camera` the first time a camera names it
INT8_SMALL = {"person": {"path": str(int8_person.PATH), "input_size": 320}}


def cameras() -> dict[str, tuple[list[dict[str, Any]], str]]:
    """Each camera of the bench: its detectors (tamper added by default) and role."""
    after_hours = {"type": "after_hours_presence", "schedule": [{"start": "00:00", "end": "24:00"}]}
    route = {"type": "blocked_route", "zones": [{"name": "route", "points": ROUTE_ZONE}]}
    return {
        "duty": ([{"type": "duty_absence"}, {"type": "fall"}], "duty_room"),
        "duty-no-gate": (
            [{"type": "duty_absence", "params": NO_GATE}, {"type": "fall", "params": NO_GATE_FALL}],
            "duty_room",
        ),
        # The person model at 320 on the long side (the `person.input_size` an operator may set): on a 640x360
        # sub-stream the picture is read at half its size, a model run costs about a quarter.
        "duty-320": (
            [{"type": "duty_absence", "params": SMALL_INPUT}, {"type": "fall", "params": SMALL_INPUT}],
            "duty_room",
        ),
        "duty-fall-320": ([{"type": "duty_absence"}, {"type": "fall", "params": SMALL_INPUT}], "duty_room"),
        # The person model in int8 (`vms models quantize`, bench/int8_person.py).
        "duty-int8": ([{"type": "duty_absence", "params": INT8}, {"type": "fall", "params": INT8}], "duty_room"),
        "duty-int8-fall-320": (
            [{"type": "duty_absence", "params": INT8}, {"type": "fall", "params": INT8_SMALL}],
            "duty_room",
        ),
        "kitchen": ([after_hours, {"type": "rodents"}], "kitchen"),
        "kitchen-int8": ([{**after_hours, "params": INT8}, {"type": "rodents", "params": INT8}], "kitchen"),
        "kitchen-no-gate": ([{**after_hours, "params": NO_GATE}, {"type": "rodents"}], "kitchen"),
        # What-ifs, not what vms does: the same cameras decoding key frames only (see replay).
        "duty-keyframes": ([{"type": "duty_absence"}, {"type": "fall"}], "duty_room"),
        "kitchen-keyframes": ([after_hours, {"type": "rodents"}], "kitchen"),
        "route-before": ([{**route, "params": {"ignore_people": False}}], "evacuation_route"),
        "route-now": ([route], "evacuation_route"),
    }


def camera(name: str) -> CameraConfig:
    detectors, role = cameras()[name]
    if "-int8" in name:
        int8_person.int8_person_model()
    return analysis_camera(detector_settings(detectors), role, camera_id=name)  # type: ignore[arg-type]


def make_stream(name: str, width: int = WIDTH, height: int = HEIGHT, bitrate: str = BITRATE) -> Path:
    """The scenario scaled to a camera's stream (1080p25 main, or its 640x360 sub-stream), encoded once (ffmpeg,
    libx264 veryfast)."""
    shots = SCENARIOS[name]
    path = FOLDER / f"{name}-{width}x{height}-{bitrate}-gop{GOP_S}.mp4"
    if path.exists():
        return path
    FOLDER.mkdir(parents=True, exist_ok=True)
    gop = FPS * GOP_S
    partial = path.with_suffix(f".{os.getpid()}.partial.mp4")
    command = [
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        "768x576",
        "-r",
        str(rig.FPS),
        "-i",
        "-",
        "-vf",
        f"scale={width}:{height}:flags=bicubic,fps={FPS},noise=alls=12:allf=t+u",
        *h264_camera_args(gop),
        "-pix_fmt",
        "yuv420p",
        "-b:v",
        bitrate,
        "-maxrate",
        bitrate,
        "-bufsize",
        bitrate,
        "-an",
        str(partial),
    ]
    with subprocess.Popen(command, stdin=subprocess.PIPE) as ffmpeg:
        assert ffmpeg.stdin is not None
        for picture in rig.frames(shots):
            ffmpeg.stdin.write(picture.tobytes())
        ffmpeg.stdin.close()
    if ffmpeg.returncode != 0:
        partial.unlink(missing_ok=True)
        sys.exit(f"ffmpeg failed ({ffmpeg.returncode}) making {path.name}")
    partial.rename(path)
    return path


def load(clip: Path) -> tuple[StreamInfo, list[MediaPacket], float, float]:
    """The stream's packets in memory, its length in seconds and its bitrate in Mbit/s."""
    info, packets, seconds = detect_cpu.load(clip)
    return info, packets, seconds, sum(len(p.data) for p in packets) * 8 / seconds / 1e6


def arrivals(packets: list[MediaPacket], seconds: float, frame_s: float) -> list[tuple[float, MediaPacket]]:
    """The packets of `seconds` of video (the clip looped), each with its arrival time in video time."""
    loops = max(1, round(seconds * FPS / len(packets)))
    base = 1_700_000_000.0
    return [(base + (loop * len(packets) + i) * frame_s, p) for loop in range(loops) for i, p in enumerate(packets)]


def replay(info: StreamInfo, packets: list[MediaPacket], seconds: float, name: str) -> dict[str, Any]:
    """Process and wall time spent on `seconds` of video by camera `name`, frames analysed and model runs."""
    frame_s = 1.0 / (info.frame_rate or FPS)
    timeline = arrivals(packets, seconds, frame_s)
    decode_only = name == "decode-only"
    analysis = None if decode_only else CameraAnalysis(camera(name), info.width, info.height)
    # The *-keyframes what-ifs decode key frames only (every 2 s) although their detectors ask for frames/s.
    key_only = name.endswith("-keyframes") or (analysis.need.key_frames_only if analysis else False)
    decoder = FrameDecoder(info, key_frames_only=key_only)
    scaler = FrameScaler()
    analysed, next_at = 0, 0.0
    alarms: Counter[str] = Counter()
    runs = SharedFrameModels.runs
    started_cpu, started = time.process_time(), time.perf_counter()
    for at, packet in timeline:
        if analysis is not None:
            analysis.packet_arrived(at)
            alarms.update(e.kind for e in analysis.check_video(at) if e.phase == "started")
        # What the hub hands the analysis thread: a packet with its arrival time (as CameraPipeline._packet).
        for frame in decoder.decode(packet._replace(received_at=at)):
            if analysis is None:
                continue
            need = analysis.need
            if not need.key_frames_only and at < next_at:
                continue
            next_at = at + (1.0 / need.fps if need.fps else 0.0)
            alarms.update(e.kind for e in analysis.process(scaler.scale(frame, at)) if e.phase == "started")
            analysed += 1
    return {
        "cpu": time.process_time() - started_cpu,
        "wall": time.perf_counter() - started,
        "video": len(timeline) * frame_s,
        "analysed": analysed,
        "runs": SharedFrameModels.runs - runs,
        "decoded": decoder.decoded,
        "alarms": ", ".join(f"{kind} x{n}" for kind, n in sorted(alarms.items())) or "-",
    }


def replay_live(info: StreamInfo, packets: list[MediaPacket], seconds: float, name: str) -> dict[str, Any]:
    """The service's own path: a hub feeding a CameraPipeline thread, paced at 10x real time."""
    from types import SimpleNamespace

    from core.store import Store
    from core.store.violations import ViolationFilter
    from detectors.pipeline.camera_pipeline import CameraPipeline
    from detectors.violations.recorder import ViolationRecorder
    from streams.health import HealthTracker
    from streams.hub import Hub

    frame_s = 1.0 / (info.frame_rate or FPS)
    timeline = arrivals(packets, seconds, frame_s)

    class Counted(CameraPipeline):
        """Counts the packets it has handled: the measurement ends when the last batch is done."""

        handled = 0

        def handle(self, items: list[Any], fetched_at: float) -> None:
            super().handle(items, fetched_at)
            self.handled += sum(isinstance(item, MediaPacket) for item in items)

    store = Store.open(":memory:")
    hub = Hub("bench", default_capacity=100_000)
    pipeline = Counted(
        camera(name),
        SimpleNamespace(hub=hub, health=HealthTracker("bench", 3.0)),
        ViolationRecorder(store.violations),  # type: ignore[arg-type]
        max_lag_s=1e9,
        queue_packets=100_000,
    )
    pipeline.start()
    runs = SharedFrameModels.runs
    started_cpu, started = time.process_time(), time.perf_counter()
    hub.begin(info)
    # Arrival times in video time from now (ahead of the clock at 10x): the pipeline samples by them as it does
    # live, and its video-loss watch sees packets arriving.
    shift = time.time() - timeline[0][0]
    for sent, (at, packet) in enumerate(timeline, 1):
        hub.publish(packet._replace(received_at=at + shift))
        lag = started + sent * frame_s / 10 - time.perf_counter()
        if lag > 0:
            time.sleep(lag)
    while pipeline.handled < len(timeline) and pipeline.running:
        time.sleep(0.01)
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    status = pipeline.status()
    pipeline.stop()
    pipeline.join(10)
    alarms = Counter(v.type for v in store.violations.find(ViolationFilter(limit=10_000)))
    store.close()
    if status.error:
        print(f"  ({name} live: {status.error})")
    return {
        "cpu": cpu,
        "wall": wall,
        "video": len(timeline) * frame_s,
        "analysed": status.frames_analysed,
        "runs": SharedFrameModels.runs - runs,
        "decoded": float("nan"),
        "alarms": ", ".join(f"{kind} x{n}" for kind, n in sorted(alarms.items())) or "-",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180.0, help="seconds of video per camera (default 180)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"of {', '.join(SCENARIOS)} (default all)")
    parser.add_argument("--cameras", default=",".join([*cameras(), "decode-only"]), help="which cameras")
    parser.add_argument("--live", action="store_true", help="also duty and kitchen through the real pipeline")
    parser.add_argument(
        "--sub-stream", action="store_true", help="also each camera on the scenario's 640x360 sub-stream (@sub)"
    )
    args = parser.parse_args()
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    names = [c.strip() for c in args.cameras.split(",") if c.strip()]
    if set(chosen) - set(SCENARIOS) or set(names) - {*cameras(), "decode-only"}:
        parser.error("unknown scenario or camera")
    print("command: " + " ".join([".venv/bin/python", "bench/people_cpu.py", *sys.argv[1:]]))
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at the start")
    # The model loaded and run once before anything is measured (each process pays that once).
    model = MODELS.get(PersonModel().model_path())
    model.detect(rig.empty_scene())
    results: dict[tuple[str, str], dict[str, Any]] = {}
    began = time.time()
    for scenario in chosen:
        clip = make_stream(scenario)
        info, packets, clip_s, mbps = load(clip)
        keys = sum(p.keyframe for p in packets)
        print(
            f"\n{scenario}: {info.width}x{info.height} {info.frame_rate:g} fps H.264, {mbps:.1f} Mbit/s, "
            f"{keys} key frames in {clip_s:.0f} s, {args.seconds:g} s of video per camera"
        )
        rows = [(n, replay) for n in names] + (
            [(f"{n} live", replay_live) for n in ("duty", "kitchen") if n in names] if args.live else []
        )
        streams = {"": (info, packets)}
        if args.sub_stream:
            sub_info, sub_packets, _, sub_mbps = load(make_stream(scenario, SUB_WIDTH, SUB_HEIGHT, SUB_BITRATE))
            streams[" @sub"] = (sub_info, sub_packets)
            rows += [(f"{n} @sub", replay) for n in names]
            print(f"@sub: its sub-stream, {sub_info.width}x{sub_info.height} H.264, {sub_mbps:.1f} Mbit/s")
        print(
            f"{'camera':16} {'CPU/core':>8} {'wall/video':>10} {'model runs/min':>14} {'frames analysed':>15} "
            f"{'decoded':>8}  alarms raised"
        )
        for name, run in rows:
            stream_info, stream_packets = streams[" @sub" if name.endswith(" @sub") else ""]
            r = run(stream_info, stream_packets, args.seconds, name.removesuffix(" live").removesuffix(" @sub"))
            results[(scenario, name)] = r
            minutes = r["video"] / 60
            print(
                f"{name:16} {r['cpu'] / r['video']:8.2%} {r['wall'] / r['video']:10.2%} "
                f"{r['runs'] / minutes:14.1f} {r['analysed']:15.0f} {r['decoded']:8.0f}  {r['alarms']}",
                flush=True,
            )
    print(f"\n(measured in {time.time() - began:.0f} s, load average {os.getloadavg()[0]:.2f} at the end)")
    print(
        f"\ntarget: <= {TARGET:.0%} of one core per duty-room or kitchen camera, person model on; cameras per "
        f"2-core box at {HEADROOM:.0%} of both cores (1.6 cores) given to detection, ingest and recording not counted"
    )
    for scenario in chosen:
        shown = ("duty", "kitchen", "route-before", "route-now")
        for name in [*shown, *(f"{n} @sub" for n in shown)]:
            r = results.get((scenario, name))
            if r is None:
                continue
            share = r["cpu"] / r["video"]
            verdict = "" if name.startswith("route") else ("  meets target" if share <= TARGET else "  MISSES target")
            print(
                f"{scenario:12} {name:18} {share:6.2%} of a core -> {int(2 * HEADROOM / share):3d} cameras per box"
                f"{verdict}"
            )
        for name in ("duty", "kitchen"):
            gated, open_ = results.get((scenario, name)), results.get((scenario, f"{name}-no-gate"))
            if gated and open_:
                saved = 1 - gated["cpu"] / open_["cpu"]
                what = f"saves {saved:.0%} of its CPU" if abs(saved) >= 0.03 else "saves nothing (within noise)"
                print(
                    f"{scenario:12} {name:13} the motion gate {what} "
                    f"({gated['runs'] / (gated['video'] / 60):.1f} against {open_['runs'] / (open_['video'] / 60):.1f} "
                    "model runs a minute)"
                )


if __name__ == "__main__":
    main()

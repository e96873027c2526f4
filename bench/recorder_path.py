"""What the recorder costs per frame, with no camera, network or camera server in the way: N cameras' packets
(a real 1080p25 H.264 clip, Annex B as RTSP delivers it) published into N hubs in real time by N feeder threads,
first with nothing subscribed, then with a `Recorder` per camera writing real segments and a real index, once per
batch pause (`--pauses`: the rest a recorder takes between batches while a segment is open; vms's is the fragment
duration, 1 s). The difference is the recorder's path (hub hand-over, wake-ups, framing, fragments, writes), per
frame, in one process. Rounds alternate, so a noisy minute hits every variant alike.

    .venv/bin/python bench/recorder_path.py 16 [--seconds 20] [--warmup 3] [--pauses 0.2,1] [--rounds 2]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.store import Store
from media.mp4.init import init_segment
from media.nal import START_CODE, parse_avcc
from media.packet import MediaPacket, StreamInfo
from recordings.index_writer import IndexWriter
from recordings.recorder import Recorder
from streams.hub import Hub
from tests.rig.media import clip_cache_dir, make_clip

FPS = 25


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_clip(folder: Path) -> tuple[StreamInfo, list[tuple[bytes, bool]]]:
    """The bench clip's frames in Annex B, and a StreamInfo as a camera session would have it."""
    mp4 = make_clip(
        clip_cache_dir() / "bench-1920x1080-4M.mp4", width=1920, height=1080, fps=FPS, seconds=10, bitrate="4M"
    )
    annexb = folder / "clip.h264"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(mp4),
            "-c",
            "copy",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
            str(annexb),
        ],
        check=True,
    )
    with av.open(str(mp4)) as source:
        video = source.streams.video[0]
        init = init_segment(video)
        # As RTSP delivers them: the parameter sets of the SDP in Annex B, not the file's avcC record.
        record, time_base = video.codec_context.extradata, video.time_base
        assert record is not None and time_base is not None
        extradata = b"".join(START_CODE + unit for unit in parse_avcc(record)[1])
        # The clip's time base is its init segment's timescale, as a camera's 90 kHz is in both.
    with av.open(str(annexb), format="h264") as source:
        frames = [(bytes(p), p.is_keyframe) for p in source.demux(source.streams.video[0]) if p.size]
    info = StreamInfo(1, "h264", "Main", 1920, 1080, time_base, extradata, float(FPS), time.time(), init)
    return info, frames


def run(
    cameras: int,
    seconds: float,
    warmup: float,
    pause_s: float | None,
    info: StreamInfo,
    frames: list[tuple[bytes, bool]],
    folder: Path,
) -> float:
    """Process CPU seconds per second over the window."""
    store = Store.open(str(folder / "index.db"))
    hubs = [Hub(f"cam{n}") for n in range(cameras)]
    recorders = []
    index = IndexWriter(store.recordings)
    if pause_s is not None:
        for n, hub in enumerate(hubs):
            recorder = Recorder(f"cam{n}", hub, index, folder / "recordings", segment_s=60.0, fragment_s=1.0)
            recorder._batch_pause_s = pause_s  # the variant under test; vms sets it from the fragment duration
            recorder.start()
            recorders.append(recorder)
    stop = threading.Event()
    ticks = int(1 / (info.time_base * FPS))

    def feed(hub: Hub, phase: float) -> None:
        hub.begin(info)
        start = time.monotonic() + phase
        n = 0
        while not stop.is_set():
            due = start + n / FPS
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            data, key = frames[n % len(frames)]
            ts = n * ticks
            hub.publish(MediaPacket(1, memoryview(data), ts, ts, ticks, info.time_base, key, time.time()))
            n += 1

    feeders = [threading.Thread(target=feed, args=(hub, n / cameras / FPS), daemon=True) for n, hub in enumerate(hubs)]
    for feeder in feeders:
        feeder.start()
    time.sleep(warmup)
    cpu0, wall0 = _process_cpu(), time.monotonic()
    time.sleep(seconds)
    used = (_process_cpu() - cpu0) / (time.monotonic() - wall0)
    stop.set()
    for feeder in feeders:
        feeder.join()
    for recorder in recorders:
        recorder.stop()
    for recorder in recorders:
        recorder.join(5)
    index.stop()
    store.close()
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cameras", type=int, nargs="?", default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--pauses", default="0.2,1", help="comma-separated recorder batch pauses, seconds")
    parser.add_argument("--rounds", type=int, default=2, help="every variant once per round")
    args = parser.parse_args()
    pauses = [float(p) for p in args.pauses.split(",")]
    variants: list[float | None] = [None, *pauses]
    with tempfile.TemporaryDirectory(prefix="vms-bench-recpath-") as tmp:
        folder = Path(tmp)
        info, frames = load_clip(folder)
        used: dict[float | None, list[float]] = {variant: [] for variant in variants}
        for round_ in range(args.rounds):
            for n, variant in enumerate(variants):
                sub = folder / f"r{round_}-{n}"
                sub.mkdir()
                used[variant].append(run(args.cameras, args.seconds, args.warmup, variant, info, frames, sub))
    frames_per_s = args.cameras * FPS
    print(f"{args.cameras} cameras, 1080p25 ~4 Mbit/s, {args.seconds:g} s windows, process CPU (cores) per round:")
    print("  feeders only                 " + "  ".join(f"{u:.3f}" for u in used[None]))
    for pause in pauses:
        path = [(r - b) / frames_per_s * 1e6 for b, r in zip(used[None], used[pause], strict=True)]
        print(
            f"  recorders, pause {pause:<4g} s     "
            + "  ".join(f"{u:.3f}" for u in used[pause])
            + "   recorder path per frame: "
            + "  ".join(f"{p:.1f}" for p in path)
            + " µs"
        )


if __name__ == "__main__":
    main()

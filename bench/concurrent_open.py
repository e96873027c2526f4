"""How long the test camera server takes to answer N cameras dialled at once, without vms: the reference for the
kill figure of `bench/capacity.py`, where a dead worker's cameras are all dialled again together.

    .venv/bin/python bench/concurrent_open.py 24 [--rounds 3]

Each round starts a fresh project RTSP server with N mounts of the capacity clip (1080p25 H.264, 2 s GOP) and
opens all N at once from N threads with PyAV and the options vms's source uses (TCP, `fpsprobesize=0`), each
reading until its first video packet. Prints, per round, the median and slowest time to the first packet and
the cameras whose session was answered but whose picture never came within `--timeout`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import RtspServer

OPTIONS = {"rtsp_transport": "tcp", "fpsprobesize": "0", "analyzeduration": "2000000", "probesize": "2000000"}


def first_packet(url: str, timeout: float) -> float | None:
    """Seconds from dialling `url` to its first video packet; None when none came within `timeout`."""
    began = time.monotonic()
    options = {**OPTIONS, "timeout": str(int(timeout * 1_000_000))}
    try:
        with av.open(url, options=options, timeout=(timeout, timeout)) as container:
            video = container.streams.video[0]
            if not video.codec_context.width:
                return None  # the probe ended without a picture: nothing was sent
            for packet in container.demux(video):
                if packet.size:
                    return time.monotonic() - began
    except av.FFmpegError:
        return None
    return None


def one_round(clip: Path, n: int, timeout: float) -> tuple[list[float], list[str]]:
    mounts = [{"path": f"/cam{i}", "clip": str(clip)} for i in range(n)]
    with RtspServer(mounts) as server:
        urls = [server.url(f"/cam{i}") for i in range(n)]
        results: dict[str, float | None] = {}

        def dial(url: str) -> None:
            results[url] = first_packet(url, timeout)

        threads = [threading.Thread(target=dial, args=(url,), daemon=True) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout * 2 + 5)
    times = sorted(t for t in results.values() if t is not None)
    silent = [url.rsplit("/", 1)[-1] for url in urls if results.get(url) is None]
    return times, silent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cameras", type=int, nargs="?", default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a camera may take to its first packet")
    args = parser.parse_args()
    clip = make_clip(
        clip_cache_dir() / "bench-1920x1080-4M.mp4", width=1920, height=1080, fps=25, seconds=10, bitrate="4M"
    )
    for index in range(args.rounds):
        times, silent = one_round(clip, args.cameras, args.timeout)
        median = f"{statistics.median(times):.2f} s" if times else "-"
        slowest = f"{times[-1]:.2f} s" if times else "-"
        print(
            f"round {index + 1}: {args.cameras} cameras dialled at once: first packet after {median} (median),"
            f" {slowest} (slowest of those answered); {sum(t <= 2 for t in times)} within 2 s;"
            f" no picture within {args.timeout:g} s: {len(silent)} {silent if silent else ''}",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""How long the test camera server takes to answer N cameras dialled at once, and what each connection's set-up
costs the client: the reference for the kill figure of `bench/capacity.py`, where a dead worker's cameras are all
dialled again together.

    .venv/bin/python bench/concurrent_open.py 24 [--rounds 3]
    .venv/bin/python bench/concurrent_open.py 48 --kept --rounds 8 --gap 1 [--compare-loop-filter]

Each round opens all N at once from N threads with PyAV and the probe options vms's source uses
(`streams.source.PROBE_OPTIONS`, over TCP), each reading until its first video key frame. By default every round
starts a fresh project RTSP server with N mounts of the capacity clip (1080p25 H.264, 2 s GOP). With `--kept` one
server with always-on mounts (the capacity bench's cameras) serves every round, `--gap` seconds after the last
round's clients left, as a killed worker's cameras are dialled again; its first round (the pipelines' first
clients) is reported apart. `--compare-loop-filter` alternates rounds with the probe decoding its key frame with
the deblocking filter (FFmpeg's default) and without (vms's). Prints, per round, the client's CPU per connection
(the server is another process), the median and slowest time to the first key frame, how many took over 1.5 s,
and the cameras whose session was answered but whose picture never came within `--timeout`.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.source import PROBE_OPTIONS
from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import RtspServer

SLOW_S = 1.5


def first_key_frame(url: str, timeout: float, options: dict[str, str]) -> float | None:
    """Seconds from dialling `url` to its first video key frame; None when none came within `timeout`."""
    began = time.monotonic()
    options = {**options, "rtsp_transport": "tcp", "timeout": str(int(timeout * 1_000_000))}
    try:
        with av.open(url, options=options, timeout=(timeout, timeout)) as container:
            video = container.streams.video[0]
            if not video.codec_context.width:
                return None  # the probe ended without a picture: nothing was sent
            for packet in container.demux(video):
                if packet.size and packet.is_keyframe:
                    return time.monotonic() - began
                if time.monotonic() - began > timeout:
                    return None
    except av.FFmpegError:
        return None
    return None


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def dial_all(urls: list[str], timeout: float, options: dict[str, str]) -> tuple[list[float], list[str], float]:
    """Every camera dialled at once: the times to a key frame, the silent cameras, the client's CPU seconds."""
    results: dict[str, float | None] = {}

    def dial(url: str) -> None:
        results[url] = first_key_frame(url, timeout, options)

    cpu = _cpu_s()
    threads = [threading.Thread(target=dial, args=(url,), daemon=True) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout * 2 + 5)
    cpu = _cpu_s() - cpu
    times = sorted(t for t in results.values() if t is not None)
    silent = [url.rsplit("/", 1)[-1] for url in urls if results.get(url) is None]
    return times, silent, cpu


def report(label: str, n: int, times: list[float], silent: list[str], cpu: float, timeout: float) -> None:
    median = f"{statistics.median(times):.2f} s" if times else "-"
    slowest = f"{times[-1]:.2f} s" if times else "-"
    print(
        f"{label}: {n} cameras dialled at once: client CPU {cpu / n * 1000:.1f} ms per connection; first key frame"
        f" after {median} (median), {slowest} (slowest of those answered); {sum(t > SLOW_S for t in times)} over"
        f" {SLOW_S:g} s; no picture within {timeout:g} s: {len(silent)} {silent if silent else ''}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cameras", type=int, nargs="?", default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a camera may take to its first packet")
    parser.add_argument("--kept", action="store_true", help="one server with always-on mounts for every round")
    parser.add_argument("--gap", type=float, default=2.0, help="with --kept: seconds between rounds")
    parser.add_argument("--compare-loop-filter", action="store_true", help="alternate the probe's deblocking filter")
    args = parser.parse_args()
    clip = make_clip(
        clip_cache_dir() / "bench-1920x1080-4M.mp4", width=1920, height=1080, fps=25, seconds=10, bitrate="4M"
    )
    with_filter = {k: v for k, v in PROBE_OPTIONS.items() if k != "skip_loop_filter"}
    variants = [("vms probe", PROBE_OPTIONS)]
    if args.compare_loop_filter:
        variants.append(("probe with deblocking", with_filter))
    n = args.cameras
    mounts = [{"path": f"/cam{i}", "clip": str(clip), "always_on": args.kept} for i in range(n)]
    if args.kept:
        with RtspServer(mounts) as server:
            urls = [server.url(f"/cam{i}") for i in range(n)]
            report("first clients", n, *dial_all(urls, args.timeout, PROBE_OPTIONS), args.timeout)
            for index in range(args.rounds):
                for label, options in variants:
                    time.sleep(args.gap)
                    report(f"round {index + 1}, {label}", n, *dial_all(urls, args.timeout, options), args.timeout)
        return
    for index in range(args.rounds):
        for label, options in variants:
            with RtspServer(mounts) as server:
                urls = [server.url(f"/cam{i}") for i in range(n)]
                report(f"round {index + 1}, {label}", n, *dial_all(urls, args.timeout, options), args.timeout)


if __name__ == "__main__":
    main()

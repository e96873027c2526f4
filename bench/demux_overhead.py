"""Where ingest CPU goes: a bare PyAV demux loop with and without PyAV's read timeout, vms's own source, and
`ffmpeg -c copy -f null`, each reading the same N test-server mounts, one after another in one run.

    .venv/bin/python bench/demux_overhead.py 32 [--seconds 20] [--warmup 8]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = ("pyav-read-timeout", "pyav-no-timeout", "vms-source")


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_in_process(variant: str, urls: list[str], warmup: float, seconds: float) -> None:
    """Runs in a child process: read every URL in its own thread, print CPU % of one core per camera."""
    stop = threading.Event()

    def bare_demux(url: str, timeout: tuple[float, float] | None) -> None:
        import av

        with av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"}, timeout=timeout) as container:
            video = container.streams.video[0].index
            for packet in container.demux():
                if packet.stream_index == video:
                    bytes(packet)
                if stop.is_set():
                    return

    if variant == "vms-source":
        from streams.camera import CameraStream
        from streams.source import SourceSettings

        cameras = [CameraStream(SourceSettings(f"c{i}", url), 3.0, 8 << 20) for i, url in enumerate(urls)]
        for camera in cameras:
            camera.start()
    else:
        timeout = (10.0, 10.0) if variant == "pyav-read-timeout" else None
        for url in urls:
            threading.Thread(target=bare_demux, args=(url, timeout), daemon=True).start()
    time.sleep(warmup)
    cpu, started = _self_cpu(), time.monotonic()
    time.sleep(seconds)
    share = (_self_cpu() - cpu) / (time.monotonic() - started) / len(urls) * 100
    print(f"{share:.3f}", flush=True)
    stop.set()


def measure_ffmpeg(urls: list[str], warmup: float, seconds: float) -> float:
    procs = [
        subprocess.Popen(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-rtsp_transport",
                "tcp",
                "-i",
                url,
                "-c",
                "copy",
                "-f",
                "null",
                "-",
            ]
        )
        for url in urls
    ]
    try:
        time.sleep(warmup)
        handles = [psutil.Process(p.pid) for p in procs]
        cpu0, started = sum(sum(h.cpu_times()[:2]) for h in handles), time.monotonic()
        time.sleep(seconds)
        cpu1 = sum(sum(h.cpu_times()[:2]) for h in handles)
        return (cpu1 - cpu0) / (time.monotonic() - started) / len(urls) * 100
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cameras", type=int, nargs="?", default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--only", nargs="*", choices=VARIANTS, help="run only these variants")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure_in_process(args.child, args.urls, args.warmup, args.seconds)
        return

    from tests.rig.media import clip_cache_dir, make_clip
    from tests.rig.rtsp import RtspServer

    clip = make_clip(clip_cache_dir() / "bench-1920x1080-4M.mp4", width=1920, height=1080, seconds=10, bitrate="4M")
    mounts = [{"path": f"/cam{i}", "clip": str(clip)} for i in range(args.cameras)]
    with RtspServer(mounts) as server:
        urls = [server.url(f"/cam{i}") for i in range(args.cameras)]
        print(f"{args.cameras} cameras, 1080p25 H.264 ~4 Mbit/s, CPU % of one core per camera:")
        for variant in args.only or VARIANTS:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    variant,
                    "--warmup",
                    str(args.warmup),
                    "--seconds",
                    str(args.seconds),
                    "--urls",
                    *urls,
                ],
                capture_output=True,
                text=True,
                timeout=args.warmup + args.seconds + 60,
            )
            print(f"  {variant:18} {out.stdout.strip() or out.stderr[-300:]}", flush=True)
        print(f"  {'ffmpeg -c copy':18} {measure_ffmpeg(urls, args.warmup, args.seconds):.3f}")


if __name__ == "__main__":
    main()

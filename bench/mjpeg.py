"""Motion JPEG live view (the view of H.265 cameras): CPU per viewer and picture rate, beside the same camera
with nobody watching, in one run. Unlike WebRTC and fMP4, this path decodes every frame and encodes JPEGs.

    .venv/bin/python bench/mjpeg.py [--viewers 1 4] [--seconds 20] [--width 1920 --height 1080]

The camera is the project's GStreamer RTSP server looping an H.265 Main clip (25 fps, 2 s GOP); viewers are
plain HTTP clients reading `live.mjpg` (5 pictures a second, at most 1280 wide: the defaults).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.ingest import ADMIN_PASSWORD, cpu_and_rss, start_vms, stop_processes
from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import RtspServer


def watch(base: str, token: str, stop: threading.Event, pictures: list[int], index: int) -> None:
    """Read the picture stream until `stop`, counting JPEG parts."""
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=base, headers=headers, timeout=None) as client,
        client.stream("GET", "/api/cameras/cam0/live.mjpg") as response,
    ):
        response.raise_for_status()
        for chunk in response.iter_bytes():
            pictures[index] += chunk.count(b"Content-Type: image/jpeg")
            if stop.is_set():
                return


def measure(base: str, token: str, process: psutil.Process, viewers: int, seconds: float) -> dict[str, float]:
    stop = threading.Event()
    pictures = [0] * viewers
    threads = [
        threading.Thread(target=watch, args=(base, token, stop, pictures, i), daemon=True) for i in range(viewers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(3.0)  # decoders start on the next key frame
    before, counted = cpu_and_rss([process]), list(pictures)
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    after = cpu_and_rss([process])
    rate = [(p - c) / elapsed for p, c in zip(pictures, counted, strict=True)]
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    return {
        "viewers": viewers,
        "cpu_pct": round((after.cpu_s - before.cpu_s) / elapsed * 100, 2),
        "pictures_per_s_per_viewer": round(sum(rate) / viewers, 2) if viewers else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args()
    clip = make_clip(
        clip_cache_dir() / f"bench-hevc-{args.width}x{args.height}.mp4",
        width=args.width,
        height=args.height,
        codec="hevc",
        bitrate="3M",
        seconds=10,
    )
    with (
        tempfile.TemporaryDirectory(prefix="vms-bench-mjpeg-") as tmp,
        RtspServer([{"path": "/cam0", "clip": str(clip)}]) as server,
    ):
        vms, base = start_vms([server.url("/cam0")], Path(tmp))
        try:
            token = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).json()[
                "token"
            ]
            time.sleep(5.0)
            process = psutil.Process(vms.pid)
            rows = [measure(base, token, process, n, args.seconds) for n in (0, *args.viewers)]
        finally:
            stop_processes([vms])
    idle = rows[0]["cpu_pct"]
    print(f"\nMotion JPEG of one H.265 {args.width}x{args.height} 25 fps camera, {args.seconds:.0f} s windows")
    for row in rows:
        extra = (row["cpu_pct"] - idle) / row["viewers"] if row["viewers"] else 0.0
        row["cpu_pct_per_viewer"] = round(extra, 2)
        print(
            f"  {row['viewers']:2d} viewers: vms {row['cpu_pct']:6.2f} % of a core"
            f"  ({extra:5.2f} % per viewer over nobody watching), {row['pictures_per_s_per_viewer']} pictures/s each"
        )
    print(json.dumps({"rows": rows, "machine": f"{psutil.cpu_count()} cores"}))


if __name__ == "__main__":
    main()

"""Live view speed: time to first frame, glass-to-glass latency, CPU per viewer, and 20 viewers of one
camera through vms (packets forwarded) side by side with 20 through a transcoding path (decode once,
encode per viewer: bench/transcoding_whep.py).

    .venv/bin/python bench/live.py [--viewers 20] [--seconds 10] [--width 1920 --height 1080 --fps 25]

The camera is bench/clock_camera.py: a live 1080p25 H.264 source (x264, 4 Mbit/s, 2 s GOP) that stamps the
wall clock into each picture, so latency is read from the decoded picture itself. Viewers are aiortc WHEP
clients on loopback; the load viewers (bench/live_viewers.py) reassemble frames without decoding them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.rig.rtsp import free_port
from tests.rig.whep_client import open_whep
from tests.running_service import RunningService

STAMP_BITS = 48


def read_stamp(frame: av.VideoFrame) -> int:
    """The wall-clock milliseconds the clock camera wrote into the picture's top row of blocks."""
    luma = frame.to_ndarray(format="gray")
    block = frame.width // STAMP_BITS
    value = 0
    for bit in range(STAMP_BITS):
        centre = bit * block + block // 2
        value = (value << 1) | int(luma[14:26, centre - 4 : centre + 4].mean() > 128)
    return value


def now_ms() -> int:
    return int(time.time() * 1000) & ((1 << STAMP_BITS) - 1)


async def first_frame_times(base_url: str, path: str, headers: dict[str, str], trials: int) -> list[float]:
    """Seconds from sending the offer to the first decoded picture, one viewer at a time."""
    times = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        for _ in range(trials):
            sent = time.monotonic()
            viewer = await open_whep(client, path)
            await viewer.frames(1)
            times.append(time.monotonic() - sent)
            await viewer.close()
            await asyncio.sleep(0.5)
    return times


async def latencies(base_url: str, path: str, headers: dict[str, str], seconds: float) -> list[int]:
    """Glass-to-glass milliseconds of every picture one viewer decodes in `seconds` (after the GOP burst)."""
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        viewer = await open_whep(client, path)
        track = await viewer.track()
        out: list[int] = []
        warm_until = time.monotonic() + 3.0  # the cached GOP arrives in a burst; measure steady state
        end = warm_until + seconds
        while time.monotonic() < end:
            frame = await asyncio.wait_for(track.recv(), 10)
            if time.monotonic() >= warm_until:
                out.append(now_ms() - read_stamp(frame))
        await viewer.close()
    return out


def direct_latencies(rtsp_url: str, seconds: float) -> list[int]:
    """The reference for glass-to-glass: the camera's stream decoded straight from RTSP, no service between."""
    out: list[int] = []
    with av.open(rtsp_url, options={"rtsp_transport": "tcp", "fflags": "nobuffer"}) as container:
        warm_until = time.monotonic() + 3.0
        end = warm_until + seconds
        for frame in container.decode(video=0):
            if time.monotonic() >= warm_until:
                out.append(now_ms() - read_stamp(frame))
            if time.monotonic() >= end:
                break
    return out


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    total = times.user + times.system
    for child in process.children(recursive=True):
        try:
            child_times = child.cpu_times()
            total += child_times.user + child_times.system
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_share(process: psutil.Process, seconds: float) -> float:
    """Share of one core `process` used over the next `seconds`."""
    before, started = cpu_seconds(process), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(process) - before) / (time.monotonic() - started)


def with_viewers(
    url: str,
    count: int,
    seconds: float,
    token: str | None,
    process: psutil.Process,
    sent: Callable[[], int] | None = None,
) -> dict:
    """Server CPU (share of one core) while `count` load viewers watch, what they received, and (where the
    server says) how many frames it sent them."""
    args = [sys.executable, str(ROOT / "bench" / "live_viewers.py"), url, str(count), str(seconds)]
    load = subprocess.Popen(args + ([token] if token else []), stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert load.stdout is not None
    line = load.stdout.readline().strip()
    if line != "ready":
        load.kill()
        raise RuntimeError(f"load viewers did not start: {line!r}")
    sent_before, started = (sent() if sent else 0), time.monotonic()
    share = cpu_share(process, seconds)
    sent_fps = (sent() - sent_before) / (time.monotonic() - started) / count if sent else float("nan")
    result = json.loads(load.stdout.readline())
    result["sent_fps_per_viewer"] = sent_fps
    load.wait(timeout=30)
    return {"cpu_share": share, **result}


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):.0f}, p95 {p95:.0f}, max {ordered[-1]:.0f} (n={len(ordered)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--trials", type=int, default=5, help="time-to-first-frame trials")
    args = parser.parse_args()

    port = free_port()
    camera = subprocess.Popen(
        [
            "/usr/bin/python3",
            str(ROOT / "bench" / "clock_camera.py"),
            "--port",
            str(port),
            "--width",
            str(args.width),
            "--height",
            str(args.height),
            "--fps",
            str(args.fps),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert camera.stdout is not None
    rtsp_url = camera.stdout.readline().split()[-1]
    results: dict[str, dict] = {}
    camera_rate = "?"
    try:
        direct = direct_latencies(rtsp_url, args.seconds)
        # --- vms: the camera's packets forwarded ---------------------------------------------------
        workdir = Path(tempfile.mkdtemp(prefix="vms-bench-live-"))
        service = RunningService(
            workdir,
            {
                "organisation": {
                    "id": "b",
                    "name": "局",
                    "towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}],
                },
                "live": {"ice_hosts": ["127.0.0.1"], "max_viewers_per_camera": 100, "max_viewers_per_user": 100},
                "cameras": [
                    {"id": "clock", "name": "时钟", "institution": "i", "role": "gate", "source": {"url": rtsp_url}}
                ],
            },
        )
        service.start()
        try:
            admin = service.client()
            service.wait_for(admin, "clock", lambda c: (c["health"] or {}).get("state") == "online")
            time.sleep(6.0)  # the health window fills (5 s)
            health = admin.get("/api/cameras/clock").json()["health"]
            camera_rate = f"{health['bitrate_bps'] / 1e6:.1f} Mbit/s at {health['fps']:.1f} fps as vms received it"
            headers = dict(admin.headers)
            token = headers["authorization"].split()[1]
            vms_process = psutil.Process(service._proc.pid)  # type: ignore[union-attr]
            path = "/api/cameras/clock/whep"
            ttff = asyncio.run(first_frame_times(service.base_url, path, headers, args.trials))
            lat = asyncio.run(latencies(service.base_url, path, headers, args.seconds))
            time.sleep(1.0)
            idle = cpu_share(vms_process, args.seconds)

            def frames_sent() -> int:
                viewers = admin.get("/api/live/sessions").json()["viewers"]
                return sum(v["packets_sent"] for v in viewers)

            loaded = with_viewers(service.base_url + path, args.viewers, args.seconds, token, vms_process, frames_sent)
            results["vms (forward)"] = {"ttff": ttff, "latency": lat, "idle": idle, **loaded}
        finally:
            service.stop()

        # --- reference: decode once, encode per viewer ------------------------------------------------
        ref_port = free_port()
        reference = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "transcoding_whep.py"), rtsp_url, str(ref_port)],
            cwd=ROOT,
        )
        try:
            base = f"http://127.0.0.1:{ref_port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(base + "/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            ref_process = psutil.Process(reference.pid)
            ttff = asyncio.run(first_frame_times(base, "/whep", {}, max(2, args.trials // 2)))
            lat = asyncio.run(latencies(base, "/whep", {}, args.seconds))
            time.sleep(1.0)
            idle = cpu_share(ref_process, args.seconds)
            loaded = with_viewers(base + "/whep", args.viewers, args.seconds, None, ref_process)
            results["transcoding"] = {"ttff": ttff, "latency": lat, "idle": idle, **loaded}
        finally:
            reference.terminate()
            reference.wait(timeout=10)
    finally:
        camera.stdin.close()  # type: ignore[union-attr]
        camera.wait(timeout=10)

    print(
        f"\ncamera: {args.width}x{args.height}@{args.fps} H.264 Main, 2 s GOP, {camera_rate}; "
        f"{args.viewers} load viewers for {args.seconds:.0f} s; CPU as a share of one core"
    )
    print(
        f"{'path':<16}{'first frame (s)':<28}{'glass-to-glass (ms)':<44}{'CPU idle':>9}{'CPU N viewers':>14}"
        f"{'per viewer':>11}{'fps sent':>9}{'fps received':>13}"
    )
    for name, r in results.items():
        per_viewer = (r["cpu_share"] - r["idle"]) / r["viewers"]
        ttff = f"median {statistics.median(r['ttff']):.2f}, max {max(r['ttff']):.2f}"
        print(
            f"{name:<16}{ttff:<28}{summary(r['latency']):<44}{r['idle'] * 100:>8.1f}%{r['cpu_share'] * 100:>13.1f}%"
            f"{per_viewer * 100:>10.2f}%{r['sent_fps_per_viewer']:>9.1f}{r['fps_per_viewer']:>13.1f}"
        )
    print(f"{'camera direct':<16}{'':<28}{summary(direct):<44}  (RTSP decoded by PyAV, no service between)")
    forward, transcode = results["vms (forward)"], results["transcoding"]
    ratio = (transcode["cpu_share"] - transcode["idle"]) / max(forward["cpu_share"] - forward["idle"], 1e-6)
    print(
        f"\nCPU for {args.viewers} viewers, transcoding / forwarding: {ratio:.1f}x "
        f"(and the transcoding path delivered {transcode['fps_per_viewer']:.1f} of {args.fps} fps per viewer)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

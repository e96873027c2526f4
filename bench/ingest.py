"""Ingest benchmark: N cameras pulled by one `vms run` process beside the same N streams each read by
`ffmpeg -rtsp_transport tcp -i URL -c copy -f null -`, side by side in one run.

    .venv/bin/python bench/ingest.py 32 [--seconds 30] [--warmup 10]

The cameras are served by the project's GStreamer RTSP test server (pre-encoded 1080p25 H.264 Main,
no B-frames, ~4 Mbit/s, looped in real time). Prints CPU per camera for both readers and their ratio,
RSS per camera, and packets lost against what the server sent. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import RtspServer, free_port

FPS = 25
ADMIN_PASSWORD = "bench-password"


@dataclass
class Reading:
    cpu_s: float
    rss_bytes: int


def _family(proc: psutil.Process) -> list[psutil.Process]:
    """The process and its children (for `vms run`: the service process, its workers and the spare)."""
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_and_rss(processes: list[psutil.Process]) -> Reading:
    """CPU seconds and RSS of the processes and their children: `vms run`'s worker processes (and its spare) are
    part of the service's cost."""
    cpu = rss = 0
    for member in (m for proc in processes for m in _family(proc)):
        try:
            times = member.cpu_times()
            cpu += times.user + times.system
            rss += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return Reading(cpu, rss)


def cpu_by_process(service: psutil.Process) -> dict[int, tuple[str, float]]:
    """Each process of `vms run` (the service process and its workers, the spare among them) with its CPU
    seconds so far: where the service's cost goes."""
    seen: dict[int, tuple[str, float]] = {}
    for member in _family(service):
        try:
            times = member.cpu_times()
            seen[member.pid] = ("service" if member.pid == service.pid else "worker", times.user + times.system)
        except psutil.NoSuchProcess:
            pass
    return seen


def cpu_split(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], seconds: float) -> list[str]:
    """Each process's share of a core over the window, the busiest first: "service 3.1 %", "worker 18.2 %"."""
    shares = [(kind, (cpu - before.get(pid, (kind, 0.0))[1]) / seconds * 100) for pid, (kind, cpu) in after.items()]
    return [f"{kind} {share:.1f} %" for kind, share in sorted(shares, key=lambda s: -s[1])]


def worker_processes(value: str) -> int | str:
    """`--workers`: "auto" (one per core) or a number of worker processes (0: every camera in the service process)."""
    return value if value == "auto" else int(value)


def start_vms(
    urls: list[str], workdir: Path, camera_fields: dict[str, object] | None = None, **sections: object
) -> tuple[subprocess.Popen[bytes], str]:
    """`vms run` over these camera URLs; `sections` add to its configuration (e.g. recording=...);
    `camera_fields`: a camera's further fields, each a value or a format with `{i}`, the camera's index."""
    port = free_port()
    config = {
        "recording": {"enabled": False},  # ingest alone, unless a section says otherwise
        "storage": {"data_dir": str(workdir / "data")},
        "organisation": {
            "id": "bench",
            "name": "基准",
            "towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "机构"}]}],
        },
        "cameras": [
            # Ingest and recording are measured alone: the analytics every camera runs by default are off
            # here (bench/detect_cpu.py measures them).
            {
                "id": f"cam{i}",
                "name": f"摄像机{i}",
                "institution": "i",
                "role": "other",
                "source": {"url": url},
                "detectors": [{"type": "tamper", "enabled": False}],
                **{k: v.format(i=i) if isinstance(v, str) else v for k, v in (camera_fields or {}).items()},
            }
            for i, url in enumerate(urls)
        ],
        **sections,
    }
    path = workdir / "vms.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vms",
            "run",
            "--config",
            str(path),
            "--port",
            str(port),
            "--log-level",
            os.environ.get("VMS_BENCH_LOG_LEVEL", "warning"),
        ],
        cwd=workdir,
        env={**os.environ, "VMS_ADMIN_PASSWORD": ADMIN_PASSWORD},
        stdout=(workdir / "vms.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("vms did not start:\n" + (workdir / "vms.log").read_text())


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM all at once, then wait for each (SIGKILL after 20 s)."""
    for proc in processes:
        proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def vms_packets(base: str, token: str) -> dict[str, int]:
    cams = httpx.get(f"{base}/api/cameras", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    return {c["id"]: c["health"]["packets_total"] for c in cams}


def start_ffmpeg(url: str, progress: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "ffmpeg",
            "-hide_banner",
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
            "-progress",
            str(progress),
            "-stats_period",
            "1",
            "-",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ffmpeg_frames(progress: Path) -> int:
    try:
        found = re.findall(r"^frame=(\d+)", progress.read_text(), flags=re.M)
    except OSError:
        return 0
    return int(found[-1]) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cameras", type=int, nargs="?", default=32)
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=10.0, help="time to connect and settle before measuring")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--bitrate", default="4M")
    parser.add_argument(
        "--workers", type=worker_processes, default="auto", help="vms's worker processes (workers.processes; 0: none)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    n = args.cameras

    print(f"preparing a {args.width}x{args.height} {FPS} fps H.264 Main clip at {args.bitrate}bit/s ...", flush=True)
    clip = make_clip(
        clip_cache_dir() / f"bench-{args.width}x{args.height}-{args.bitrate}.mp4",
        width=args.width,
        height=args.height,
        fps=FPS,
        seconds=10,
        bitrate=args.bitrate,
    )
    mounts = [{"path": f"/cam{i}", "clip": str(clip)} for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="vms-bench-") as tmp, RtspServer(mounts) as server:
        workdir = Path(tmp)
        urls = [server.url(f"/cam{i}") for i in range(n)]
        vms, base = start_vms(urls, workdir, workers={"processes": args.workers})
        progress = [workdir / f"ffmpeg{i}.progress" for i in range(n)]
        ffmpegs = [start_ffmpeg(url, p) for url, p in zip(urls, progress, strict=True)]
        try:
            token = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).json()[
                "token"
            ]
            time.sleep(args.warmup)
            vms_proc = [psutil.Process(vms.pid)]
            ff_procs = [psutil.Process(p.pid) for p in ffmpegs]
            server_proc = [psutil.Process(server._proc.pid)]
            v0, f0, s0 = cpu_and_rss(vms_proc), cpu_and_rss(ff_procs), cpu_and_rss(server_proc)
            p0, fr0 = vms_packets(base, token), [ffmpeg_frames(p) for p in progress]
            started = time.monotonic()
            time.sleep(args.seconds)
            elapsed = time.monotonic() - started
            v1, f1, s1 = cpu_and_rss(vms_proc), cpu_and_rss(ff_procs), cpu_and_rss(server_proc)
            p1, fr1 = vms_packets(base, token), [ffmpeg_frames(p) for p in progress]
            alive = sum(1 for p in ffmpegs if p.poll() is None)
        finally:
            stop_processes([*ffmpegs, vms])

    expected = FPS * elapsed
    vms_got = [p1.get(k, 0) - p0.get(k, 0) for k in p1]
    ff_got = [b - a for a, b in zip(fr0, fr1, strict=True)]
    vms_cpu = (v1.cpu_s - v0.cpu_s) / elapsed / n * 100
    ff_cpu = (f1.cpu_s - f0.cpu_s) / elapsed / n * 100
    results = {
        "cameras": n,
        "window_s": round(elapsed, 1),
        "vms_cpu_pct_per_camera": round(vms_cpu, 3),
        "ffmpeg_cpu_pct_per_camera": round(ff_cpu, 3),
        "cpu_ratio_vms_to_ffmpeg": round(vms_cpu / ff_cpu, 3) if ff_cpu else None,
        "vms_rss_mb_per_camera": round(v1.rss_bytes / n / 2**20, 2),
        "vms_rss_mb_total": round(v1.rss_bytes / 2**20, 1),
        "ffmpeg_rss_mb_per_camera": round(f1.rss_bytes / n / 2**20, 2),
        "expected_packets_per_camera": round(expected),
        "vms_packets_lost_pct": round(max(0.0, 1 - sum(vms_got) / (expected * n)) * 100, 2),
        "ffmpeg_packets_lost_pct": round(max(0.0, 1 - sum(ff_got) / (expected * n)) * 100, 2),
        # The same streams read side by side: what one reader lacks against the other is its own loss.
        "vms_packets_vs_ffmpeg": round(sum(vms_got) / sum(ff_got), 4) if sum(ff_got) else None,
        "vms_cameras_short_over_5pct": sum(1 for g in vms_got if g < expected * 0.95),
        "ffmpeg_readers_alive": alive,
        "server_cpu_pct": round((s1.cpu_s - s0.cpu_s) / elapsed * 100, 1),
        "machine": f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB",
    }
    print()
    print(f"ingest of {n} cameras, {args.width}x{args.height} {FPS} fps ~{args.bitrate}bit/s, {elapsed:.0f} s window")
    print(
        f"  CPU per camera  vms {vms_cpu:6.2f} %   ffmpeg -c copy {ff_cpu:6.2f} %"
        f"   ratio {results['cpu_ratio_vms_to_ffmpeg']}"
    )
    print(
        f"  RSS per camera  vms {results['vms_rss_mb_per_camera']:6.2f} MB"
        f"  ffmpeg {results['ffmpeg_rss_mb_per_camera']:6.2f} MB"
        f"   (vms total {results['vms_rss_mb_total']} MB)"
    )
    print(
        f"  packets lost    vms {results['vms_packets_lost_pct']} %   ffmpeg {results['ffmpeg_packets_lost_pct']} %"
        f"   (against {results['expected_packets_per_camera']} per camera at the nominal rate;"
        f" vms received {results['vms_packets_vs_ffmpeg']} × what ffmpeg received)"
    )
    print(f"  test server CPU {results['server_cpu_pct']} % of one core")
    print(json.dumps(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

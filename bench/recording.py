"""Recording benchmark, side by side in one run on the same streams:

- N cameras recorded by one `vms run` process beside N `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment`
  processes writing the same kind of segments (fragmented MP4, 60 s): CPU per camera and the ratio, and disk
  bytes written against bytes received;
- exporting a 10 min clip from 60 s segments (CPU seconds);
- the HLS playlist of 24 h of one camera out of an index of 24 h × N cameras (milliseconds).

    .venv/bin/python bench/recording.py 32 [--seconds 60] [--warmup 10]

Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import (
    ADMIN_PASSWORD,
    FPS,
    cpu_and_rss,
    cpu_by_process,
    cpu_split,
    start_vms,
    stop_processes,
    worker_processes,
)

from core.store import Store
from core.store.recordings import NewSegment
from media.mp4.init import FRAGMENTED, init_segment
from media.packet import MediaPacket, StreamInfo
from media.segment_path import segment_path
from recordings.export import cut_clip
from recordings.playlist import hls_playlist
from recordings.writer import SegmentWriter
from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import RtspServer


def start_ffmpeg_segmenter(url: str, folder: Path) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
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
            "-map",
            "0:v",
            "-c",
            "copy",
            "-f",
            "segment",
            "-segment_time",
            "60",
            "-segment_format",
            "mp4",
            "-segment_format_options",
            f"movflags={FRAGMENTED}:frag_duration=1000000",
            "-reset_timestamps",
            "1",
            str(folder / "%05d.mp4"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.mp4"))


def live_recording(args: argparse.Namespace, clip: Path) -> dict[str, object]:
    n = args.cameras
    mounts = [{"path": f"/cam{i}", "clip": str(clip)} for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="vms-bench-rec-") as tmp, RtspServer(mounts) as server:
        workdir = Path(tmp)
        urls = [server.url(f"/cam{i}") for i in range(n)]
        ingest = {} if args.read_pause is None else {"read_pause_s": args.read_pause}
        vms, base = start_vms(
            urls, workdir, recording={"segment_s": 60}, workers={"processes": args.workers}, ingest=ingest
        )
        ffmpegs = [start_ffmpeg_segmenter(url, workdir / "ffmpeg" / f"cam{i}") for i, url in enumerate(urls)]
        try:
            token = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).json()[
                "token"
            ]
            time.sleep(args.warmup)
            vms_proc, ff_procs = [psutil.Process(vms.pid)], [psutil.Process(p.pid) for p in ffmpegs]
            v0, f0, split0 = cpu_and_rss(vms_proc), cpu_and_rss(ff_procs), cpu_by_process(vms_proc[0])
            started = time.monotonic()
            time.sleep(args.seconds)
            elapsed = time.monotonic() - started
            v1, f1, split1 = cpu_and_rss(vms_proc), cpu_and_rss(ff_procs), cpu_by_process(vms_proc[0])
            cameras = httpx.get(f"{base}/api/cameras", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        finally:
            stop_processes([*ffmpegs, vms])
        received = sum(c["recording"]["bytes_received"] for c in cameras)
        written = folder_bytes(workdir / "data" / "recordings")
        ffmpeg_written = folder_bytes(workdir / "ffmpeg")
        recording_cameras = sum(1 for c in cameras if c["recording"]["state"] == "recording")
    vms_cpu = (v1.cpu_s - v0.cpu_s) / elapsed / n * 100
    ff_cpu = (f1.cpu_s - f0.cpu_s) / elapsed / n * 100
    return {
        "cameras": n,
        "window_s": round(elapsed, 1),
        "vms_cpu_pct_per_camera": round(vms_cpu, 3),
        "ffmpeg_segment_cpu_pct_per_camera": round(ff_cpu, 3),
        "cpu_ratio_vms_to_ffmpeg": round(vms_cpu / ff_cpu, 3) if ff_cpu else None,
        "vms_cpu_by_process": cpu_split(split0, split1, elapsed),
        "vms_rss_mb_per_camera": round(v1.rss_bytes / n / 2**20, 2),
        "vms_disk_bytes_per_received_byte": round(written / received, 4) if received else None,
        "vms_bytes_written": written,
        "ffmpeg_bytes_written": ffmpeg_written,
        "vms_cameras_recording_at_end": recording_cameras,
    }


def synthetic_recording(clip: Path, directory: Path, store: Store, camera_id: str, minutes: int) -> float:
    """`minutes` of 60 s segments written by the recorder's writer from the looped clip; returns the start."""
    with av.open(str(clip)) as source:
        video = source.streams.video[0]
        tb = Fraction(video.time_base.numerator, video.time_base.denominator)
        info = StreamInfo(
            1,
            "h264",
            "Main",
            video.codec_context.width,
            video.codec_context.height,
            tb,
            bytes(video.codec_context.extradata),
            FPS,
            time.time(),
            init_segment(video),
        )
        packets = [(bytes(p), p.pts, p.dts, p.duration, p.is_keyframe) for p in source.demux(video) if p.size]
    clip_ticks = packets[-1][1] + packets[-1][3] - packets[0][1]
    start = time.time() - minutes * 60 - 5
    per_segment = FPS * 60
    sequence = 0
    for minute in range(minutes):
        at = start + minute * 60
        relative = segment_path(camera_id, at)
        writer = SegmentWriter(directory / relative, info, fragment_s=1.0)
        for k in range(per_segment):
            data, pts, dts, duration, key = packets[sequence % len(packets)]
            loop = (sequence // len(packets)) * clip_ticks
            writer.write(MediaPacket(1, memoryview(data), pts + loop, dts + loop, duration, tb, key, at + k / FPS))
            sequence += 1
        writer.close()
        row = store.recordings.open_segment(
            NewSegment(camera_id, relative, at, 0, "h264", info.width, info.height, "p")
        )
        size = (directory / relative).stat().st_size
        store.recordings.update_segment(row, at + writer.duration_s, size, writer.keyframes, 1000, closed=True)
    return start


def export_and_playlist(args: argparse.Namespace, clip: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="vms-bench-export-") as tmp:
        workdir = Path(tmp)
        store = Store.open(workdir / "vms.db")
        start = synthetic_recording(clip, workdir / "rec", store, "cam0", minutes=11)
        segments = store.recordings.segments("cam0", start + 20, start + 620)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = cut_clip(workdir / "rec", segments, start + 20, start + 620, workdir / "clip.mp4")
        export_cpu, export_wall = time.process_time() - cpu0, time.perf_counter() - wall0

        # An index as big as 24 h of every camera: one row a minute each.
        day = time.time() - 86400
        with store.db.write() as cur:
            cur.executemany(
                "INSERT INTO recording_segments (camera_id, path, start_ts, end_ts, size_bytes, init_size, codec,"
                " width, height, params, keyframes, state) VALUES (?, ?, ?, ?, 30000000, 800, 'h264', 1920, 1080,"
                " 'p', ?, 'closed')",
                [
                    (
                        f"cam{c}",
                        f"cam{c}/x/{m}.mp4",
                        day + m * 60,
                        day + m * 60 + 60,
                        ",".join(f"{k * 2:.3f}" for k in range(30)),
                    )
                    for c in range(1, args.cameras + 1)
                    for m in range(1440)
                ],
            )
        timings = []
        for _ in range(5):
            t0 = time.perf_counter()
            rows = store.recordings.segments("cam1", day, day + 86400)
            text = hls_playlist(rows, day)
            timings.append(time.perf_counter() - t0)
        store.close()
    return {
        "export_clip_s": round(result.duration_s, 1),
        "export_cpu_s": round(export_cpu, 3),
        "export_wall_s": round(export_wall, 3),
        "export_bytes": result.size_bytes,
        "playlist_24h_segments": len(rows),
        "playlist_24h_ms_median": round(sorted(timings)[2] * 1000, 1),
        "playlist_24h_bytes": len(text),
        "index_rows": 1440 * args.cameras + 11,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cameras", type=int, nargs="?", default=32)
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--bitrate", default="4M")
    parser.add_argument(
        "--workers", type=worker_processes, default="auto", help="vms's worker processes (workers.processes)"
    )
    parser.add_argument(
        "--read-pause", type=float, help="vms's ingest.read_pause_s (0: every frame read as it comes); default its own"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"preparing a 1920x1080 {FPS} fps H.264 Main clip at {args.bitrate}bit/s ...", flush=True)
    clip = make_clip(
        clip_cache_dir() / f"bench-1920x1080-{args.bitrate}.mp4",
        width=1920,
        height=1080,
        fps=FPS,
        seconds=10,
        bitrate=args.bitrate,
    )
    results = {
        **export_and_playlist(args, clip),
        **live_recording(args, clip),
        "machine": f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB",
    }
    print()
    print(f"recording of {args.cameras} cameras, 1080p{FPS} ~{args.bitrate}bit/s, {results['window_s']} s window")
    print(
        f"  CPU per camera  vms {results['vms_cpu_pct_per_camera']:6.2f} %   ffmpeg -f segment "
        f"{results['ffmpeg_segment_cpu_pct_per_camera']:6.2f} %   ratio {results['cpu_ratio_vms_to_ffmpeg']}"
    )
    print(f"  vms by process (% of a core): {', '.join(results['vms_cpu_by_process'])}")
    print(f"  disk bytes written per byte received (vms): {results['vms_disk_bytes_per_received_byte']}")
    print(
        f"  export of {results['export_clip_s']} s: {results['export_cpu_s']} s CPU, {results['export_wall_s']} s wall"
    )
    print(
        f"  playlist of 24 h ({results['playlist_24h_segments']} segments, index of {results['index_rows']} rows):"
        f" {results['playlist_24h_ms_median']} ms"
    )
    print(json.dumps(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

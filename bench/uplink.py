"""Uplink benchmark, side by side in one run on the same cameras:

- GB/T 28181 cascade: N cameras' live video sent as PS over RTP by one `vms run` process (its ingest included)
  beside N `ffmpeg -rtsp_transport tcp -i URL -c copy -f rtp_mpegts` processes carrying the same cameras: CPU per
  stream and the ratio; and vms's own cost of the cascade over its ingest alone;
- stream push: the same N cameras pushed by vms over RTSP (ANNOUNCE/RECORD) beside N `ffmpeg -c copy -f rtsp`;
- the time from INVITE to the first RTP packet (vms starts on the cached GOP);
- PS packing (media/ps.py and media/rtp.py) on one core, in Mbit/s of video;
- event forwarding: violations written to the store, the time until the platform's endpoint has each (p50, p95).

    .venv/bin/python bench/uplink.py 4 [--seconds 30] [--warmup 8]

Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import base64
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

from ingest import ADMIN_PASSWORD, FPS, cpu_and_rss, start_vms, stop_processes

from core.store import Store
from media.nal import AnnexBFramer
from media.ps import PsMuxer
from media.rtp import RtpPacketizer
from tests.rig.gb_platform import RtpReceiver, UpperPlatform, offer
from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import RtspServer, free_port
from tests.rig.violations import add_violation
from tests.rig.webhook_receiver import WebhookReceiver

LOCAL_ID = "32068100002000000001"
PASSWORD = "bench-gb-password"
SECRET = "whsec_" + base64.b64encode(b"bench-platform-secret-of-32-byte").decode()


GB_ID_FORMAT = "32068100001320{i:06d}"


def camera_gb_id(i: int) -> str:
    return GB_ID_FORMAT.format(i=i)


def start_cascading_vms(
    urls: list[str], workdir: Path, platform: UpperPlatform, events_url: str, pushes: list[str]
) -> tuple[subprocess.Popen[bytes], str]:
    """vms over the cameras (each with a GB id), an upper platform that takes events, pushes and the cascade."""
    city = {
        "id": "city",
        "name": "市平台",
        "events": {"url": events_url, "secret": SECRET, "snapshot": "none"},
        "push": [{"camera": f"cam{i}", "url": url, "mode": "on_demand"} for i, url in enumerate(pushes)],
        "gb28181": {
            "server_id": "32060000002000000001",
            "host": "127.0.0.1",
            "port": platform.port,
            "local_id": LOCAL_ID,
            "password": PASSWORD,
            "local_port": free_port(),
            "keepalive_s": 30,
        },
    }
    # Recording stays off: what is measured is carrying video upward.
    return start_vms(urls, workdir, {"gb_id": GB_ID_FORMAT}, uplink={"platforms": [city]})


def ffmpeg_copy(url: str, out_format: str, destination: str) -> subprocess.Popen[bytes]:
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url]
    args += ["-map", "0:v", "-c", "copy"]
    if out_format == "rtsp":
        args += ["-rtsp_transport", "tcp"]
    return subprocess.Popen(
        [*args, "-f", out_format, destination], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def window(vms: psutil.Process, others: list[psutil.Process], seconds: float) -> tuple[float, float]:
    """CPU seconds per second of vms and of `others` together over the window."""
    v0, o0 = cpu_and_rss([vms]), cpu_and_rss(others) if others else None
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    v1, o1 = cpu_and_rss([vms]), cpu_and_rss(others) if others else None
    other = (o1.cpu_s - o0.cpu_s) / elapsed if o0 and o1 else 0.0
    return (v1.cpu_s - v0.cpu_s) / elapsed, other


def ps_throughput(clip: Path, seconds: float = 3.0) -> dict[str, float]:
    """Packing the clip's frames into PS and RTP (UDP payloads), on one core."""
    with av.open(str(clip)) as source:
        video = source.streams.video[0]
        extradata = bytes(video.codec_context.extradata or b"")
        tb = video.time_base or Fraction(1, 90000)
        packets = [(bytes(p), p.is_keyframe, int((p.pts or 0) * tb * 90000)) for p in source.demux(video) if p.size]
    framer, muxer, rtp = AnnexBFramer(extradata, "h264"), PsMuxer("h264"), RtpPacketizer(1234)
    video_bytes = frames = 0
    cpu0 = time.process_time()
    while time.process_time() - cpu0 < seconds:
        for data, key, pts in packets:
            rtp.packets(muxer.frame(framer.frame(data, key), pts, key), pts)
            video_bytes += len(data)
            frames += 1
    cpu = time.process_time() - cpu0
    return {
        "ps_mbit_per_s_one_core": round(video_bytes * 8 / cpu / 1e6, 1),
        "ps_us_per_frame": round(cpu / frames * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cameras", type=int, nargs="?", default=4)
    parser.add_argument("--seconds", type=float, default=30.0, help="each measurement window")
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--bitrate", default="4M")
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    n = args.cameras
    print(f"preparing a 1920x1080 {FPS} fps H.264 Main clip at {args.bitrate}bit/s ...", flush=True)
    clip = make_clip(
        clip_cache_dir() / f"bench-1920x1080-{args.bitrate}.mp4",
        width=1920,
        height=1080,
        fps=FPS,
        seconds=10,
        bitrate=args.bitrate,
    )
    results: dict[str, object] = {"cameras": n, **ps_throughput(clip)}
    mounts = [{"path": f"/cam{i}", "clip": str(clip)} for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="vms-bench-uplink-") as tmp:
        workdir = Path(tmp)
        mounts += [{"path": f"/push-vms{i}", "kind": "record", "file": str(workdir / f"vms{i}.ts")} for i in range(n)]
        mounts += [{"path": f"/push-ff{i}", "kind": "record", "file": str(workdir / f"ff{i}.ts")} for i in range(n)]
        receiver = WebhookReceiver(SECRET)
        with RtspServer(mounts) as server, UpperPlatform(PASSWORD, "udp") as platform:
            urls = [server.url(f"/cam{i}") for i in range(n)]
            vms, base = start_cascading_vms(
                urls,
                workdir,
                platform,
                f"http://127.0.0.1:{receiver.port}/events",
                [server.url(f"/push-vms{i}") for i in range(n)],
            )
            ffmpegs: list[subprocess.Popen[bytes]] = []
            try:
                platform.wait(lambda: platform.registered_as == LOCAL_ID, 30, "registered")
                time.sleep(args.warmup)
                vms_proc = psutil.Process(vms.pid)
                ingest, _ = window(vms_proc, [], args.seconds)

                # The cascade, beside ffmpeg's rtp_mpegts.
                sinks = [RtpReceiver("udp", keep=False) for _ in range(2 * n)]
                for sink in sinks:
                    sink.start()
                first_packet_ms = []
                dialogs = []
                for i in range(n):
                    asked = time.time()
                    answer, dialog = platform.invite(
                        camera_gb_id(i), offer("Play", sinks[i].port, ssrc=f"03206{i:05d}")
                    )
                    assert answer.status == 200, answer.first
                    platform.in_dialog(dialog, "ACK")
                    dialogs.append(dialog)
                    sink = sinks[i]
                    first_at = platform.wait(lambda sink=sink: sink.first_at, 10, "first RTP")
                    first_packet_ms.append((first_at - asked) * 1000)
                ffmpegs = [ffmpeg_copy(urls[i], "rtp_mpegts", f"rtp://127.0.0.1:{sinks[n + i].port}") for i in range(n)]
                time.sleep(args.warmup)
                before = sum(s.bytes for s in sinks[:n])
                cascade, ff_rtp = window(vms_proc, [psutil.Process(p.pid) for p in ffmpegs], args.seconds)
                sent = sum(s.bytes for s in sinks[:n]) - before
                for dialog in dialogs:
                    platform.in_dialog(dialog, "BYE")
                stop_processes(ffmpegs)
                for sink in sinks:
                    sink.close()

                # Stream push, beside ffmpeg's RTSP ANNOUNCE/RECORD.
                token = httpx.post(
                    f"{base}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
                ).json()["token"]
                auth = {"Authorization": f"Bearer {token}"}
                for i in range(n):
                    httpx.post(
                        f"{base}/api/uplink/platforms/city/pushes/cam{i}", headers=auth, timeout=10
                    ).raise_for_status()
                ffmpegs = [ffmpeg_copy(urls[i], "rtsp", server.url(f"/push-ff{i}")) for i in range(n)]
                time.sleep(args.warmup)
                push, ff_rtsp = window(vms_proc, [psutil.Process(p.pid) for p in ffmpegs], args.seconds)
                pushes = httpx.get(f"{base}/api/uplink/platforms", headers=auth, timeout=10).json()[0]["pushes"]
                pushing = sum(p["state"] == "pushing" for p in pushes)
                for i in range(n):
                    httpx.delete(f"{base}/api/uplink/platforms/city/pushes/cam{i}", headers=auth, timeout=10)
                stop_processes(ffmpegs)
                ffmpegs = []

                # Event forwarding while the platform is up.
                store = Store.open(workdir / "data" / "vms.db")
                written: dict[int, float] = {}
                try:
                    for k in range(args.events // 2):
                        at = time.time()
                        add_violation(store, f"cam{k % n}", "i", at)
                        for event in store.violations.events_after(max(written, default=0), 10):
                            written.setdefault(event.id, at)
                        time.sleep(0.05)
                finally:
                    store.close()
                deadline = time.monotonic() + 30
                while len(receiver.taken) < len(written) and time.monotonic() < deadline:
                    time.sleep(0.1)
                delays = sorted(
                    (r.at - written[int(r.id.rsplit("_", 1)[1])])
                    for r in receiver.taken
                    if int(r.id.rsplit("_", 1)[1]) in written
                )
            finally:
                stop_processes([*ffmpegs, vms])
                receiver.stop()
    results.update(
        {
            "window_s": args.seconds,
            "vms_ingest_cpu_pct_per_camera": round(ingest / n * 100, 3),
            "vms_cascade_cpu_pct_per_stream": round(cascade / n * 100, 3),
            "vms_cascade_over_ingest_cpu_pct_per_stream": round((cascade - ingest) / n * 100, 3),
            "ffmpeg_rtp_mpegts_cpu_pct_per_stream": round(ff_rtp / n * 100, 3),
            "cpu_ratio_cascade_to_ffmpeg": round(cascade / ff_rtp, 3) if ff_rtp else None,
            # What carrying a camera upward adds, where vms already ingests it (to record and analyse), against
            # what ffmpeg needs to carry it (its own connection to the camera included).
            "cpu_ratio_cascade_added_to_ffmpeg": round((cascade - ingest) / ff_rtp, 3) if ff_rtp else None,
            "cascade_mbit_per_s_per_stream": round(sent * 8 / args.seconds / n / 1e6, 2),
            "invite_to_first_rtp_ms_median": round(sorted(first_packet_ms)[len(first_packet_ms) // 2], 1),
            "invite_to_first_rtp_ms_max": round(max(first_packet_ms), 1),
            "vms_push_cpu_pct_per_stream": round(push / n * 100, 3),
            "vms_push_over_ingest_cpu_pct_per_stream": round((push - ingest) / n * 100, 3),
            "ffmpeg_rtsp_push_cpu_pct_per_stream": round(ff_rtsp / n * 100, 3),
            "cpu_ratio_push_to_ffmpeg": round(push / ff_rtsp, 3) if ff_rtsp else None,
            "cpu_ratio_push_added_to_ffmpeg": round((push - ingest) / ff_rtsp, 3) if ff_rtsp else None,
            "pushes_pushing": pushing,
            "events": len(written),
            "events_delivered": len(delays),
            "event_delivery_p50_ms": round(delays[len(delays) // 2] * 1000, 1) if delays else None,
            "event_delivery_p95_ms": round(delays[int(len(delays) * 0.95) - 1] * 1000, 1) if delays else None,
            "machine": f"{psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB",
        }
    )
    r = results
    print()
    print(f"uplink of {n} cameras, 1080p{FPS} ~{args.bitrate}bit/s, {args.seconds} s windows ({r['machine']})")
    print(
        f"  GB/T 28181 PS/RTP  vms {r['vms_cascade_cpu_pct_per_stream']:6.2f} % per stream (ingest included; "
        f"{r['vms_cascade_over_ingest_cpu_pct_per_stream']:.2f} % over ingest alone)   "
        f"ffmpeg -f rtp_mpegts {r['ffmpeg_rtp_mpegts_cpu_pct_per_stream']:6.2f} %   "
        f"ratio {r['cpu_ratio_cascade_to_ffmpeg']} (added: {r['cpu_ratio_cascade_added_to_ffmpeg']})"
    )
    print(
        f"  RTSP push          vms {r['vms_push_cpu_pct_per_stream']:6.2f} % per stream ("
        f"{r['vms_push_over_ingest_cpu_pct_per_stream']:.2f} % over ingest)   "
        f"ffmpeg -f rtsp {r['ffmpeg_rtsp_push_cpu_pct_per_stream']:6.2f} %   ratio {r['cpu_ratio_push_to_ffmpeg']} "
        f"(added: {r['cpu_ratio_push_added_to_ffmpeg']})"
    )
    first_rtp = f"median {r['invite_to_first_rtp_ms_median']} ms, max {r['invite_to_first_rtp_ms_max']} ms"
    print(f"  INVITE to first RTP: {first_rtp}")
    print(f"  PS packing: {r['ps_mbit_per_s_one_core']} Mbit/s on one core ({r['ps_us_per_frame']} µs a frame)")
    print(
        f"  event delivery: {r['events_delivered']}/{r['events']}, p50 {r['event_delivery_p50_ms']} ms, "
        f"p95 {r['event_delivery_p95_ms']} ms"
    )
    print(json.dumps(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

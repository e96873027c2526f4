"""CPU per 1080p25 camera of the blocked-route and tamper detectors, decode included, beside full-decode
pipelines on the same stream, in one run.

    .venv/bin/python bench/detect_cpu.py [--seconds 120] [--gop 2]

The stream is a camera-like clip (1920x1080, 25 fps, H.264 Main, no B-frames, ~4 Mbit/s, the GOP
given), demuxed once into memory and replayed as MediaPackets with advancing timestamps, so only the
detection path is measured (ingest is measured by bench/ingest.py). Three pipelines over the same packets:

  keyframes   what vms runs: key frames only decoded (skip_frame NONKEY, no deblocking filter), scaled once,
              all detectors
  keyframes+deblock   the same with the key frames' deblocking filter applied (what vms did before)
  live        the same, through the real path: Hub -> Subscription -> CameraPipeline thread (packets
              published at 10x real time; the hub's publish cost, part of ingest, is included)
  full-decode every frame decoded, nothing else: the floor of any full-decode pipeline
  full+detect every frame decoded, scaled and run through the same detectors

CPU is process time (user + system) per second of video, as a share of one core; one decoder thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config.models import CameraConfig
from detectors.frames.decoder import FrameDecoder
from detectors.frames.scaler import FrameScaler
from detectors.pipeline.analysis import CameraAnalysis
from detectors.registry import detector_settings
from media.packet import MediaPacket, StreamInfo
from tests.rig.media import clip_cache_dir, make_clip

ZONE = [(0.30, 0.55), (0.70, 0.55), (0.95, 0.98), (0.05, 0.98)]


def load(clip: Path) -> tuple[StreamInfo, list[MediaPacket], float]:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        info = StreamInfo(
            1, cc.name, None, cc.width, cc.height, stream.time_base, cc.extradata, float(stream.average_rate), 0.0
        )
        packets = [
            MediaPacket(1, bytes(p), p.pts, p.dts, p.duration or 0, stream.time_base, p.is_keyframe, 0.0)
            for p in container.demux(stream)
            if p.size
        ]
        seconds = len(packets) / float(stream.average_rate)
    return info, packets, seconds


def camera() -> CameraConfig:
    return CameraConfig(
        id="bench",
        name="bench",
        institution="i",
        role="evacuation_route",
        source={"url": "x"},
        # Typed as the configuration loader types them (each plug-in's settings), and what an evacuation-route
        # camera runs: the route and camera health.
        detectors=detector_settings(
            [{"type": "tamper"}, {"type": "blocked_route", "zones": [{"name": "route", "points": ZONE}]}]
        ),
    )


def replay(info: StreamInfo, packets: list[MediaPacket], clip_s: float, seconds: float, mode: str) -> tuple[float, int]:
    """Process time spent on `seconds` of video, and frames analysed."""
    decoder = FrameDecoder(info, key_frames_only=mode.startswith("keyframes"))
    if mode == "keyframes+deblock":
        decoder._context.options = {}  # before its first packet: the filter stays on
    scaler = FrameScaler()
    analysis = CameraAnalysis(camera(), info.width, info.height)
    frame_s = 1.0 / (info.frame_rate or 25.0)
    loops = max(1, round(seconds / clip_s))
    analysed = 0
    started = time.process_time()
    for loop in range(loops):
        for index, packet in enumerate(packets):
            at = 1_700_000_000.0 + (loop * len(packets) + index) * frame_s
            # What the hub hands the analysis thread: a packet with its arrival time.
            item = packet._replace(received_at=at)
            for frame in decoder.decode(item):
                if mode == "full-decode":
                    continue
                analysis.process(scaler.scale(frame, at))
                analysed += 1
    return time.process_time() - started, analysed


def replay_live(info: StreamInfo, packets: list[MediaPacket], clip_s: float, seconds: float) -> tuple[float, int]:
    """The service's own path: a hub feeding a CameraPipeline thread, paced at 10x real time."""
    from types import SimpleNamespace

    from core.store import Store
    from detectors.pipeline.camera_pipeline import CameraPipeline
    from detectors.violations.recorder import ViolationRecorder
    from streams.health import HealthTracker
    from streams.hub import Hub

    store = Store.open(":memory:")
    hub = Hub("bench", default_capacity=100_000)
    pipeline = CameraPipeline(
        camera(),
        SimpleNamespace(hub=hub, health=HealthTracker("bench", 3.0)),
        ViolationRecorder(store.violations),  # type: ignore[arg-type]
        max_lag_s=1e9,
        queue_packets=100_000,
    )
    pipeline.start()
    frame_s = 1.0 / (info.frame_rate or 25.0)
    loops = max(1, round(seconds / clip_s))
    started_cpu, started = time.process_time(), time.monotonic()
    hub.begin(info)
    sent = 0
    for _ in range(loops):
        for packet in packets:
            hub.publish(packet._replace(received_at=time.time()))
            sent += 1
            lag = started + sent * frame_s / 10 - time.monotonic()
            if lag > 0:
                time.sleep(lag)
    while hub.consumers()[0].queued:
        time.sleep(0.01)
    cpu = time.process_time() - started_cpu
    analysed = pipeline.status().frames_analysed
    pipeline.stop()
    store.close()
    return cpu, analysed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120.0, help="seconds of video per pipeline (default 120)")
    parser.add_argument("--gop", type=float, default=2.0, help="GOP in seconds (default 2; cameras use 1-4)")
    args = parser.parse_args()
    clip = make_clip(
        clip_cache_dir() / f"bench-1920x1080-4M-gop{args.gop:g}.mp4",
        width=1920,
        height=1080,
        fps=25,
        seconds=20,
        bitrate="4M",
        gop_seconds=args.gop,
    )
    info, packets, clip_s = load(clip)
    keys = sum(p.keyframe for p in packets)
    print(
        f"1920x1080 25 fps H.264, GOP {args.gop:g} s ({keys} key frames in {clip_s:.0f} s), "
        f"{args.seconds:g} s of video per pipeline\n"
    )
    results = {}
    for mode in ("keyframes", "keyframes+deblock", "live", "full-decode", "full+detect"):
        if mode == "live":
            cpu_s, analysed = replay_live(info, packets, clip_s, args.seconds)
        else:
            cpu_s, analysed = replay(info, packets, clip_s, args.seconds, mode)
        video_s = max(1, round(args.seconds / clip_s)) * clip_s
        results[mode] = share = cpu_s / video_s
        print(
            f"{mode:18} {share:7.2%} of one core per camera  ({cpu_s:6.2f} s CPU for {video_s:.0f} s video, "
            f"{analysed} frames analysed)"
        )
    base = results["keyframes"]
    print(
        f"\nfull-decode / keyframes: {results['full-decode'] / base:.1f}x;  "
        f"full+detect / keyframes: {results['full+detect'] / base:.1f}x;  live / keyframes: "
        f"{results['live'] / base:.2f}x;  keyframes+deblock / keyframes: {results['keyframes+deblock'] / base:.2f}x;"
        "  target: <= 3 %"
    )


if __name__ == "__main__":
    main()

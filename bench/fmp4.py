"""The live fMP4 view's per-frame work: this project's fragmenter (media/mp4/fragmenter.py, also the recorder's)
beside FFmpeg's own MP4 muxer with a fragment per frame (`frag_every_frame`, what the fMP4 view used before),
on the same camera packets, in one process, one after the other.

    .venv/bin/python bench/fmp4.py [--seconds 60]

The packets are the benchmark camera's (1920x1080, 25 fps, H.264 Main, ~4 Mbit/s, parameter sets only in the SDP)
as RTSP delivers them (Annex B). Prints CPU microseconds per frame for both and their ratio.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from media.mp4.fragmenter import Fragmenter
from media.mp4.init import init_segment
from media.nal import AnnexBFramer
from media.packet import MediaPacket, StreamInfo
from tests.rig.media import clip_cache_dir, make_clip

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof+frag_every_frame+delay_moov"


def camera_packets(clip: Path) -> tuple[StreamInfo, list[MediaPacket]]:
    with av.open(str(clip)) as container:
        video = container.streams.video[0]
        time_base = video.time_base or Fraction(1, 90000)
        annexb = av.BitStreamFilterContext("h264_mp4toannexb", video)
        packets = [
            MediaPacket(1, bytes(p), p.pts, p.dts, p.duration, time_base, p.is_keyframe, 0.0)
            for packet in container.demux(video)
            if packet.size
            for p in annexb.filter(packet)
        ]
        extradata = AnnexBFramer(bytes(video.codec_context.extradata)).parameter_sets
        info = StreamInfo(
            1,
            "h264",
            "Main",
            video.codec_context.width,
            video.codec_context.height,
            time_base,
            b"".join(b"\x00\x00\x00\x01" + unit for unit in extradata),
            25.0,
            0.0,
            init_segment(video),
        )
    return info, packets


def fragmenter(info: StreamInfo, packets: list[MediaPacket], loops: int) -> tuple[float, int]:
    started, sent = time.process_time(), 0
    for _ in range(loops):
        fragments = Fragmenter(info, fragment_s=None)
        for packet in packets:
            closed = fragments.add(packet)
            if closed:
                sent += len(b"".join(closed))
    return time.process_time() - started, sent


def ffmpeg_muxer(info: StreamInfo, packets: list[MediaPacket], loops: int) -> tuple[float, int]:
    started, sent = time.process_time(), 0
    framer = AnnexBFramer(info.extradata)
    for _ in range(loops):
        sink = io.BytesIO()
        with av.open(sink, mode="w", format="mp4", options={"movflags": MOVFLAGS}) as container:
            stream = container.add_mux_stream("h264", width=info.width, height=info.height)
            stream.time_base = info.time_base
            for packet in packets:
                out = av.Packet(framer.frame(packet.data, packet.keyframe))
                out.pts = out.dts = packet.pts
                out.time_base, out.is_keyframe, out.stream = packet.time_base, packet.keyframe, stream
                container.mux(out)
                sent += len(sink.getbuffer())
                sink.seek(0)
                sink.truncate()
    return time.process_time() - started, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of video to re-frame, each way")
    args = parser.parse_args()
    clip = make_clip(clip_cache_dir() / "bench-1920x1080-4M.mp4", width=1920, height=1080, bitrate="4M", seconds=10)
    info, packets = camera_packets(clip)
    loops = max(1, round(args.seconds / (len(packets) / 25)))
    frames = loops * len(packets)
    ours, ours_bytes = fragmenter(info, packets, loops)
    theirs, theirs_bytes = ffmpeg_muxer(info, packets, loops)
    print(f"fMP4 re-framing of {frames} frames (1080p25 H.264, {args.seconds:g} s of video each way)")
    for name, cpu, sent in (("fragmenter", ours, ours_bytes), ("FFmpeg muxer", theirs, theirs_bytes)):
        print(f"  {name:14} {cpu / frames * 1e6:7.1f} µs CPU per frame ({sent / frames / 1024:.1f} KiB/frame out)")
    print(f"  ratio          {ours / theirs:.2f}")


if __name__ == "__main__":
    main()

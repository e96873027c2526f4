"""The fast tier: each module tests one source module on real, small inputs (a few frames of H.264 encoded
here, SQLite in memory), without cameras, servers or browsers. `./dev test tests/unit` runs it in seconds."""

from __future__ import annotations

import io
import random
import time
from fractions import Fraction

import av
import pytest

from media.mp4.init import init_segment
from media.packet import MediaPacket, StreamInfo


class Session:
    """A short camera session: its StreamInfo and packets, as a source would publish them."""

    def __init__(self, info: StreamInfo, packets: list[MediaPacket]) -> None:
        self.info = info
        self.packets = packets


def encode_session(
    frames: int = 30, fps: int = 10, gop: int = 10, annexb: bool = True, codec: str = "h264", textured: bool = False
) -> Session:
    """A 160x120 session without B-frames (H.264 Main, or H.265); `annexb`: start codes (RTSP), else length
    prefixes (files). Its pictures are flat grey, or with `textured` a fixed noise pattern coded coarsely (block
    edges for a deblocking filter to smooth)."""
    raw = io.BytesIO()
    with av.open(raw, "w", format="mp4") as out:
        stream = out.add_stream("libx264" if codec == "h264" else "libx265", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        if codec == "h264":
            stream.options = {"profile": "main", "bf": "0", "g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"}
            if textured:
                stream.options["crf"] = "45"
        else:
            stream.options = {"x265-params": f"bframes=0:keyint={gop}:min-keyint={gop}:scenecut=0:log-level=error"}
        for index in range(frames):
            frame = av.VideoFrame(160, 120, "yuv420p")
            for plane in frame.planes:
                if textured:
                    plane.update(random.Random(plane.buffer_size).randbytes(plane.buffer_size))
                else:
                    plane.update(bytes([(index * 7) % 256]) * plane.buffer_size)
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    raw.seek(0)
    with av.open(raw, "r") as container:
        video = container.streams.video[0]
        time_base = video.time_base or Fraction(1, 90000)
        packets = []
        bsf = av.BitStreamFilterContext(f"{codec}_mp4toannexb", video) if annexb else None
        for packet in container.demux(video):
            if packet.size == 0:
                continue
            for out_packet in bsf.filter(packet) if bsf else [packet]:
                packets.append(
                    MediaPacket(
                        1,
                        bytes(out_packet),
                        out_packet.pts,
                        out_packet.dts,
                        out_packet.duration,
                        time_base,
                        out_packet.is_keyframe,
                        0.0,
                    )
                )
        extradata = bytes(video.codec_context.extradata or b"")
        if annexb:
            extradata = _annexb_parameter_sets(extradata, codec)
        info = StreamInfo(
            1, codec, "Main", 160, 120, time_base, extradata, float(fps), time.time(), init_segment(video)
        )
    return Session(info, packets)


def _annexb_parameter_sets(record: bytes, codec: str) -> bytes:
    from media.nal import START_CODE, parse_avcc, parse_hvcc

    _, sets = parse_hvcc(record) if codec == "hevc" else parse_avcc(record)
    return b"".join(START_CODE + unit for unit in sets)


@pytest.fixture(scope="session")
def h264_session() -> Session:
    return encode_session()


@pytest.fixture(scope="session")
def h264_file_session() -> Session:
    return encode_session(annexb=False)


@pytest.fixture(scope="session")
def hevc_session() -> Session:
    return encode_session(codec="hevc")


@pytest.fixture(scope="session")
def hevc_file_session() -> Session:
    return encode_session(codec="hevc", annexb=False)

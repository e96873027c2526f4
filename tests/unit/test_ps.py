"""media/ps.py: GB/T 28181's program stream, read back by FFmpeg's own MPEG-PS demuxer (`ffprobe -f mpeg`),
which must find the codec the program stream map names and decode every frame."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from media.nal import AnnexBFramer
from media.ps import MAX_PES_PAYLOAD, PsMuxer, crc32_mpeg, pes_packets, program_stream_map
from tests.unit.conftest import Session

RTP_CLOCK = Fraction(1, 90000)


def _ps(session: Session) -> bytes:
    framer = AnnexBFramer(session.info.extradata, session.info.codec)
    muxer = PsMuxer(session.info.codec)
    out = []
    for packet in session.packets:
        pts = round((packet.pts or 0) * session.info.time_base / RTP_CLOCK)
        out.append(muxer.frame(framer.frame(packet.data, packet.keyframe), pts, packet.keyframe))
    return b"".join(out)


@pytest.mark.parametrize("fixture", ["h264_session", "h264_file_session", "hevc_session", "hevc_file_session"])
def test_ffmpeg_reads_the_codec_from_the_map_and_decodes_every_frame(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    session: Session = request.getfixturevalue(fixture)
    path = tmp_path / "stream.ps"
    path.write_bytes(_ps(session))
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-f",
            "mpeg",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    (stream,) = json.loads(probe.stdout)["streams"]
    assert stream["codec_name"] == session.info.codec and (stream["width"], stream["height"]) == (160, 120)
    assert int(stream["nb_read_frames"]) == len(session.packets)
    decode = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "mpeg", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
    )
    assert decode.returncode == 0 and decode.stderr == ""


def test_key_frames_carry_the_map_with_the_codecs_stream_type() -> None:
    psm = program_stream_map("hevc")
    assert psm.startswith(b"\x00\x00\x01\xbc") and psm[12] == 0x24 and psm[13] == 0xE0
    assert crc32_mpeg(psm[:-4]) == int.from_bytes(psm[-4:], "big")
    muxer = PsMuxer("h264")
    key, delta = (
        muxer.frame(b"\x00\x00\x00\x01\x65\x88", 9000, True),
        muxer.frame(b"\x00\x00\x00\x01\x41\x9a", 12600, False),
    )
    assert key.startswith(b"\x00\x00\x01\xba") and b"\x00\x00\x01\xbc" in key and b"\x00\x00\x01\xbb" in key
    assert b"\x00\x00\x01\xbc" not in delta
    with pytest.raises(ValueError):
        PsMuxer("mjpeg")


def test_large_frames_are_split_into_pes_packets_under_64_kib() -> None:
    frame = b"\x00\x00\x00\x01\x65" + bytes(200_000)
    packets = pes_packets(frame, 90_000)
    assert len(packets) == 4 and all(len(p) - 6 <= 0xFFFF for p in packets)
    assert b"".join(p[9 + p[8] :] for p in packets) == frame  # the payloads, in order
    assert packets[0][7] == 0x80 and packets[1][7] == 0x00  # only the first has the PTS
    assert MAX_PES_PAYLOAD + 13 == 0xFFFF

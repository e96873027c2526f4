"""The segment writer copies a camera's frames into fragmented MP4 untouched: every frame of the source
decodes from the segment to the same picture, with the same timestamps, whichever framing the packets come in
(Annex B from RTSP, length-prefixed from files), and a file cut anywhere plays after its torn tail is cut off."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import pytest
from av.bitstream import BitStreamFilterContext

from media.mp4.file import read_layout, truncate_incomplete
from media.mp4.fragment import Track
from media.mp4.init import init_segment
from media.packet import MediaPacket, StreamInfo
from recordings.writer import SegmentWriteError, SegmentWriter
from tests.rig.media import clip_cache_dir, make_clip


def frame_hashes(path: Path) -> list[str]:
    """MD5 of every decoded picture, in presentation order."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if not line.startswith("#")]


def packet_times(path: Path) -> list[tuple[float, float, bool]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        packets = [p for p in container.demux(stream) if p.size]
        first = packets[0].dts
        return [(float((p.pts - first) * tb), float((p.dts - first) * tb), p.is_keyframe) for p in packets]


def camera_packets(clip: Path, annexb: bool, time_base: Fraction | None = None) -> tuple[StreamInfo, list[MediaPacket]]:
    """The clip's packets as a camera delivers them: Annex B (RTSP) or as stored (file)."""
    with av.open(str(clip)) as source:
        video = source.streams.video[0]
        tb = Fraction(video.time_base.numerator, video.time_base.denominator)
        to_annexb = BitStreamFilterContext(f"{video.codec_context.name}_mp4toannexb", video) if annexb else None
        out_tb = time_base or tb
        packets = []
        for p in source.demux(video):
            if not p.size:
                continue
            pts, dts = (round(t * tb / out_tb) for t in (p.pts, p.dts))
            for out in to_annexb.filter(p) if to_annexb else [p]:
                assert bytes(out)[:4] == b"\0\0\0\1" or not annexb
                packets.append(MediaPacket(1, memoryview(bytes(out)), pts, dts, 0, out_tb, p.is_keyframe, 0.0))
        # Annex B packets carry their parameter sets in band here (the filter puts them before key frames);
        # stored packets come with the file's avcC/hvcC record.
        extradata = None if annexb else bytes(video.codec_context.extradata)
        info = StreamInfo(
            1,
            video.codec_context.name,
            None,
            video.codec_context.width,
            video.codec_context.height,
            out_tb,
            extradata,
            25.0,
            0.0,
            init_segment(video),
        )
    return info, packets


def write_segment(path: Path, info: StreamInfo, packets: list[MediaPacket]) -> SegmentWriter:
    writer = SegmentWriter(path, info, fragment_s=1.0)
    for packet in packets:
        writer.write(packet)
    writer.close()
    return writer


@pytest.fixture(scope="module")
def clip_small_frames() -> Path:
    """Frames of a few hundred bytes: as MP4 stores them, some start 00 00 01 (a length of 256 to 511), which
    reads like an Annex B start code; only the stream's avcC says which framing it is."""
    return make_clip(
        clip_cache_dir() / "small-frames-320x180.mp4", width=320, height=180, bitrate="60k", pattern="smptehdbars"
    )


@pytest.mark.parametrize("annexb", [True, False], ids=["annexb", "length-prefixed"])
def test_frames_are_copied_bit_exact(clip_h264: Path, tmp_path: Path, annexb: bool) -> None:
    info, packets = camera_packets(clip_h264, annexb)
    writer = write_segment(tmp_path / "s.mp4", info, packets)
    assert frame_hashes(tmp_path / "s.mp4") == frame_hashes(clip_h264)
    assert packet_times(tmp_path / "s.mp4") == packet_times(clip_h264)
    layout = read_layout(tmp_path / "s.mp4")
    assert layout is not None and layout.complete_size == layout.file_size == writer.size()
    # A fragment per key frame (2 s GOP) and at least one a second.
    assert layout.fragments >= len(packets) / 25
    assert writer.duration_s == pytest.approx(len(packets) / 25)
    assert writer.keyframes == pytest.approx([k * 2.0 for k in range(len(writer.keyframes))])


def test_length_prefixes_that_look_like_start_codes(clip_small_frames: Path, tmp_path: Path) -> None:
    info, packets = camera_packets(clip_small_frames, annexb=False)
    assert any(bytes(p.data[:3]) == b"\0\0\1" for p in packets), "the clip must hold the ambiguous case"
    write_segment(tmp_path / "small.mp4", info, packets)
    assert frame_hashes(tmp_path / "small.mp4") == frame_hashes(clip_small_frames)


def test_composition_offsets_and_rescaled_clocks(clip_with_b_frames: Path, tmp_path: Path) -> None:
    # RTSP's 90 kHz clock where the initialisation segment was made with another timescale.
    info, packets = camera_packets(clip_with_b_frames, annexb=True, time_base=Fraction(1, 90000))
    assert Track.of_init(info.mp4_init).timescale != 90000
    write_segment(tmp_path / "b.mp4", info, packets)
    assert frame_hashes(tmp_path / "b.mp4") == frame_hashes(clip_with_b_frames)
    written, source = packet_times(tmp_path / "b.mp4"), packet_times(clip_with_b_frames)
    assert [key for *_, key in written] == [key for *_, key in source]
    assert [t for pts, dts, _ in written for t in (pts, dts)] == pytest.approx(
        [t for pts, dts, _ in source for t in (pts, dts)], abs=1e-4
    )


def test_hevc(clip_hevc: Path, tmp_path: Path) -> None:
    info, packets = camera_packets(clip_hevc, annexb=True)
    write_segment(tmp_path / "h.mp4", info, packets)
    assert frame_hashes(tmp_path / "h.mp4") == frame_hashes(clip_hevc)


def test_a_file_torn_anywhere_plays_after_the_cut(clip_h264: Path, tmp_path: Path) -> None:
    info, packets = camera_packets(clip_h264, annexb=True)
    write_segment(tmp_path / "whole.mp4", info, packets)
    whole = (tmp_path / "whole.mp4").read_bytes()
    for cut in range(len(info.mp4_init) + 1, len(whole), len(whole) // 7):
        torn = tmp_path / f"torn-{cut}.mp4"
        torn.write_bytes(whole[:cut])
        layout = truncate_incomplete(torn)
        assert layout is not None and layout.file_size <= cut
        if layout.fragments:
            hashes = frame_hashes(torn)
            assert hashes and hashes == frame_hashes(clip_h264)[: len(hashes)]


def test_parameters_mp4_cannot_carry_are_refused_clearly(clip_h264: Path, tmp_path: Path) -> None:
    info, _ = camera_packets(clip_h264, annexb=True)
    with pytest.raises(SegmentWriteError, match="no trex or mdhd"):
        SegmentWriter(tmp_path / "x.mp4", replace(info, mp4_init=b"\0\0\0\x08free"), fragment_s=1.0)
    with pytest.raises(SegmentWriteError, match="cannot be recorded into MP4"):
        SegmentWriter(tmp_path / "y.mp4", replace(info, codec="mjpeg", mp4_init=None), fragment_s=1.0)
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "y.mp4").exists()

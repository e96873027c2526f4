"""media/mp4/file.py: a segment read back from its boxes gives what FFmpeg's demuxer gives, for the recorder's
own fragments and for FFmpeg's; a torn tail is cut to the last whole fragment."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from media.mp4.file import _demuxed_contents, read_contents, truncate_incomplete
from media.mp4.fragmenter import Fragmenter
from tests.unit.conftest import Session, encode_session


def _ours(session: Session, path: Path) -> Path:
    fragments = Fragmenter(session.info, 1.0)
    parts = [fragments.init]
    for packet in session.packets:
        parts += [bytes(p) for p in fragments.add(packet)]
    parts += [bytes(p) for p in fragments.finish()]
    path.write_bytes(b"".join(parts))
    return path


def _ffmpegs(session: Session, path: Path) -> Path:
    """The same frames through FFmpeg's MP4 muxer, fragmented as the recorder's files used to be."""
    source = io.BytesIO(_ours(session, path.with_suffix(".ours.mp4")).read_bytes())
    with av.open(source, "r", format="mp4") as inp, av.open(str(path), "w", format="mp4",
                 options={"movflags": "frag_keyframe+empty_moov+default_base_moof"}) as out:  # fmt: skip
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    return path


@pytest.mark.parametrize("writer", [_ours, _ffmpegs])
@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_the_boxes_say_what_the_demuxer_says(writer, codec: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = encode_session(frames=25, fps=10, gop=10, codec=codec)
    path = writer(session, tmp_path / "segment.mp4")
    demuxed = _demuxed_contents(path)
    monkeypatch.setattr("media.mp4.file._demuxed_contents", lambda path: pytest.fail("demuxed, not read from boxes"))
    fast = read_contents(path)
    assert fast is not None and demuxed is not None
    assert (fast.codec, fast.width, fast.height, fast.packets) == (demuxed.codec, 160, 120, 25)
    assert fast.duration_s == pytest.approx(demuxed.duration_s)
    assert fast.duration_s == pytest.approx(2.5)
    assert fast.keyframes == pytest.approx(demuxed.keyframes)
    assert fast.keyframes == pytest.approx((0.0, 1.0, 2.0))
    assert fast.extradata == demuxed.extradata


def test_a_torn_segment_reads_to_its_last_whole_fragment(tmp_path: Path) -> None:
    session = encode_session(frames=30, fps=10, gop=10)
    path = _ours(session, tmp_path / "segment.mp4")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])  # the last fragment's frames cut short, as a kill -9 leaves it
    layout = truncate_incomplete(path)
    contents = read_contents(path)
    assert layout is not None and layout.fragments == 2
    assert contents is not None and contents.packets == 20 and contents.duration_s == pytest.approx(2.0)


def test_a_file_without_fragments_or_video(tmp_path: Path) -> None:
    plain = tmp_path / "plain.mp4"
    with av.open(str(plain), "w", format="mp4") as out:  # samples in the movie header: FFmpeg reads it
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(10):
            frame = av.VideoFrame(64, 48, "yuv420p")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    contents = read_contents(plain)
    assert contents is not None and contents.packets == 10 and contents.width == 64
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(Fragmenter(encode_session(frames=1).info, 1.0).init)
    assert read_contents(empty) is None
    assert read_contents(tmp_path / "missing.mp4") is None

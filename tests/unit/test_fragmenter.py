"""media/mp4/fragmenter.py: the recorder's and the live fMP4 view's fragments, checked by FFmpeg decoding them."""

from __future__ import annotations

import io

import av

from media.mp4.boxes import boxes
from media.mp4.fragmenter import Fragmenter
from streams.live.fmp4 import codec_string
from tests.unit.conftest import Session


def _fmp4(session: Session, fragment_s: float | None) -> tuple[bytes, int]:
    fragments = Fragmenter(session.info, fragment_s)
    out = [fragments.init]
    count = 0
    for packet in session.packets:
        closed = fragments.add(packet)
        count += bool(closed)
        out += [bytes(p) for p in closed]
    out += [bytes(p) for p in fragments.finish()]
    return b"".join(out), count + 1


def _decoded(data: bytes) -> tuple[int, list[float]]:
    with av.open(io.BytesIO(data), "r", format="mp4") as container:
        frames = list(container.decode(video=0))
    return len(frames), [float(f.pts * f.time_base) for f in frames]


def test_a_fragment_per_key_frame_or_per_second_and_every_frame_decodes(h264_session: Session) -> None:
    data, fragments = _fmp4(h264_session, fragment_s=1.0)
    assert fragments == 3  # 30 frames at 10 fps, a key frame every 10
    assert [b.kind for b in boxes(data)].count(b"moof") == 3
    count, times = _decoded(data)
    assert count == len(h264_session.packets)
    assert times == [i / 10 for i in range(30)]  # frame durations from the next frame: no drift


def test_a_fragment_per_frame_for_live_view(h264_session: Session) -> None:
    data, fragments = _fmp4(h264_session, fragment_s=None)
    assert fragments == len(h264_session.packets)
    assert _decoded(data)[0] == len(h264_session.packets)
    assert codec_string(h264_session.info.mp4_init or b"").startswith("avc1.4d")


def test_length_prefixed_sources_are_copied_as_they_are(h264_file_session: Session) -> None:
    data, _ = _fmp4(h264_file_session, fragment_s=1.0)
    assert _decoded(data)[0] == len(h264_file_session.packets)
    assert h264_file_session.packets[0].data in data  # the frame itself, untouched


def test_step_and_duration_follow_the_cameras_clock(h264_session: Session) -> None:
    fragments = Fragmenter(h264_session.info, 1.0)
    first, second = h264_session.packets[:2]
    assert fragments.step_s(first) is None
    fragments.add(first)
    assert fragments.step_s(second) == 0.1
    fragments.add(second)
    assert round(fragments.duration_s, 3) == 0.2 and fragments.keyframes == [0.0]

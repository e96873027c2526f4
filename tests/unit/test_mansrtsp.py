"""uplink/gb28181/mansrtsp.py: the playback controls of an INFO."""

from __future__ import annotations

import pytest

from uplink.gb28181.mansrtsp import MansrtspError, PlaybackControl, parse


@pytest.mark.parametrize(
    ("body", "control"),
    [
        ("PLAY RTSP/1.0\r\nCSeq: 2\r\nRange: npt=100-\r\n", PlaybackControl("PLAY", 100.0, None)),
        ("PLAY RTSP/1.0\r\nCSeq: 3\r\nScale: 2.0\r\n", PlaybackControl("PLAY", None, 2.0)),
        ("PLAY RTSP/1.0\r\nCSeq: 3\r\nRange: npt=now-\r\nScale: 0.5\r\n", PlaybackControl("PLAY", None, 0.5)),
        ("PAUSE RTSP/1.0\r\nCSeq: 4\r\nPauseTime: now\r\n", PlaybackControl("PAUSE")),
        ("TEARDOWN RTSP/1.0\nCSeq: 5\n", PlaybackControl("TEARDOWN")),
    ],
)
def test_controls(body: str, control: PlaybackControl) -> None:
    assert parse(body.encode()) == control


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("PLAY\r\n", "request line"),
        ("RECORD RTSP/1.0\r\n", "not supported"),
        ("PLAY RTSP/1.0\r\nScale: fast\r\n", "bad scale"),
    ],
)
def test_what_is_refused(body: str, why: str) -> None:
    with pytest.raises(MansrtspError, match=why):
        parse(body.encode())

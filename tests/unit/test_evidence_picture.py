"""A violation's snapshot (detectors/pipeline/evidence.py): the main stream's latest key frame, decoded in full from
the hub's cache, when it already shows the violation; else nothing (the caller keeps the frame the detectors judged)."""

from __future__ import annotations

from detectors.pipeline.evidence import latest_key_frame_picture
from streams.hub import Hub
from tests.unit.conftest import encode_session


def _hub() -> Hub:
    session = encode_session(frames=25, gop=10)
    hub = Hub("cam")
    hub.begin(session.info)
    for n, packet in enumerate(session.packets):
        hub.publish(packet._replace(received_at=1000.0 + n))  # key frames arrive at 1000, 1010, 1020
    return hub


def test_the_latest_key_frame_of_the_main_stream_at_full_size() -> None:
    picture = latest_key_frame_picture(_hub(), since=1015.0)
    assert picture is not None and picture.at == 1020.0
    assert (picture.width, picture.height) == (160, 120) and picture.bgr().shape == (120, 160, 3)


def test_none_when_the_key_frame_predates_the_violation_or_there_is_none() -> None:
    assert latest_key_frame_picture(_hub(), since=1021.0) is None
    assert latest_key_frame_picture(Hub("cam"), since=0.0) is None

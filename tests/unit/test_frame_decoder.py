"""The detectors' decoder (detectors/frames/decoder.py): key frames only, decoded without the deblocking filter,
while a violation's snapshot is decoded in full (detectors/pipeline/evidence.py)."""

from __future__ import annotations

import numpy as np

from detectors.frames.decoder import FrameDecoder
from detectors.pipeline.evidence import latest_key_frame_picture
from media.decoding import av_packet, decoder_for
from streams.hub import Hub
from tests.unit.conftest import encode_session


def _full_decode_of_first_key_frame(session) -> np.ndarray:  # type: ignore[no-untyped-def]
    decoder = decoder_for(session.info)
    frames = decoder.decode(av_packet(session.packets[0])) + decoder.decode(None)
    return frames[0].to_ndarray(format="gray")


def test_key_frames_only_decodes_one_frame_per_gop_without_the_deblocking_filter() -> None:
    session = encode_session(frames=20, gop=10, textured=True)
    decoder = FrameDecoder(session.info, key_frames_only=True)
    frames = [frame for packet in session.packets for frame in decoder.decode(packet)]
    assert len(frames) == 2 and decoder.decoded == 2  # frames 0 and 10
    cheap = frames[0].to_ndarray(format="gray").astype(int)
    full = _full_decode_of_first_key_frame(session).astype(int)
    difference = np.abs(cheap - full)
    # Coarse coding leaves block edges the filter would have smoothed: the pictures differ, a little.
    assert difference.max() > 0
    assert difference.mean() < 8


def test_every_frame_decoded_in_full_when_a_detector_needs_them() -> None:
    session = encode_session(frames=20, gop=10, textured=True)
    decoder = FrameDecoder(session.info, key_frames_only=False)
    frames = [frame for packet in session.packets for frame in decoder.decode(packet)]
    assert decoder.full_quality and len(frames) >= 19  # the last may wait for a flush
    assert np.array_equal(frames[0].to_ndarray(format="gray"), _full_decode_of_first_key_frame(session))


def test_the_snapshot_picture_is_the_full_decode() -> None:
    session = encode_session(frames=5, gop=10, textured=True)
    hub = Hub("cam")
    hub.begin(session.info)
    for packet in session.packets:
        hub.publish(packet._replace(received_at=1000.0))
    picture = latest_key_frame_picture(hub, since=999.0)
    assert picture is not None and picture.source is not None
    assert np.array_equal(picture.source.to_ndarray(format="gray"), _full_decode_of_first_key_frame(session))

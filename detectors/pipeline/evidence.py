"""The picture of a violation's snapshot: the camera's latest key frame, decoded in full from the hub's cache.

The detectors judge a picture made cheaply: a camera analysed on its sub-stream is judged on that small picture, and
a camera analysed on key frames only is decoded without the deblocking filter (`detectors/frames/decoder.py`). The
snapshot, which people look at, is taken from the main stream as the camera meant it: the hub keeps the packets
since its latest key frame, so that frame is at hand, one decode when a violation starts, nothing per frame. It is
used only if it arrived after the violation's onset, i.e. it shows the condition already holding; else (a long GOP
on a sub-stream) the frame the detectors judged is used instead. Zones and regions are normalised, so they are drawn
right on either.
"""

from __future__ import annotations

import logging

import av

from detectors.frames.scaler import FrameScaler
from detectors.interface import AnalysisFrame
from media.decoding import av_packet, decoder_for
from streams.hub import Hub

log = logging.getLogger(__name__)


def latest_key_frame_picture(hub: Hub, since: float) -> AnalysisFrame | None:
    """The hub's latest key frame, decoded in full, if it arrived at or after `since`; else None."""
    latest = hub.latest_keyframe()
    if latest is None:
        return None
    info, packet = latest
    if packet.received_at < since:
        return None
    try:
        decoder = decoder_for(info)
        frames = decoder.decode(av_packet(packet)) + decoder.decode(None)
    except av.error.FFmpegError as error:
        log.warning("camera %s: the main stream's key frame did not decode (%s)", hub.camera_id, error)
        return None
    return FrameScaler().scale(frames[0], packet.received_at) if frames else None

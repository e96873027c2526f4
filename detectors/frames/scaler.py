"""Scales decoded frames once per camera to the size every detector of that camera analyses."""

from __future__ import annotations

import av

from detectors.interface import AnalysisFrame

ANALYSIS_WIDTH = 320


def analysis_size(width: int, height: int, target_width: int = ANALYSIS_WIDTH) -> tuple[int, int]:
    """Analysis size keeping the aspect ratio; multiples of 4 (chroma at half size), never larger than the picture."""
    w = min(target_width, width)
    h = max(4, round(height * w / width))
    return w - w % 4, h - h % 4


class FrameScaler:
    """Turns a decoded frame into the luma picture detectors share (swscale, area averaging)."""

    def __init__(self, target_width: int = ANALYSIS_WIDTH) -> None:
        self.target_width = target_width

    def scale(self, frame: av.VideoFrame, at: float) -> AnalysisFrame:
        w, h = analysis_size(frame.width, frame.height, self.target_width)
        # One swscale call gives luma at analysis size and chroma at half that: colour tells a brown box
        # from a grey floor of the same brightness.
        planes = frame.reformat(width=w, height=h, format="yuv420p", interpolation="AREA").to_ndarray()
        gray = planes[:h]
        chroma = planes[h:].reshape(2, h // 2, w // 2)
        return AnalysisFrame(at=at, gray=gray, source=frame, width=frame.width, height=frame.height, chroma=chroma)

"""Decoded pictures to JPEG, with FFmpeg's MJPEG encoder: snapshots and the Motion JPEG live view."""

from __future__ import annotations

from fractions import Fraction

import av


def encode_jpeg(frame: av.VideoFrame, max_width: int | None = None, quality: int = 3) -> bytes:
    """`frame` as one JPEG, scaled down (aspect kept) where it is wider than `max_width`; `quality` is
    FFmpeg's `q:v`, 2 (best) to 31."""
    width, height = frame.width, frame.height
    if max_width is not None and width > max_width:
        width, height = max_width, round(height * max_width / width)
    width, height = width - width % 2, height - height % 2  # 4:2:0 wants even sizes
    picture = frame.reformat(width=width, height=height, format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = frame.time_base or Fraction(1, 25)
    encoder.options = {"q:v": str(quality)}
    return b"".join(bytes(p) for p in encoder.encode(picture) + encoder.encode(None))

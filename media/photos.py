"""Photos uploaded by people (a reporter's phone, an institution's rectification): what they are is read from
their own bytes, never from the name or type the client claims, and a photo must decode.

The picture size is read from the header before anything is decoded: a few kilobytes of PNG can claim a
gigapixel, and decoding that would take gigabytes. The decode check itself runs at an eighth of the size
(libjpeg scales while it decodes), so a phone's 12-megapixel photo is checked in milliseconds.
"""

from __future__ import annotations

import struct
from enum import Enum

import cv2
import numpy as np

JPEG = "image/jpeg"
PNG = "image/png"
_MAGIC = {b"\xff\xd8\xff": JPEG, b"\x89PNG\r\n\x1a\n": PNG}
MAX_PIXELS = 64_000_000  # a 48-megapixel phone photo passes, a decompression bomb does not
# JPEG markers that start a frame (and carry its size): SOF0..SOF15 less DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class Refusal(Enum):
    TOO_LARGE = "too_large"  # more bytes than allowed
    NOT_A_PHOTO = "not_a_photo"  # not a JPEG or PNG
    TOO_MANY_PIXELS = "too_many_pixels"
    DAMAGED = "damaged"  # says it is one, does not decode


class PhotoRefused(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


def photo_type(data: bytes) -> str | None:
    """image/jpeg or image/png from the first bytes; None for anything else."""
    return next((kind for magic, kind in _MAGIC.items() if data.startswith(magic)), None)


def picture_size(data: bytes, content_type: str) -> tuple[int, int] | None:
    """(width, height) from the header; None when the header is cut short or malformed."""
    if content_type == PNG:
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _SOF:
            if at + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        if length < 2:
            return None
        at += 2 + length
    return None


def check_photo(data: bytes, max_bytes: int, what: str = "the photo") -> str:
    """The photo's content type when it is a JPEG or PNG picture of at most `max_bytes` that decodes;
    PhotoRefused saying why otherwise."""
    if len(data) > max_bytes:
        raise PhotoRefused(Refusal.TOO_LARGE, f"{what} is larger than {max_bytes // (1024 * 1024)} MB")
    content_type = photo_type(data)
    if content_type is None:
        raise PhotoRefused(Refusal.NOT_A_PHOTO, f"{what} must be a JPEG or PNG picture")
    size = picture_size(data, content_type)
    if size is None or size[0] < 1 or size[1] < 1:
        raise PhotoRefused(Refusal.DAMAGED, f"{what} is damaged: it cannot be decoded")
    if size[0] * size[1] > MAX_PIXELS:
        raise PhotoRefused(Refusal.TOO_MANY_PIXELS, f"{what} has more than {MAX_PIXELS // 1_000_000} megapixels")
    if not _decodes(data):
        raise PhotoRefused(Refusal.DAMAGED, f"{what} is damaged: it cannot be decoded")
    return content_type


def _decodes(data: bytes) -> bool:
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    return picture is not None and picture.size > 0

"""media/photos.py: an uploaded photo is what its bytes say, of a sane size, and decodes."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from media.photos import JPEG, PNG, PhotoRefused, Refusal, check_photo, photo_type, picture_size


def _encoded(ext: str, width: int = 160, height: int = 120) -> bytes:
    picture = np.zeros((height, width, 3), np.uint8)
    cv2.rectangle(picture, (10, 10), (width // 2, height // 2), (0, 0, 255), -1)
    ok, data = cv2.imencode(ext, picture)
    assert ok
    return bytes(data.tobytes())


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_real_jpeg_and_png_pass_with_their_type_and_size() -> None:
    jpeg, png = _encoded(".jpg", 640, 360), _encoded(".png")
    assert photo_type(jpeg) == JPEG and picture_size(jpeg, JPEG) == (640, 360)
    assert photo_type(png) == PNG and picture_size(png, PNG) == (160, 120)
    assert check_photo(jpeg, 1_000_000) == JPEG and check_photo(png, 1_000_000) == PNG


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (b"GIF89a" + b"\x00" * 100, Refusal.NOT_A_PHOTO),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", Refusal.NOT_A_PHOTO),
        (b"\xff\xd8\xff\xe0" + b"this is not a jpeg at all" * 20, Refusal.DAMAGED),  # the magic, then junk
        (_png_claiming(100_000, 100_000), Refusal.TOO_MANY_PIXELS),
        (_png_claiming(10, 10), Refusal.DAMAGED),  # a header and nothing to decode
        (b"\x89PNG\r\n\x1a\n", Refusal.DAMAGED),
    ],
)
def test_what_is_not_a_usable_photo_is_refused_saying_why(data: bytes, refusal: Refusal) -> None:
    with pytest.raises(PhotoRefused) as refused:
        check_photo(data, 1_000_000, "photo 2")
    assert refused.value.refusal is refusal and "photo 2" in str(refused.value)


def test_a_photo_over_the_size_limit_is_refused_before_anything_else() -> None:
    with pytest.raises(PhotoRefused) as refused:
        check_photo(_encoded(".png", 640, 480), 1024)
    assert refused.value.refusal is Refusal.TOO_LARGE


def test_a_truncated_jpeg_header_has_no_size() -> None:
    jpeg = _encoded(".jpg")
    assert picture_size(jpeg[:10], JPEG) is None

"""A photo uploaded through the API (a rectification, an inspection, a public report): read no further than its
limit, checked by `media/photos.py`, refused with the status that says why."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException, UploadFile, status

from media.photos import PhotoRefused, Refusal, check_photo

MAX_PHOTO_BYTES = 8 * 1024 * 1024  # a phone's photo
REFUSAL_STATUS = {
    Refusal.TOO_LARGE: status.HTTP_413_CONTENT_TOO_LARGE,
    Refusal.NOT_A_PHOTO: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    Refusal.TOO_MANY_PIXELS: status.HTTP_422_UNPROCESSABLE_CONTENT,
    Refusal.DAMAGED: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


async def read_photo(
    upload: UploadFile, max_bytes: int = MAX_PHOTO_BYTES, what: str = "the photo"
) -> tuple[str, bytes]:
    """(content type, bytes) of an uploaded JPEG or PNG photo; an HTTPException saying why it is refused."""
    data = await upload.read(max_bytes + 1)
    try:
        content_type = await asyncio.to_thread(check_photo, data, max_bytes, what)
    except PhotoRefused as refused:
        raise HTTPException(REFUSAL_STATUS[refused.refusal], str(refused)) from None
    return content_type, data

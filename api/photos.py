"""Photos through the API (a rectification, an inspection, a public report): an upload read no further than its
limit, checked by `media/photos.py`, refused with the status that says why; a stored one served as it came."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import HTTPException, Response, UploadFile, status

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


# The `responses` entry of a route that serves a stored photo: JPEG or PNG, whichever was uploaded.
PHOTO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the photo"}
}


def photo_response(content_type: str, data: bytes) -> Response:
    """A stored photo, private to the logged-in browser, never sniffed as anything but what it is."""
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )

"""What the API answers besides JSON, and the error answers each route declares, so that its OpenAPI document
says what really comes back (status codes, bodies, media types)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from fastapi.responses import FileResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, TypeAdapter

from media.multipart import CONTENT_TYPE as MULTIPART


class Problem(BaseModel):
    """Every refusal but a validation error: `detail` says what is wrong, for a person to act on."""

    detail: str


_WHY = {
    400: "The request cannot be served as it is (the detail says why).",
    401: "Not logged in, or the session expired.",
    403: "The account may not do this.",
    404: "No such thing, or not in the account's organisation unit.",
    409: "Not possible in the present state (the detail says why).",
    410: "Gone: deleted by retention or expired.",
    413: "The request body is too large.",
    405: "Not supported.",
    415: "Unsupported media type.",
    429: "Too many: a limit is reached.",
    422: "Unprocessable.",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route that may refuse with these codes (each with a `Problem` body)."""
    return {code: {"model": Problem, "description": _WHY[code]} for code in codes}


class JpegResponse(Response):
    media_type = "image/jpeg"


class Mp4File(FileResponse):
    media_type = "video/mp4"


class Mp4Stream(StreamingResponse):
    media_type = "video/mp4"


class SegmentStream(StreamingResponse):
    media_type = "video/iso.segment"


class HlsPlaylist(Response):
    media_type = "application/vnd.apple.mpegurl"


class SdpResponse(Response):
    media_type = "application/sdp"


class MultipartJpegStream(StreamingResponse):
    """`multipart/x-mixed-replace` of JPEG pictures (Motion JPEG), for an `<img>` or `fetch`."""

    media_type = MULTIPART


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


class PrometheusText(Response):
    media_type = CONTENT_TYPE_LATEST


class ModelList(Response):
    """A list of models serialised by pydantic in one call.

    FastAPI would validate the returned models a second time and encode them through `jsonable_encoder`: 3 ms for
    100 cases where this takes 0.2 ms (bench/api.py). A route returning it names its `response_model`, which its
    OpenAPI document keeps.
    """

    media_type = "application/json"

    def __init__(self, items: Sequence[BaseModel], model: type[BaseModel]) -> None:
        super().__init__(_list_adapter(model).dump_json(list(items)))


@cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]

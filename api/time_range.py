"""Time ranges in query strings and bodies: ISO 8601 with a time zone, or Unix seconds."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

from fastapi import HTTPException, status
from pydantic import WithJsonSchema

# A moment as the API takes it: pydantic reads both, and the schema says so.
Moment = Annotated[
    dt.datetime,
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
            "description": "ISO 8601 with a time zone (2026-11-28T08:00:00+08:00), or Unix seconds",
        }
    ),
]

_FUTURE_TOLERANCE_S = 2.0


def to_timestamp(value: dt.datetime, name: str) -> float:
    if value.tzinfo is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"{name}: give a time zone (e.g. 2026-11-28T08:00:00+08:00) or Unix seconds"
        )
    return value.timestamp()


def checked_range(start: dt.datetime, end: dt.datetime, *, end_may_be_future: bool) -> tuple[float, float]:
    """(start, end) as Unix seconds, or a 400 that says what is wrong with them."""
    start_ts, end_ts = to_timestamp(start, "start"), to_timestamp(end, "end")
    now = time.time()
    if start_ts >= end_ts:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "start must be before end")
    if start_ts > now + _FUTURE_TOLERANCE_S:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "start is in the future")
    if end_ts > now + _FUTURE_TOLERANCE_S and not end_may_be_future:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "end is in the future")
    return start_ts, min(end_ts, now)

"""What a hub subscription delivers: a session's parameters, its packets, and the marks between them."""

from __future__ import annotations

from dataclasses import dataclass

from media.packet import MediaPacket, StreamInfo


@dataclass(frozen=True, slots=True)
class StreamEnded:
    """The connection `session` ended; the next item, if any, is a new StreamInfo."""

    session: int
    reason: str
    ended_at: float


@dataclass(frozen=True, slots=True)
class PacketsDropped:
    """The consumer fell behind and `count` packets were dropped; delivery resumes on a key frame."""

    session: int
    count: int
    at: float


StreamItem = StreamInfo | MediaPacket | StreamEnded | PacketsDropped

"""JPEG snapshots of a camera: its latest key frame, decoded on demand and cached briefly."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import av

from media.decoding import av_packet, decoder_for
from media.jpeg import encode_jpeg
from media.packet import MediaPacket, StreamInfo
from streams.hub import Hub
from streams.subscription import OverflowPolicy, SubscriptionClosed

KEYFRAME_WAIT_S = 5.0


class SnapshotUnavailable(Exception):
    """No picture could be had (no key frame arrived in time, or it did not decode)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    jpeg: bytes
    taken_at: float  # wall clock when the key frame arrived
    width: int
    height: int


def decode_keyframe(hub: Hub, wait_s: float = KEYFRAME_WAIT_S) -> Snapshot:
    """Blocking: the hub's cached key frame (or the next one) as a JPEG. Run it in a worker thread."""
    # Room for the whole cached GOP: a smaller queue would overflow on it and drop its key frame.
    subscription = hub.subscribe("snapshot", policy=OverflowPolicy.DROP)
    try:
        info: StreamInfo | None = None
        deadline = time.monotonic() + wait_s
        while (remaining := deadline - time.monotonic()) > 0:
            item = subscription.get(remaining)
            if isinstance(item, StreamInfo):
                info = item
            elif isinstance(item, MediaPacket) and item.keyframe and info is not None:
                return _to_jpeg(info, item)
        raise SnapshotUnavailable(f"no key frame within {wait_s:.0f} s")
    except SubscriptionClosed as closed:
        raise SnapshotUnavailable(f"the camera stream closed ({closed})") from None
    finally:
        hub.unsubscribe(subscription)


def _to_jpeg(info: StreamInfo, packet: MediaPacket) -> Snapshot:
    decoder = decoder_for(info)
    try:
        frames = decoder.decode(av_packet(packet)) + decoder.decode(None)
    except av.error.FFmpegError as error:
        raise SnapshotUnavailable(f"the key frame did not decode: {error}") from None
    if not frames:
        raise SnapshotUnavailable("the key frame did not decode")
    frame = frames[0]
    jpeg = encode_jpeg(frame)
    return Snapshot(jpeg, packet.received_at, frame.width, frame.height)


class SnapshotCache:
    """One decode per camera per `max_age_s`, however many people ask; the decode runs in a thread."""

    def __init__(self) -> None:
        self._cached: dict[str, tuple[float, Snapshot]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, camera_id: str, hub: Hub, max_age_s: float) -> Snapshot:
        lock = self._locks.setdefault(camera_id, asyncio.Lock())
        async with lock:
            cached = self._cached.get(camera_id)
            if cached is not None and time.monotonic() - cached[0] <= max_age_s:
                return cached[1]
            snapshot = await asyncio.to_thread(decode_keyframe, hub)
            self._cached[camera_id] = (time.monotonic(), snapshot)
            return snapshot

    def forget(self, camera_id: str) -> None:
        self._cached.pop(camera_id, None)

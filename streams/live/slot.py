"""A viewer's place under the caps, and what is shown of it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ViewerSlot:
    """One live viewer of one camera, counted against the caps until released."""

    id: str
    camera_id: str
    username: str
    transport: str  # "webrtc" or "fmp4"
    opened_at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class ViewerInfo:
    id: str
    camera_id: str
    username: str
    transport: str
    opened_at: float
    state: str
    packets_sent: int

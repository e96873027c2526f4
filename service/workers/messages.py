"""What the service process and a worker process tell each other over their socket (pickled; both ends are
this program, on one machine, over a socket pair nobody else holds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.config import Config
from detectors.pipeline.status import PipelineStatus
from detectors.violations.feed import FeedItem
from media.packet import StreamInfo
from recordings.recorder import RecorderStatus
from streams.health import HealthSnapshot
from streams.items import StreamItem
from streams.subscription import ConsumerStats
from uplink.push import PushStatus

# --- service → worker ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """The first message: who the worker is and how it logs."""

    index: int
    log_level: str
    secrets: tuple[str, ...]  # masked in every log line, as in the service process


@dataclass(frozen=True, slots=True)
class Apply:
    """Run exactly `camera_ids` of `config` (a call: answered by `Reply` with the `Changes`)."""

    call: int
    config: Config
    camera_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop every camera and exit (a call: answered with each camera's last health)."""

    call: int


@dataclass(frozen=True, slots=True)
class Watch:
    """Forward a camera's stream (`detect`: its sub-stream) from its cached key frame on, tagged `seq`, until
    `Unwatch`: someone in the service process watches it."""

    camera_id: str
    detect: bool
    seq: int


@dataclass(frozen=True, slots=True)
class Unwatch:
    camera_id: str
    detect: bool


# --- worker → service ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    call: int
    value: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StreamReport:
    """One connection of a camera (main or sub-stream) as the worker sees it."""

    health: HealthSnapshot
    info: StreamInfo | None  # the hub's current session, None while not connected
    consumers: list[ConsumerStats]


@dataclass(frozen=True, slots=True)
class CameraReport:
    main: StreamReport  # the idle tracker's "stopped" while the camera is disabled, and no consumers
    running: bool  # the camera's connection runs (it is enabled)
    detect: StreamReport | None
    recorder: RecorderStatus | None
    detection: PipelineStatus | None


@dataclass(frozen=True, slots=True)
class State:
    """Every second: the worker's cameras and pushes."""

    at: float
    cameras: dict[str, CameraReport]
    pushes: list[PushStatus] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Media:
    """A watched stream's item (packets carry their bytes); `seq` is the `Watch` it answers."""

    camera_id: str
    detect: bool
    seq: int
    item: StreamItem


@dataclass(frozen=True, slots=True)
class Feed:
    """A violation change, for the service's live feed (the store has it already)."""

    item: FeedItem


@dataclass(frozen=True, slots=True)
class ClipSettled:
    violation_id: int


ToWorker = Start | Apply | Stop | Watch | Unwatch
FromWorker = Reply | State | Media | Feed | ClipSettled

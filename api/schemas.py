"""Response and request bodies. Camera sources are described without their credentials."""

from __future__ import annotations

from pydantic import BaseModel

from streams.health import HealthSnapshot
from streams.subscription import ConsumerStats
from vms.config import CameraConfig, DetectorConfig
from vms.organisation import OrgTree


class OrgRef(BaseModel):
    id: str
    name: str


class SourceView(BaseModel):
    url: str
    transport: str
    has_credentials: bool


class HealthView(BaseModel):
    state: str
    state_since: float
    fps: float
    bitrate_bps: float
    codec: str | None
    profile: str | None
    width: int | None
    height: int | None
    last_keyframe_at: float | None
    keyframe_interval_s: float | None
    last_packet_at: float | None
    last_packet_age_s: float | None
    connected_at: float | None
    reconnects: int
    packets_total: int
    bytes_total: int
    last_error: str | None
    last_error_at: float | None
    next_attempt_at: float | None

    @classmethod
    def of(cls, snap: HealthSnapshot) -> HealthView:
        fields = {name: getattr(snap, name) for name in cls.model_fields if name != "state"}
        return cls(state=snap.state.value, **fields)


class ConsumerView(BaseModel):
    name: str
    policy: str
    queued: int
    capacity: int
    delivered: int
    dropped: int
    detached: bool
    closed_reason: str | None

    @classmethod
    def of(cls, stats: ConsumerStats) -> ConsumerView:
        return cls(**{name: getattr(stats, name) for name in cls.model_fields})


class CameraView(BaseModel):
    id: str
    name: str
    role: str
    enabled: bool
    institution: OrgRef
    town: OrgRef | None
    source: SourceView
    retention_hours: float
    detectors: list[DetectorConfig]
    health: HealthView | None
    consumers: list[ConsumerView] = []


class HealthEventView(BaseModel):
    at: float
    state: str
    detail: str | None


class CameraDetail(CameraView):
    history: list[HealthEventView]


def camera_view(
    camera: CameraConfig, tree: OrgTree, retention_hours: float, default_transport: str,
    health: HealthSnapshot | None, consumers: list[ConsumerStats],
) -> dict[str, object]:
    inst = tree.units[camera.institution]
    town = tree.town_of(camera.institution)
    src = camera.source
    return {
        "id": camera.id,
        "name": camera.name,
        "role": camera.role,
        "enabled": camera.enabled,
        "institution": OrgRef(id=inst.id, name=inst.name),
        "town": OrgRef(id=town.id, name=town.name) if town else None,
        "source": SourceView(
            url=src.url, transport=src.transport or default_transport,
            has_credentials=bool(src.username or src.password),
        ),
        "retention_hours": retention_hours,
        "detectors": camera.detectors,
        "health": HealthView.of(health) if health else None,
        "consumers": [ConsumerView.of(c) for c in consumers],
    }


class LoginRequest(BaseModel):
    username: str
    password: str


class UserView(BaseModel):
    username: str
    display_name: str | None
    org_unit_id: str
    role: str


class LoginResponse(BaseModel):
    token: str
    expires_at: float
    user: UserView


class OrgNode(BaseModel):
    id: str
    name: str
    kind: str
    children: list[OrgNode] = []
    cameras: list[str] = []

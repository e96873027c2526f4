"""Response and request bodies. Camera sources are described without their credentials."""

from __future__ import annotations

from pydantic import BaseModel

from core.config import CameraConfig, DetectorSettings
from core.organisation import OrgTree
from detectors.pipeline.status import PipelineStatus
from recordings.recorder import RecorderStatus
from streams.health import HealthSnapshot
from streams.subscription import ConsumerStats


class OrgRef(BaseModel):
    id: str
    name: str


class SourceView(BaseModel):
    url: str
    transport: str
    has_credentials: bool


class CameraView(BaseModel):
    id: str
    name: str
    role: str
    enabled: bool
    institution: OrgRef
    town: OrgRef | None
    source: SourceView
    retention_hours: float
    detectors: list[DetectorSettings]
    health: HealthSnapshot | None
    consumers: list[ConsumerStats] = []
    recording: RecorderStatus | None = None
    detection: PipelineStatus | None = None  # the camera's analysis: running, behind (skipping), errors


class HealthEventView(BaseModel):
    at: float
    state: str
    detail: str | None


class CameraDetail(CameraView):
    history: list[HealthEventView]


def camera_view(
    camera: CameraConfig,
    tree: OrgTree,
    retention_hours: float,
    default_transport: str,
    health: HealthSnapshot | None,
    consumers: list[ConsumerStats],
    recording: RecorderStatus | None = None,
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
            url=src.url,
            transport=src.transport or default_transport,
            has_credentials=bool(src.username or src.password),
        ),
        "retention_hours": retention_hours,
        "detectors": camera.detectors,
        "health": health,
        "consumers": consumers,
        "recording": recording,
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

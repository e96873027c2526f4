"""Upper platforms (上级平台): how forwarding to each is doing, and the messages it refused (bureau-level accounts)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CallerDep, RowId, ServiceDep, UserDep, allow, require_bureau
from api.responses import problems
from core.config.uplink import PlatformConfig
from core.roles import Permission
from uplink.service import PlatformHealth, PushRefused, oldest_age_s

router = APIRouter(responses=problems(401, 403))
PlatformId = Annotated[str, Path(max_length=64, description="an upper platform's id")]


class _View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class EventForwardingView(BaseModel):
    url: str
    pending: int = Field(description="messages not yet taken by the platform (the outbox depth)")
    oldest_pending_age_s: float | None
    delivered: int
    parked: int = Field(description="messages the platform refused for good, set aside")
    last_delivered_at: float | None
    last_attempt_at: float | None
    last_error: str | None


class PushView(_View):
    """A camera pushed to the platform's media server."""

    camera_id: str
    url: str = Field(description="without credentials or stream key")
    mode: Literal["always", "on_demand"]
    state: Literal["waiting", "connecting", "pushing", "failing", "refused", "stopped"]
    since: float
    packets_sent: int
    bytes_sent: int
    connections: int
    last_error: str | None


class RegistrationView(_View):
    state: Literal["registering", "registered", "refused", "unreachable", "stopped"]
    reason: str | None = Field(description="why it is not registered, or why it registered again")
    since: float
    registered_at: float | None
    expires_at: float | None
    last_keepalive_at: float | None = Field(description="when the platform last answered a keepalive")
    keepalive_misses: int
    attempts: int = Field(description="REGISTER exchanges since the start")


class CascadeSessionView(_View):
    """Video the platform asked for."""

    camera_id: str
    channel_id: str
    kind: Literal["Play", "Playback", "Download"]
    transport: Literal["udp", "tcp-active", "tcp-passive"]
    destination: str
    ssrc: str
    started_at: float
    bytes_sent: int
    acked: bool


class AlarmOutboxView(BaseModel):
    pending: int
    oldest_pending_age_s: float | None
    delivered: int
    parked: int
    last_delivered_at: float | None
    last_error: str | None


class CascadeView(BaseModel):
    """The GB/T 28181 cascade to the platform."""

    server: str
    local: str | None = Field(description="our SIP address; None where the port could not be opened")
    local_id: str
    error: str | None = Field(description="why the cascade is not running, where it is not")
    registration: RegistrationView | None
    sessions: list[CascadeSessionView]
    bytes_sent: int = Field(description="video sent since the start, all sessions")
    cameras: int = Field(description="cameras in the catalog it is sent")
    cameras_without_id: list[str] = Field(description="cameras it sees that have no GB/T 28181 id, so are not sent")
    subscriptions: dict[str, int]
    alarms: AlarmOutboxView | None


class PlatformView(BaseModel):
    id: str
    name: str
    events: EventForwardingView | None
    pushes: list[PushView]
    gb28181: CascadeView | None


def _cascade(platform: PlatformHealth, config: PlatformConfig) -> CascadeView | None:
    gb = config.gb28181
    if gb is None:
        return None
    status = platform.gb28181
    server = f"{gb.host}:{gb.port}/{gb.transport}"
    if status is None:
        return CascadeView(
            server=server,
            local=None,
            local_id=gb.local_id,
            error=platform.gb28181_error or "starting",
            registration=None,
            sessions=[],
            bytes_sent=0,
            cameras=0,
            cameras_without_id=[],
            subscriptions={},
            alarms=None,
        )
    alarms = status.alarms
    return CascadeView(
        server=server,
        local=status.local,
        local_id=gb.local_id,
        error=None,
        registration=RegistrationView.model_validate(status.registration),
        sessions=[CascadeSessionView.model_validate(s) for s in status.sessions],
        bytes_sent=status.bytes_sent,
        cameras=status.cameras,
        cameras_without_id=status.cameras_without_id,
        subscriptions=status.subscriptions,
        alarms=AlarmOutboxView(
            pending=alarms.pending,
            oldest_pending_age_s=oldest_age_s(alarms),
            delivered=alarms.delivered,
            parked=alarms.parked,
            last_delivered_at=alarms.last_delivered_at,
            last_error=alarms.last_error,
        )
        if alarms is not None
        else None,
    )


class ParkedView(BaseModel):
    id: int
    event_id: int
    camera_id: str
    attempts: int
    reason: str | None
    created_at: float


@router.get("/api/uplink/platforms", dependencies=[allow(Permission.OPERATE)])
async def platforms(service: ServiceDep, user: UserDep) -> list[PlatformView]:
    require_bureau(service, user, "upper platforms")
    health = await asyncio.to_thread(service.uplink.health)
    configs = {p.id: p for p in service.uplink.platforms}
    return [
        PlatformView(
            id=platform.id,
            name=platform.name,
            events=EventForwardingView(
                url=platform.events_url,
                pending=platform.events.pending,
                oldest_pending_age_s=oldest_age_s(platform.events),
                delivered=platform.events.delivered,
                parked=platform.events.parked,
                last_delivered_at=platform.events.last_delivered_at,
                last_attempt_at=platform.last_attempt_at,
                last_error=platform.events.last_error,
            )
            if platform.events is not None and platform.events_url is not None
            else None,
            pushes=[PushView.model_validate(push) for push in platform.pushes],
            gb28181=_cascade(platform, configs[platform.id]),
        )
        for platform in health
        if platform.id in configs
    ]


def _known(service: ServiceDep, platform_id: str) -> None:
    if not any(p.id == platform_id for p in service.uplink.platforms):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no upper platform {platform_id!r}")


@router.get(
    "/api/uplink/platforms/{platform_id}/parked", dependencies=[allow(Permission.OPERATE)], responses=problems(404)
)
def parked(platform_id: PlatformId, service: ServiceDep, user: UserDep) -> list[ParkedView]:
    require_bureau(service, user, "upper platforms")
    _known(service, platform_id)
    return [
        ParkedView(
            id=d.id,
            event_id=d.event_id,
            camera_id=d.camera_id,
            attempts=d.attempts,
            reason=d.last_error,
            created_at=d.created_at,
        )
        for d in service.store.uplink.parked(platform_id)
    ]


@router.post(
    "/api/uplink/platforms/{platform_id}/parked/{delivery_id}/retry",
    dependencies=[allow(Permission.OPERATE)],
    status_code=204,
    responses=problems(404),
)
def retry(platform_id: PlatformId, delivery_id: RowId, service: ServiceDep, who: CallerDep) -> None:
    """Send a refused message again (once the platform's side is fixed)."""
    require_bureau(service, who.user, "upper platforms")
    _known(service, platform_id)
    if not service.store.uplink.retry(platform_id, delivery_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no parked message {delivery_id} for {platform_id!r}")
    who.audit("uplink.retry", platform_id, str(delivery_id))


CameraId = Annotated[str, Path(max_length=64, description="a camera id")]


@router.post(
    "/api/uplink/platforms/{platform_id}/pushes/{camera_id}",
    dependencies=[allow(Permission.OPERATE)],
    responses=problems(404, 409),
)
def start_push(platform_id: PlatformId, camera_id: CameraId, service: ServiceDep, who: CallerDep) -> PushView:
    """Start an on-demand push of the camera to the platform's media server."""
    require_bureau(service, who.user, "upper platforms")
    _known(service, platform_id)
    try:
        status = service.uplink.start_push(platform_id, camera_id)
    except PushRefused as error:
        raise HTTPException(status_code=409, detail=str(error)) from None
    who.audit("uplink.push.start", camera_id, platform_id)
    return PushView.model_validate(status)


@router.delete(
    "/api/uplink/platforms/{platform_id}/pushes/{camera_id}",
    dependencies=[allow(Permission.OPERATE)],
    status_code=204,
    responses=problems(404),
)
def stop_push(platform_id: PlatformId, camera_id: CameraId, service: ServiceDep, who: CallerDep) -> None:
    require_bureau(service, who.user, "upper platforms")
    _known(service, platform_id)
    if not service.uplink.stop_push(platform_id, camera_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no on-demand push of {camera_id!r} to {platform_id!r} runs")
    who.audit("uplink.push.stop", camera_id, platform_id)

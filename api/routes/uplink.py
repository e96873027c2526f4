"""Upper platforms (上级平台): how forwarding to each is doing, and the messages it refused (bureau-level accounts)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CallerDep, RowId, ServiceDep, UserDep, require_bureau
from api.responses import problems
from uplink.service import PushRefused, oldest_age_s

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


class PlatformView(BaseModel):
    id: str
    name: str
    events: EventForwardingView | None
    pushes: list[PushView]


class ParkedView(BaseModel):
    id: int
    event_id: int
    camera_id: str
    attempts: int
    reason: str | None
    created_at: float


@router.get("/api/uplink/platforms")
async def platforms(service: ServiceDep, user: UserDep) -> list[PlatformView]:
    require_bureau(service, user, "upper platforms")
    health = await asyncio.to_thread(service.uplink.health)
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
        )
        for platform in health
    ]


def _known(service: ServiceDep, platform_id: str) -> None:
    if not any(p.id == platform_id for p in service.uplink.platforms):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no upper platform {platform_id!r}")


@router.get("/api/uplink/platforms/{platform_id}/parked", responses=problems(404))
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


@router.post("/api/uplink/platforms/{platform_id}/parked/{delivery_id}/retry", status_code=204, responses=problems(404))
def retry(platform_id: PlatformId, delivery_id: RowId, service: ServiceDep, who: CallerDep) -> None:
    """Send a refused message again (once the platform's side is fixed)."""
    require_bureau(service, who.user, "upper platforms")
    _known(service, platform_id)
    if not service.store.uplink.retry(platform_id, delivery_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no parked message {delivery_id} for {platform_id!r}")
    who.audit("uplink.retry", platform_id, str(delivery_id))


CameraId = Annotated[str, Path(max_length=64, description="a camera id")]


@router.post("/api/uplink/platforms/{platform_id}/pushes/{camera_id}", responses=problems(404, 409))
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


@router.delete("/api/uplink/platforms/{platform_id}/pushes/{camera_id}", status_code=204, responses=problems(404))
def stop_push(platform_id: PlatformId, camera_id: CameraId, service: ServiceDep, who: CallerDep) -> None:
    require_bureau(service, who.user, "upper platforms")
    _known(service, platform_id)
    if not service.uplink.stop_push(platform_id, camera_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no on-demand push of {camera_id!r} to {platform_id!r} runs")
    who.audit("uplink.push.stop", camera_id, platform_id)

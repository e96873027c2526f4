"""Snapshots: a camera's latest key frame as a JPEG."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.deps import CameraDep, ServiceDep, allow
from api.responses import JpegResponse, problems
from core.roles import Permission
from service.service import Service
from streams.live.snapshot import Snapshot, SnapshotUnavailable

router = APIRouter(responses=problems(401, 404))


async def take_snapshot(service: Service, camera_id: str, max_age_s: float) -> Snapshot:
    """The camera's picture, at most `max_age_s` old; 409 naming why there is none."""
    stream = service.cameras.stream(camera_id)
    if stream is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"camera {camera_id!r} is disabled or not running")
    if stream.hub.info is None:
        health = service.cameras.health(camera_id)
        state = health.state.value if health else "offline"
        reason = f": {health.last_error}" if health and health.last_error else ""
        raise HTTPException(status.HTTP_409_CONFLICT, f"camera {camera_id!r} is {state}{reason}")
    try:
        return await service.snapshots.get(camera_id, stream.hub, max_age_s)
    except SnapshotUnavailable as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"no snapshot of camera {camera_id!r}: {error}") from None


@router.get(
    "/api/cameras/{camera_id}/snapshot.jpg",
    dependencies=[allow(Permission.LIVE)],
    response_class=JpegResponse,
    responses=problems(409),
)
async def snapshot(camera: CameraDep, service: ServiceDep) -> JpegResponse:
    max_age = camera.directory.config.live.snapshot_cache_s
    picture = await take_snapshot(service, camera.id, max_age)
    await camera.audit_async("snapshot")
    return JpegResponse(
        picture.jpeg,
        headers={"Cache-Control": f"private, max-age={int(max_age)}", "X-Frame-Time": f"{picture.taken_at:.3f}"},
    )

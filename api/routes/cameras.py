"""Cameras the user may see: their configuration (without credentials) and live health."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep, UserDep, visible_camera, visible_cameras
from api.schemas import CameraDetail, CameraView, HealthEventView, camera_view
from core.config import CameraConfig
from service.service import Directory, Service

router = APIRouter()


def _view(service: Service, directory: Directory, camera: CameraConfig) -> dict[str, object]:
    stream = service.supervisor.stream(camera.id)
    view = camera_view(
        camera,
        directory.tree,
        directory.config.retention_hours(camera),
        directory.config.ingest.transport,
        service.supervisor.health(camera.id),
        stream.hub.consumers() if stream else [],
        service.recordings.recorders.status(camera.id),
    )
    view["detection"] = service.detection.status(camera.id) if stream else None
    return view


@router.get("/api/cameras")
def list_cameras(service: ServiceDep, user: UserDep) -> list[CameraView]:
    directory = service.directory  # one consistent configuration for the whole answer
    return [CameraView(**_view(service, directory, cam)) for cam in visible_cameras(directory, user)]


@router.get("/api/cameras/{camera_id}")
def get_camera(camera_id: str, service: ServiceDep, user: UserDep) -> CameraDetail:
    directory = service.directory
    camera = visible_camera(directory, user, camera_id)
    history = [
        HealthEventView(at=e.at, state=e.state, detail=e.detail)
        for e in service.store.health.events(camera.id, limit=50)
    ]
    return CameraDetail(**_view(service, directory, camera), history=history)

"""Cameras the user may see: their configuration (without credentials) and live health."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CameraDep, ServiceDep, UserDep, visible_cameras
from api.responses import problems
from api.schemas import (
    CameraDetail,
    CameraView,
    ConsumerView,
    DetectionView,
    DetectorView,
    HealthEventView,
    HealthView,
    OrgRef,
    RecorderView,
    SourceView,
)
from core.config import CameraConfig, DetectorSettings
from service.service import Directory, Service

router = APIRouter(responses=problems(401))


def detector_view(entry: DetectorSettings) -> DetectorView:
    data = entry.model_dump(mode="json")
    return DetectorView(
        type=entry.type,
        enabled=entry.enabled,
        zones=data["zones"],
        schedule=data["schedule"],
        params=data.get("params", {}),
    )


def camera_view(service: Service, directory: Directory, camera: CameraConfig) -> CameraView:
    tree = directory.tree
    institution = tree.units[camera.institution]
    town = tree.town_of(camera.institution)
    source = camera.source
    stream = service.supervisor.stream(camera.id)
    health = service.supervisor.health(camera.id)
    recording = service.recordings.recorders.status(camera.id)
    detection = service.detection.status(camera.id) if stream else None
    return CameraView(
        id=camera.id,
        name=camera.name,
        role=camera.role,
        enabled=camera.enabled,
        institution=OrgRef(id=institution.id, name=institution.name),
        town=OrgRef(id=town.id, name=town.name) if town else None,
        source=SourceView(
            url=source.url,
            transport=source.transport or directory.config.ingest.transport,
            has_credentials=bool(source.username or source.password or source.query_secrets),
        ),
        retention_hours=directory.config.retention_hours(camera),
        detectors=[detector_view(entry) for entry in camera.detectors],
        health=HealthView.model_validate(health) if health else None,
        consumers=[ConsumerView.model_validate(c) for c in (stream.hub.consumers() if stream else [])],
        recording=RecorderView.model_validate(recording) if recording else None,
        detection=DetectionView.model_validate(detection) if detection else None,
    )


@router.get("/api/cameras")
def list_cameras(service: ServiceDep, user: UserDep) -> list[CameraView]:
    directory = service.directory  # one consistent configuration for the whole answer
    return [camera_view(service, directory, cam) for cam in visible_cameras(directory, user)]


@router.get("/api/cameras/{camera_id}", responses=problems(404))
def get_camera(camera: CameraDep, service: ServiceDep) -> CameraDetail:
    history = [
        HealthEventView(at=e.at, state=e.state, detail=e.detail)
        for e in service.store.health.events(camera.id, limit=50)
    ]
    view = camera_view(service, camera.directory, camera.camera)
    return CameraDetail(**view.model_dump(), history=history)


@router.get("/api/cameras/{camera_id}/detection", responses=problems(404))
def camera_detection(camera: CameraDep, service: ServiceDep) -> DetectionView | None:
    """How the camera's analysis is doing: which detectors run, frames analysed, whether it falls behind;
    null while the camera runs no analysis (disabled)."""
    status = service.detection.status(camera.id)
    return DetectionView.model_validate(status) if status else None

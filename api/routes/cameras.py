"""Cameras the user may see: their configuration (without credentials) and live health."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter

from api.deps import CameraDep, ServiceDep, UserDep, allow, visible_cameras
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
from core.config import CameraConfig, DetectorSettings, SourceConfig
from core.roles import Permission
from detectors.registry import PLUGINS
from service.service import Directory, Service

router = APIRouter(responses=problems(401))


def detector_view(entry: DetectorSettings, dismissed: Mapping[str, int] | None = None) -> DetectorView:
    data = entry.model_dump(mode="json")
    return DetectorView(
        type=entry.type,
        enabled=entry.enabled,
        zones=data["zones"],
        schedule=data["schedule"],
        params=data.get("params", {}),
        dismissed_false_alarms=sum((dismissed or {}).get(kind, 0) for kind in _kinds(entry)),
    )


def _kinds(entry: DetectorSettings) -> set[str]:
    """The violation kinds a detector entry reports: its plug-in's, and those the entry itself declares."""
    plugin = PLUGINS.get(entry.type)
    if plugin is None:
        return set()
    return {kind.type for kind in (*plugin.kinds, *plugin.declared_kinds(entry))}


def detection_view(service: Service, camera_id: str, dismissed: dict[str, int]) -> DetectionView | None:
    status = service.cameras.detection_status(camera_id)
    if status is None:
        return None
    return DetectionView.model_validate(status).model_copy(update={"dismissed_false_alarms": dismissed})


def camera_view(service: Service, directory: Directory, camera: CameraConfig) -> CameraView:
    tree = directory.tree
    institution = tree.units[camera.institution]
    town = tree.town_of(camera.institution)
    source = camera.source
    stream = service.cameras.stream(camera.id)
    health = service.cameras.health(camera.id)
    detect_stream = service.cameras.detect_stream(camera.id)  # the sub-stream's connection, if any
    recording = service.cameras.recorder_status(camera.id)
    # False alarms (violation cases dismissed), beside the figures of the detectors that raised them.
    dismissed = service.store.cases.dismissals(camera.id)
    return CameraView(
        id=camera.id,
        name=camera.name,
        role=camera.role,
        enabled=camera.enabled,
        institution=OrgRef(id=institution.id, name=institution.name),
        town=OrgRef(id=town.id, name=town.name) if town else None,
        source=source_view(source, directory),
        retention_hours=directory.config.retention_hours(camera),
        detectors=[detector_view(entry, dismissed) for entry in camera.detectors],
        health=HealthView.model_validate(health) if health else None,
        consumers=[ConsumerView.model_validate(c) for c in (stream.hub.consumers() if stream else [])],
        recording=RecorderView.model_validate(recording) if recording else None,
        detection=detection_view(service, camera.id, dismissed) if stream else None,
        detect_source=source_view(camera.detect_source, directory) if camera.detect_source else None,
        detect_health=HealthView.model_validate(detect_stream.health.snapshot()) if detect_stream else None,
        detect_consumers=[
            ConsumerView.model_validate(c) for c in (detect_stream.hub.consumers() if detect_stream else [])
        ],
    )


def source_view(source: SourceConfig, directory: Directory) -> SourceView:
    return SourceView(
        url=source.url,
        transport=source.transport or directory.config.ingest.transport,
        has_credentials=bool(source.username or source.password or source.query_secrets),
    )


@router.get("/api/cameras", dependencies=[allow(Permission.VIEW)])
def list_cameras(service: ServiceDep, user: UserDep) -> list[CameraView]:
    directory = service.directory  # one consistent configuration for the whole answer
    return [camera_view(service, directory, cam) for cam in visible_cameras(directory, user)]


@router.get("/api/cameras/{camera_id}", dependencies=[allow(Permission.VIEW)], responses=problems(404))
def get_camera(camera: CameraDep, service: ServiceDep) -> CameraDetail:
    history = [
        HealthEventView(at=e.at, state=e.state, detail=e.detail)
        for e in service.store.health.events(camera.id, limit=50)
    ]
    view = camera_view(service, camera.directory, camera.camera)
    return CameraDetail(**view.model_dump(), history=history)


@router.get("/api/cameras/{camera_id}/detection", dependencies=[allow(Permission.VIEW)], responses=problems(404))
def camera_detection(camera: CameraDep, service: ServiceDep) -> DetectionView | None:
    """How the camera's analysis is doing: which detectors run, frames analysed, whether it falls behind;
    null while the camera runs no analysis (disabled)."""
    return detection_view(service, camera.id, service.store.cases.dismissals(camera.id))

"""How each camera's analysis is doing: which detectors run, frames analysed, whether it falls behind."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep, UserDep, visible_camera
from detectors.pipeline.status import PipelineStatus

router = APIRouter()


@router.get("/api/cameras/{camera_id}/detection")
def camera_detection(camera_id: str, service: ServiceDep, user: UserDep) -> PipelineStatus | None:
    """None while the camera runs no analysis (disabled)."""
    camera = visible_camera(service.directory, user, camera_id)
    return service.detection.status(camera.id)

"""The worker processes that run the cameras: their health, and moving a camera to another (bureau-level
operators: a worker runs cameras of every town)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.deps import CallerDep, ServiceDep, UserDep, allow, require_bureau
from api.responses import problems
from core.roles import Permission
from service.camera_runtime import MoveRefused

router = APIRouter(responses=problems(401, 403))


class WorkerView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int
    state: str = Field(description="running | restarting | stopped")
    pid: int | None
    cameras: list[str] = Field(description="the cameras it runs")
    cpu_percent: float = Field(description="CPU over the last seconds, percent of one core")
    rss_bytes: int
    started_at: float | None
    restarts: int
    last_exit: str | None = Field(description="why its previous process ended, e.g. killed by signal 9")
    last_exit_at: float | None
    next_start_at: float | None = Field(description="while restarting: when its next process starts")


class WorkerMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    worker: StrictInt = Field(ge=0, le=255, description="the worker that runs the camera from now on")


@router.get("/api/workers", dependencies=[allow(Permission.OPERATE)])
def workers(service: ServiceDep, user: UserDep) -> list[WorkerView]:
    """Empty where the cameras run in the service process itself (`workers.processes: 0`)."""
    require_bureau(service, user, "worker processes")
    return [WorkerView.model_validate(worker) for worker in service.cameras.workers()]


@router.put(
    "/api/cameras/{camera_id}/worker",
    dependencies=[allow(Permission.OPERATE)],
    status_code=204,
    responses=problems(404, 409),
)
async def move_camera(
    camera_id: Annotated[str, Path(max_length=64, description="a camera id")],
    move: WorkerMove,
    service: ServiceDep,
    who: CallerDep,
) -> None:
    """Run the camera in another worker: its connection, recorder and detectors stop in the one and start in the
    other (the recording has a gap of a few seconds)."""
    require_bureau(service, who.user, "worker processes")
    if not any(camera.id == camera_id for camera in service.config.cameras):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {camera_id!r}")
    try:
        await service.cameras.move(camera_id, move.worker)
    except MoveRefused as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    await who.audit_async("camera.worker", camera_id, f"worker {move.worker}")

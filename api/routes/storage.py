"""The recordings volume: use, free space, cap and retention warnings (bureau-level accounts)."""

from __future__ import annotations

import shutil

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ServiceDep, UserDep, allow, require_bureau
from api.responses import problems
from core.roles import Permission

router = APIRouter(responses=problems(401, 403))


class StorageView(BaseModel):
    directory: str
    recordings_bytes: int
    free_bytes: int
    total_bytes: int
    cap_bytes: int | None
    min_free_bytes: int
    last_cleanup_at: float | None
    last_cleanup_deleted: int
    warnings: list[str]
    cameras_failing: dict[str, str]  # camera id -> why it cannot record


@router.get("/api/storage", dependencies=[allow(Permission.OPERATE)])
def storage(service: ServiceDep, user: UserDep) -> StorageView:
    require_bureau(service, user, "storage figures")
    config = service.config
    usage = shutil.disk_usage(config.recordings_dir)
    last = service.recordings.cleaner.last
    failing = {}
    for camera in config.cameras:
        recorder = service.cameras.recorder_status(camera.id)
        if recorder is not None and recorder.state == "failing":
            failing[camera.id] = recorder.last_error or "cannot write"
    warnings = list(last.warnings) if last else []
    if usage.free < config.retention.min_free:
        warnings.append("free disk is under the configured floor")
    return StorageView(
        directory=str(config.recordings_dir),
        recordings_bytes=service.store.recordings.total_bytes(),
        free_bytes=usage.free,
        total_bytes=usage.total,
        cap_bytes=int(config.retention.max_size) if config.retention.max_size is not None else None,
        min_free_bytes=int(config.retention.min_free),
        last_cleanup_at=last.at if last else None,
        last_cleanup_deleted=last.deleted if last else 0,
        warnings=warnings,
        cameras_failing=failing,
    )

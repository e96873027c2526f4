"""Clip exports: requested per camera, cut in the background, followed by progress, downloaded as MP4."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel

from api.deps import CallerDep, CameraDep, ServiceDep, UserDep, allow, visible_camera, visible_cameras
from api.responses import Mp4File, problems
from api.routes.recordings import retained_segments
from api.time_range import Moment, checked_range
from core.roles import Permission
from core.store.exports import Export
from core.store.users import User
from service.service import Service

router = APIRouter(responses=problems(401, 404))

MAX_EXPORT_S = 6 * 3600  # one request; longer evidence is exported in parts


class ExportRequest(BaseModel):
    """A range to cut: ISO 8601 with a time zone, or Unix seconds."""

    start: Moment
    end: Moment


class ExportView(BaseModel):
    id: str
    camera_id: str
    requested_by: str | None
    start: float
    end: float
    state: str  # queued | running | done | failed
    progress_percent: float
    clip_start: float | None  # the key frame the clip starts on
    duration_s: float | None
    size_bytes: int | None
    error: str | None
    created_at: float
    finished_at: float | None
    download_url: str | None


def _view(export: Export) -> ExportView:
    return ExportView(
        id=export.id,
        camera_id=export.camera_id,
        requested_by=export.username,
        start=export.start_ts,
        end=export.end_ts,
        state=export.state,
        progress_percent=round(export.progress * 100, 1),
        clip_start=export.clip_start,
        duration_s=export.duration_s,
        size_bytes=export.size_bytes,
        error=export.error,
        created_at=export.created_at,
        finished_at=export.finished_at,
        download_url=f"/api/exports/{export.id}/file" if export.state == "done" else None,
    )


@router.post(
    "/api/cameras/{camera_id}/exports",
    dependencies=[allow(Permission.EXPORT)],
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(400, 410),
)
def create_export(camera: CameraDep, body: ExportRequest, service: ServiceDep, response: Response) -> ExportView:
    start_ts, end_ts = checked_range(body.start, body.end, end_may_be_future=False)
    if end_ts - start_ts > MAX_EXPORT_S:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"an export covers at most {MAX_EXPORT_S // 3600} h")
    if not retained_segments(service, camera.camera, start_ts, end_ts):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no video was recorded in this range")
    user = camera.caller.user
    export = service.store.exports.create(camera.id, start_ts, end_ts, user.id, user.username)
    camera.audit("export.create", f"{export.id} {start_ts:.3f}-{end_ts:.3f}", start=start_ts, end=end_ts)
    service.recordings.exporter.submit(export)
    response.headers["Location"] = f"/api/exports/{export.id}"
    return _view(export)


ExportId = Annotated[str, Path(max_length=64, description="an export id")]


def _visible_export(service: Service, user: User, export_id: str) -> Export:
    export = service.store.exports.get(export_id)
    if export is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no export {export_id!r}")
    visible_camera(service.directory, user, export.camera_id)  # 404 outside the user's organisation
    return export


@router.get("/api/exports", dependencies=[allow(Permission.EXPORT)])
def list_exports(service: ServiceDep, user: UserDep) -> list[ExportView]:
    ids = [camera.id for camera in visible_cameras(service.directory, user)]
    return [_view(e) for e in service.store.exports.recent(ids)]


@router.get("/api/exports/{export_id}", dependencies=[allow(Permission.EXPORT)])
def get_export(export_id: ExportId, service: ServiceDep, user: UserDep) -> ExportView:
    return _view(_visible_export(service, user, export_id))


@router.get(
    "/api/exports/{export_id}/file",
    dependencies=[allow(Permission.EXPORT)],
    response_class=Mp4File,
    responses=problems(409, 410),
)
def download_export(export_id: ExportId, service: ServiceDep, who: CallerDep) -> Mp4File:
    export = _visible_export(service, who.user, export_id)
    if export.state != "done" or not export.file_name:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the export is {export.state}, not ready")
    path = service.config.storage.exports_dir / export.file_name
    if not path.exists():
        raise HTTPException(status.HTTP_410_GONE, "the exported file has expired")
    who.audit("export.download", export.camera_id, export.id, start=export.start_ts, end=export.end_ts)
    return Mp4File(path, filename=export.file_name)

"""Spot checks (远程视频抽查): started for an institution, snapshots kept as evidence, finished with a result."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from api.deps import CallerDep, RowId, ServiceDep, UserDep, allow, visible_camera, visible_institutions
from api.responses import JpegResponse, problems
from api.routes.snapshots import take_snapshot
from core.roles import Permission
from core.store.spot_checks import SpotCheck
from core.store.users import User
from service.service import Directory

router = APIRouter(responses=problems(401, 404))


class StartSpotCheck(BaseModel):
    institution_id: str


class TakeEvidence(BaseModel):
    camera_id: str


class FinishSpotCheck(BaseModel):
    result: Literal["pass", "issues"]
    remark: str | None = Field(default=None, max_length=2000)


class EvidenceView(BaseModel):
    id: int
    camera_id: str
    camera_name: str | None
    frame_at: float
    taken_at: float
    width: int
    height: int
    url: str


class SpotCheckView(BaseModel):
    id: int
    institution_id: str
    institution_name: str | None
    username: str
    started_at: float
    finished_at: float | None
    result: str | None
    remark: str | None
    evidence: list[EvidenceView]


def _view(directory: Directory, check: SpotCheck) -> SpotCheckView:
    names = {cam.id: cam.name for cam in directory.config.cameras}
    unit = directory.tree.units.get(check.institution_id)
    return SpotCheckView(
        id=check.id,
        institution_id=check.institution_id,
        institution_name=unit.name if unit else None,
        username=check.username,
        started_at=check.started_at,
        finished_at=check.finished_at,
        result=check.result,
        remark=check.remark,
        evidence=[
            EvidenceView(
                id=e.id,
                camera_id=e.camera_id,
                camera_name=names.get(e.camera_id),
                frame_at=e.frame_at,
                taken_at=e.taken_at,
                width=e.width,
                height=e.height,
                url=f"/api/spot-checks/{check.id}/evidence/{e.id}.jpg",
            )
            for e in check.evidence
        ],
    )


def _visible_institution(directory: Directory, user: User, institution_id: str) -> str:
    unit = directory.tree.units.get(institution_id)
    if unit is None or unit.kind != "institution" or not directory.tree.contains(user.org_unit_id, institution_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no institution {institution_id!r}")
    return institution_id


def _visible_check(service: ServiceDep, user: User, check_id: int) -> SpotCheck:
    check = service.store.spot_checks.get(check_id)
    if check is None or not service.directory.tree.contains(user.org_unit_id, check.institution_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no spot check {check_id}")
    return check


@router.post("/api/spot-checks", dependencies=[allow(Permission.SPOT_CHECK)], status_code=201)
def start_spot_check(body: StartSpotCheck, service: ServiceDep, who: CallerDep) -> SpotCheckView:
    directory = service.directory
    institution = _visible_institution(directory, who.user, body.institution_id)
    check = service.store.spot_checks.start(institution, who.user.id, who.user.username)
    who.audit("spot_check_start", institution, str(check.id))
    return _view(directory, check)


@router.get("/api/spot-checks", dependencies=[allow(Permission.VIEW)])
def list_spot_checks(service: ServiceDep, user: UserDep, institution_id: str | None = None) -> list[SpotCheckView]:
    directory = service.directory
    if institution_id is not None:
        institutions = [_visible_institution(directory, user, institution_id)]
    else:
        institutions = visible_institutions(directory, user)
    return [_view(directory, c) for c in service.store.spot_checks.recent(institutions)]


@router.get("/api/spot-checks/{check_id}", dependencies=[allow(Permission.VIEW)])
def get_spot_check(check_id: RowId, service: ServiceDep, user: UserDep) -> SpotCheckView:
    return _view(service.directory, _visible_check(service, user, check_id))


@router.post(
    "/api/spot-checks/{check_id}/evidence",
    dependencies=[allow(Permission.SPOT_CHECK)],
    status_code=201,
    responses=problems(409),
)
async def take_evidence(check_id: RowId, body: TakeEvidence, service: ServiceDep, who: CallerDep) -> EvidenceView:
    """Keep the camera's current picture (a fresh key frame, not an older cached one) with the check."""
    check = await asyncio.to_thread(_visible_check, service, who.user, check_id)
    if check.finished_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"spot check {check_id} is finished")
    directory = service.directory
    camera = visible_camera(directory, who.user, body.camera_id)
    if camera.institution != check.institution_id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"camera {camera.id!r} is not at institution {check.institution_id!r}",
        )
    picture = await take_snapshot(service, camera.id, max_age_s=0.5)
    evidence = await asyncio.to_thread(
        service.store.spot_checks.add_evidence,
        check.id,
        camera.id,
        picture.jpeg,
        picture.taken_at,
        picture.width,
        picture.height,
    )
    await who.audit_async("spot_check_evidence", camera.id, f"{check.id}: evidence {evidence.id}")
    return EvidenceView(
        id=evidence.id,
        camera_id=camera.id,
        camera_name=camera.name,
        frame_at=evidence.frame_at,
        taken_at=evidence.taken_at,
        width=evidence.width,
        height=evidence.height,
        url=f"/api/spot-checks/{check.id}/evidence/{evidence.id}.jpg",
    )


@router.post(
    "/api/spot-checks/{check_id}/finish", dependencies=[allow(Permission.SPOT_CHECK)], responses=problems(403, 409)
)
def finish_spot_check(check_id: RowId, body: FinishSpotCheck, service: ServiceDep, who: CallerDep) -> SpotCheckView:
    check = _visible_check(service, who.user, check_id)
    if check.username != who.user.username:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the inspector who started a spot check can finish it")
    if not service.store.spot_checks.finish(check.id, body.result, body.remark):
        raise HTTPException(status.HTTP_409_CONFLICT, f"spot check {check_id} is already finished")
    who.audit("spot_check_finish", check.institution_id, f"{check.id}: {body.result}")
    finished = service.store.spot_checks.get(check.id)
    assert finished is not None
    return _view(service.directory, finished)


@router.get(
    "/api/spot-checks/{check_id}/evidence/{evidence_id}.jpg",
    dependencies=[allow(Permission.PLAYBACK)],
    response_class=JpegResponse,
)
def evidence_jpeg(check_id: RowId, evidence_id: RowId, service: ServiceDep, user: UserDep) -> JpegResponse:
    check = _visible_check(service, user, check_id)
    jpeg = service.store.spot_checks.evidence_jpeg(check.id, evidence_id)
    if jpeg is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no evidence {evidence_id} in spot check {check_id}")
    return JpegResponse(jpeg, headers={"Cache-Control": "private, max-age=86400"})

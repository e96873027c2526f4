"""What an upper platform fetches by a signed link instead of an account: a violation's snapshot and evidence clip.
The link names whom it was given to and until when; each fetch is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from api.deps import RowId, ServiceDep, client_address
from api.responses import JpegResponse, Mp4File, problems
from service.service import Service

router = APIRouter(responses=problems(403, 404))
Signature = Annotated[str, Query(max_length=100)]
GivenTo = Annotated[str, Query(max_length=100, description="whom the link was given to")]
Expires = Annotated[int, Query(ge=0, le=2**40, description="Unix seconds")]


def _check(service: Service, request: Request, by: str, expires: int, sig: str, violation_id: int, what: str) -> str:
    if not service.urls.verify(request.url.path, by, expires, sig):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the link is not valid, or it has expired")
    record = service.store.violations.get(violation_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no violation {violation_id}")
    service.store.audit.record(
        what,
        username=f"platform:{by}",
        target=record.camera_id,
        detail=str(violation_id),
        client=client_address(request),
    )
    return record.clip_status


@router.get("/api/shared/violations/{violation_id}/snapshot.jpg", response_class=JpegResponse)
def shared_snapshot(
    violation_id: RowId, request: Request, service: ServiceDep, by: GivenTo, expires: Expires, sig: Signature
) -> JpegResponse:
    _check(service, request, by, expires, sig, violation_id, "violation.snapshot.shared")
    jpeg = service.store.violations.snapshot(violation_id)
    if jpeg is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"violation {violation_id} has no snapshot")
    return JpegResponse(jpeg, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/api/shared/violations/{violation_id}/clip.mp4", response_class=Mp4File, responses=problems(409))
def shared_clip(
    violation_id: RowId, request: Request, service: ServiceDep, by: GivenTo, expires: Expires, sig: Signature
) -> Mp4File:
    clip_status = _check(service, request, by, expires, sig, violation_id, "violation.clip.shared")
    path = service.recordings.evidence.path(violation_id)
    if clip_status != "ready" or not path.exists():
        raise HTTPException(status.HTTP_409_CONFLICT, f"the clip is {clip_status}, not ready")
    return Mp4File(path, filename=f"violation-{violation_id}.mp4")

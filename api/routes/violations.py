"""Violations of the cameras the user may see: a filtered list, one violation, its snapshot, live events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel

from api.deps import MAX_ROW_ID, CallerDep, RowId, ServiceDep, UserDep, allow, visible_institutions
from api.responses import EventStream, JpegResponse, ModelList, Mp4File, problems
from api.schemas import OrgRef, ViolationTypeView
from api.time_range import Moment, to_timestamp
from core.roles import Permission
from core.store.users import User
from core.store.violations import ViolationFilter, ViolationRecord
from detectors.registry import KINDS, label
from service.service import Directory

router = APIRouter(responses=problems(401))

KEEPALIVE_S = 15.0


class ClipView(BaseModel):
    """The video a violation needs: cut by the recordings component; `ref` once it exists."""

    camera_id: str
    start: float
    end: float | None
    status: str
    ref: str | None


class ViolationView(BaseModel):
    id: int
    type: str
    label: str
    severity: str
    camera: OrgRef
    institution: OrgRef
    town: OrgRef | None
    zone: str | None
    zone_points: list[list[float]] | None
    state: str
    started_at: float
    ended_at: float | None
    end_reason: str | None
    confidence: float
    bbox: list[float] | None
    snapshot_url: str | None
    clip: ClipView


def _view(directory: Directory, record: ViolationRecord) -> ViolationView:
    tree = directory.tree
    institution = tree.units.get(record.institution_id)
    town = tree.town_of(record.institution_id)

    return ViolationView(
        id=record.id,
        type=record.type,
        label=label(record.type),
        severity=KINDS[record.type].severity if record.type in KINDS else "major",
        camera=OrgRef(id=record.camera_id, name=directory.camera_names.get(record.camera_id, record.camera_id)),
        institution=OrgRef(id=record.institution_id, name=institution.name if institution else record.institution_id),
        town=OrgRef(id=town.id, name=town.name) if town else None,
        zone=record.zone,
        zone_points=record.zone_points,
        state=record.state,
        started_at=record.started_at,
        ended_at=record.ended_at,
        end_reason=record.end_reason,
        confidence=record.confidence,
        bbox=record.bbox,
        snapshot_url=f"/api/violations/{record.id}/snapshot" if record.has_snapshot else None,
        clip=ClipView(
            camera_id=record.camera_id,
            start=record.clip_start,
            end=record.clip_end,
            status=record.clip_status,
            ref=f"/api/violations/{record.id}/clip" if record.clip_status == "ready" else None,
        ),
    )


def _narrow(directory: Directory, user: User, institution: str | None, town: str | None) -> list[str]:
    allowed = visible_institutions(directory, user)
    tree = directory.tree
    for unit_id, kind in ((institution, "institution"), (town, "town")):
        if unit_id is None:
            continue
        unit = tree.units.get(unit_id)
        if (
            unit is None
            or (kind == "town" and unit.kind in ("institution", "bureau"))
            or (kind == "institution" and unit.kind != "institution")
        ):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} {unit_id!r}")
        allowed = [i for i in allowed if tree.contains(unit_id, i)]
    return allowed


@router.get("/api/violation-types", dependencies=[allow(Permission.VIEW)])
def violation_types(user: UserDep) -> list[ViolationTypeView]:
    """Every kind of violation the detectors report, with its labels and severity (the UI holds no copy)."""
    return [
        ViolationTypeView(type=kind.type, severity=kind.severity, label={"zh-CN": kind.zh, "en": kind.en})
        for kind in KINDS.values()
    ]


@router.get(
    "/api/violations",
    dependencies=[allow(Permission.VIEW)],
    response_model=list[ViolationView],
    responses=problems(400, 404),
)
def list_violations(
    service: ServiceDep,
    user: UserDep,
    institution: str | None = None,
    town: str | None = None,
    camera: str | None = None,
    type: Annotated[str | None, Query(description="e.g. blocked_route, covered_lens")] = None,
    state: Literal["active", "ended"] | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="paging: older than this id")] = None,
) -> ModelList:
    """Newest first. `since`/`until` select violations overlapping that span."""
    directory = service.directory
    if type is not None and type not in KINDS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, f"unknown violation type {type!r}; known: {', '.join(KINDS)}"
        )
    since_ts = to_timestamp(since, "since") if since is not None else None
    until_ts = to_timestamp(until, "until") if until is not None else None
    if since_ts is not None and until_ts is not None and until_ts < since_ts:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "until is before since")
    query = ViolationFilter(
        institutions=_narrow(directory, user, institution, town),
        camera_id=camera,
        type=type,
        state=state,
        since=since_ts,
        until=until_ts,
        limit=limit,
        before_id=before_id,
    )
    return ModelList([_view(directory, r) for r in service.store.violations.find(query)], ViolationView)


def _visible(service: ServiceDep, user: User, violation_id: int) -> ViolationRecord:
    record = service.store.violations.get(violation_id)
    if record is None or record.institution_id not in visible_institutions(service.directory, user):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no violation {violation_id}")
    return record


@router.get("/api/violations/events", dependencies=[allow(Permission.VIEW)], response_class=EventStream)
async def violation_events(request: Request, service: ServiceDep, user: UserDep) -> EventStream:
    """Server-sent events: `violation.started`, `violation.reopened`, `violation.ended` and `violation.updated`
    (its evidence clip was cut, or cannot be), each with the
    violation as JSON, for the cameras the user may see."""
    feed = service.violation_feed

    async def stream() -> AsyncIterator[bytes]:
        async with feed.listen() as queue:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                try:
                    item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                directory = service.directory
                if item.violation.institution_id not in visible_institutions(directory, user):
                    continue
                data = json.dumps(_view(directory, item.violation).model_dump(), ensure_ascii=False)
                yield f"event: violation.{item.phase}\nid: {item.violation.id}\ndata: {data}\n\n".encode()

    return EventStream(stream(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/api/violations/{violation_id}", dependencies=[allow(Permission.VIEW)], responses=problems(404))
def get_violation(violation_id: RowId, service: ServiceDep, user: UserDep) -> ViolationView:
    return _view(service.directory, _visible(service, user, violation_id))


@router.get(
    "/api/violations/{violation_id}/snapshot",
    dependencies=[allow(Permission.PLAYBACK)],
    response_class=JpegResponse,
    responses=problems(404),
)
def get_snapshot(violation_id: RowId, service: ServiceDep, user: UserDep) -> JpegResponse:
    _visible(service, user, violation_id)
    jpeg = service.store.violations.snapshot(violation_id)
    if jpeg is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"violation {violation_id} has no snapshot")
    return JpegResponse(jpeg, headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/api/violations/{violation_id}/clip",
    dependencies=[allow(Permission.PLAYBACK)],
    response_class=Mp4File,
    responses=problems(404, 409),
)
def get_clip(violation_id: RowId, service: ServiceDep, who: CallerDep) -> Mp4File:
    """The evidence clip (MP4, not re-encoded), once the violation has ended and its post-roll is recorded."""
    record = _visible(service, who.user, violation_id)
    path = service.recordings.evidence.path(violation_id)
    if record.clip_status != "ready" or not path.exists():
        raise HTTPException(status.HTTP_409_CONFLICT, f"the clip is {record.clip_status}, not ready")
    who.audit("violation.clip", record.camera_id, str(violation_id), start=record.clip_start, end=record.clip_end)
    return Mp4File(path, filename=f"violation-{violation_id}.mp4")

"""Inspections (定期巡查): what is due in the caller's unit, and each inspection from start to finish.

A town officer inspects the town's institutions (monthly), a city inspector the towns (quarterly) and may
inspect institutions too; an inspection is remote (a spot check's snapshots are its evidence) or on site
(photos uploaded). Every checklist item gets a result; a failed item of an institution can open a case (隐患)
at once. A finished inspection is a record and no longer changes.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Response, UploadFile, status
from pydantic import BaseModel, Field

from api.deps import Caller, RowId, ServiceDep, require
from api.photos import MAX_PHOTO_BYTES, PHOTO_RESPONSES, photo_response, read_photo
from api.responses import problems
from core.cases import SEVERITIES
from core.inspections import (
    CHECKLIST,
    CHECKLIST_BY_ID,
    CHECKLIST_IDS,
    Due,
    Level,
    Mode,
    NotInspectable,
    Result,
    due_inspections,
    level_of,
    level_of_period,
    period_of,
)
from core.roles import Permission
from core.store.cases import Actor
from core.store.inspections import AlreadyFinished, Inspection
from service.service import Service

router = APIRouter(responses=problems(401, 403, 404))

Reader = Annotated[Caller, Depends(require(Permission.VIEW))]
Inspector = Annotated[Caller, Depends(require(Permission.PLAN_INSPECTIONS))]

# The upload route may take a phone's photo: more than the API's usual 1 MiB body (api/guards.BodyLimit).
PHOTO_UPLOAD_PATH = re.compile(r"^/api/inspections/[0-9]+/photos$")
PHOTO_UPLOAD_BYTES = MAX_PHOTO_BYTES + 64 * 1024
Period = Annotated[
    str, Query(pattern=r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2]|Q[1-4])$", description="YYYY-MM or YYYY-Qn, from 1970")
]


class ChecklistItemView(BaseModel):
    id: str
    label: str
    label_en: str


class DueView(BaseModel):
    unit_id: str
    unit_name: str
    level: str
    period: str
    ends_at: float
    state: Literal["done", "due", "overdue"]
    inspection_id: int | None


class ItemView(BaseModel):
    item: str
    result: str
    note: str | None
    case_id: int | None


class PhotoView(BaseModel):
    id: int
    item: str | None
    at: float
    content_type: str
    size: int
    url: str


class InspectionView(BaseModel):
    id: int
    unit_id: str
    unit_name: str
    level: str
    period: str
    mode: str
    spot_check_id: int | None
    inspector: str
    started_at: float
    finished_at: float | None
    summary: str | None
    items: list[ItemView]
    photos: list[PhotoView]


class StartInspection(BaseModel):
    unit_id: str = Field(max_length=64)
    mode: Mode
    spot_check_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="remote: the spot check")


class ItemAnswer(BaseModel):
    result: Result
    note: str | None = Field(default=None, max_length=2000)
    open_case: bool = Field(default=False, description="a failed item of an institution: open a case (隐患) now")
    severity: Literal["urgent", "major", "minor"] = "major"


class FinishInspection(BaseModel):
    summary: str | None = Field(default=None, max_length=4000)


def _name(service: Service, unit_id: str) -> str:
    unit = service.tree.units.get(unit_id)
    return unit.name if unit else unit_id


def _view(service: Service, inspection: Inspection) -> InspectionView:
    return InspectionView(
        id=inspection.id,
        unit_id=inspection.unit_id,
        unit_name=_name(service, inspection.unit_id),
        level=inspection.level,
        period=inspection.period,
        mode=inspection.mode,
        spot_check_id=inspection.spot_check_id,
        inspector=inspection.inspector,
        started_at=inspection.started_at,
        finished_at=inspection.finished_at,
        summary=inspection.summary,
        items=[ItemView(item=i.item, result=i.result, note=i.note, case_id=i.case_id) for i in inspection.items],
        photos=[
            PhotoView(
                id=p.id,
                item=p.item,
                at=p.at,
                content_type=p.content_type,
                size=p.size,
                url=f"/api/inspections/{inspection.id}/photos/{p.id}",
            )
            for p in inspection.photos
        ],
    )


def _visible(service: Service, who: Caller, inspection_id: int) -> Inspection:
    inspection = service.store.inspections.get(inspection_id)
    if inspection is None or not service.tree.contains(who.user.org_unit_id, inspection.unit_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no inspection {inspection_id}")
    return inspection


def _own(service: Service, who: Caller, inspection_id: int) -> Inspection:
    """An inspection the caller may still write on: in scope, theirs, not finished."""
    inspection = _visible(service, who, inspection_id)
    if inspection.inspector_id != who.user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"inspection {inspection_id} is {inspection.inspector}'s")
    if inspection.finished_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"inspection {inspection_id} is finished")
    return inspection


@router.get("/api/inspections/checklist")
def checklist(who: Reader) -> list[ChecklistItemView]:
    """The checklist every inspection answers (检查项目)."""
    return [ChecklistItemView(id=item.id, label=item.label, label_en=item.label_en) for item in CHECKLIST]


@router.get("/api/inspections/due")
def due(service: ServiceDep, who: Reader, period: Period | None = None) -> list[DueView]:
    """The inspections the plan asks for below the caller's unit: this month's of each institution and this
    quarter's of each town (or those of `period`), each done, due or overdue."""
    now = time.time()
    if period is not None:
        periods = {level_of_period(period): [period]}
    else:
        periods = {level: [period_of(level, now)] for level in Level}
    recorded = service.store.inspections.recorded([p for ps in periods.values() for p in ps])
    found: list[Due] = due_inspections(service.tree, who.user.org_unit_id, periods, recorded, now)
    return [
        DueView(
            unit_id=d.unit_id,
            unit_name=_name(service, d.unit_id),
            level=d.level.value,
            period=d.period,
            ends_at=d.ends_at,
            state=d.state.value,
            inspection_id=d.inspection_id,
        )
        for d in found
    ]


@router.get("/api/inspections")
def list_inspections(
    service: ServiceDep,
    who: Reader,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    period: Period | None = None,
) -> list[InspectionView]:
    tree = service.tree
    scope = unit or who.user.org_unit_id
    if scope not in tree.units or not tree.contains(who.user.org_unit_id, scope):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no organisation unit {scope!r}")
    units = [u for u in tree.units if tree.contains(scope, u)]
    found = service.store.inspections.find(units, period)
    return [_view(service, inspection) for inspection in found]


@router.post("/api/inspections", status_code=201, responses=problems(409, 422))
def start_inspection(body: StartInspection, service: ServiceDep, who: Inspector) -> InspectionView:
    """Start an inspection of an institution or a town below the caller's unit, for the current period."""
    tree = service.tree
    unit = tree.units.get(body.unit_id)
    if unit is None or not tree.contains(who.user.org_unit_id, body.unit_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no organisation unit {body.unit_id!r}")
    if unit.id == who.user.org_unit_id:
        raise HTTPException(status.HTTP_409_CONFLICT, "a unit does not inspect itself: its parent unit does")
    try:
        level = level_of(unit.kind)
    except NotInspectable as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unit_id: {error}") from None
    if body.mode is Mode.ON_SITE and body.spot_check_id is not None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "spot_check_id: only a remote inspection goes through a spot check"
        )
    if body.mode is Mode.REMOTE:
        if body.spot_check_id is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "spot_check_id: a remote inspection is made through a spot check"
            )
        check = service.store.spot_checks.get(body.spot_check_id)
        if check is None or not tree.contains(body.unit_id, check.institution_id):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"spot_check_id: no spot check {body.spot_check_id} of {unit.name}",
            )
    now = time.time()
    inspection = service.store.inspections.start(
        unit.id, level.value, period_of(level, now), body.mode.value, who.user.id, who.user.username,
        body.spot_check_id, now,
    )  # fmt: skip
    who.audit("inspection.start", f"unit:{unit.id}", f"{inspection.id} {inspection.period} {inspection.mode}")
    return _view(service, inspection)


@router.get("/api/inspections/{inspection_id}")
def get_inspection(inspection_id: RowId, service: ServiceDep, who: Reader) -> InspectionView:
    return _view(service, _visible(service, who, inspection_id))


@router.put("/api/inspections/{inspection_id}/items/{item}", responses=problems(409, 422))
def answer_item(
    inspection_id: RowId, item: str, body: ItemAnswer, service: ServiceDep, who: Inspector
) -> InspectionView:
    """A checklist item's result; a failed item of an institution may open a case with the note as its
    description."""
    inspection = _own(service, who, inspection_id)
    if item not in CHECKLIST_IDS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no checklist item {item!r}: {', '.join(CHECKLIST_IDS)}")
    if body.open_case and (body.result is not Result.FAIL or inspection.level != Level.INSTITUTION):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "open_case: only a failed item of an institution opens a case"
        )
    try:
        service.store.inspections.set_item(inspection_id, item, body.result.value, body.note)
    except AlreadyFinished as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    detail = f"{inspection_id} {item}={body.result.value}"
    if body.open_case:
        checked = CHECKLIST_BY_ID[item]
        assert body.severity in SEVERITIES
        now = time.time()
        case = service.store.cases.open(
            institution_id=inspection.unit_id,
            camera_id=None,
            kind=checked.hazard,
            zone=None,
            severity=body.severity,
            description=f"巡查发现：{checked.label}未达标" + (f"。{body.note}" if body.note else ""),
            source="inspection",
            source_id=str(inspection_id),
            deadline_at=service.cases.deadline_for(body.severity, now),
            assignee_id=service.store.cases.safety_manager(inspection.unit_id),
            by=Actor(who.user.id, who.user.username),
            now=now,
        )
        service.store.inspections.link_case(inspection_id, item, case.id)
        service.cases.tell("opened", case)
        detail += f", case {case.id}"
    who.audit("inspection.item", f"unit:{inspection.unit_id}", detail)
    return _view(service, _visible(service, who, inspection_id))


@router.post("/api/inspections/{inspection_id}/photos", status_code=201, responses=problems(409, 413, 415, 422))
async def upload_photo(
    inspection_id: RowId,
    service: ServiceDep,
    who: Inspector,
    photo: Annotated[UploadFile, File(description=f"a JPEG or PNG photo, at most {MAX_PHOTO_BYTES} bytes")],
    item: Annotated[str | None, Form(max_length=64)] = None,
) -> PhotoView:
    """A photo taken on site, optionally of one checklist item; its type is read from its bytes."""
    inspection = await asyncio.to_thread(_own, service, who, inspection_id)
    if item is not None and item not in CHECKLIST_IDS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"item: no checklist item {item!r}")
    content_type, data = await read_photo(photo, MAX_PHOTO_BYTES)
    try:
        saved = await asyncio.to_thread(service.store.inspections.add_photo, inspection_id, item, content_type, data)
    except AlreadyFinished as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    await who.audit_async("inspection.photo", f"unit:{inspection.unit_id}", f"{inspection_id} photo {saved.id}")
    return PhotoView(
        id=saved.id,
        item=saved.item,
        at=saved.at,
        content_type=saved.content_type,
        size=saved.size,
        url=f"/api/inspections/{inspection_id}/photos/{saved.id}",
    )


@router.get("/api/inspections/{inspection_id}/photos/{photo_id}", response_class=Response, responses=PHOTO_RESPONSES)
def get_photo(inspection_id: RowId, photo_id: RowId, service: ServiceDep, who: Reader) -> Response:
    _visible(service, who, inspection_id)
    found = service.store.inspections.photo(inspection_id, photo_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no photo {photo_id} in inspection {inspection_id}")
    return photo_response(*found)


@router.post("/api/inspections/{inspection_id}/finish", responses=problems(409))
def finish_inspection(
    inspection_id: RowId, body: FinishInspection, service: ServiceDep, who: Inspector
) -> InspectionView:
    """Close the record; every checklist item must have its result first."""
    inspection = _own(service, who, inspection_id)
    missing = [item for item in CHECKLIST_IDS if item not in {i.item for i in inspection.items}]
    if missing:
        raise HTTPException(status.HTTP_409_CONFLICT, f"checklist items without a result: {', '.join(missing)}")
    try:
        service.store.inspections.finish(inspection_id, body.summary)
    except AlreadyFinished as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    failed = sum(1 for i in inspection.items if i.result == Result.FAIL)
    who.audit("inspection.finish", f"unit:{inspection.unit_id}", f"{inspection_id}: {failed} item(s) failed")
    return _view(service, _visible(service, who, inspection_id))

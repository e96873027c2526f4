"""Cases (隐患): listed and read by whoever may view their institution; the institution's side acknowledges,
rectifies with photos and comments; the supervisor's side assigns, verifies or rejects, dismisses false alarms
and opens cases from spot checks (`POST /api/spot-checks/{id}/cases`).

A case outside the caller's organisation subtree answers 404 like a case that does not exist. Every change is
audited (`case.<action>`, target `case:<id>`).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile, status
from fastapi.responses import Response

from api.case_schemas import (
    Assign,
    CaseDetail,
    CaseKindView,
    CaseView,
    CommentView,
    EvidenceView,
    FromSpotCheck,
    HistoryView,
    LinkedViolationView,
    NewComment,
    Remark,
    State,
    UserRef,
    Why,
)
from api.deps import MAX_ROW_ID, Caller, RowId, ServiceDep, require, visible_camera, visible_institutions
from api.photos import MAX_PHOTO_BYTES, PHOTO_RESPONSES, photo_response, read_photo
from api.responses import ModelList, problems
from api.schemas import OrgRef
from core.cases import HAZARD_KINDS, Action, IllegalTransition, is_overdue
from core.roles import Permission, permits
from core.store.cases import Actor, Case, CaseFilter, NewEvidence
from detectors.registry import KINDS
from recordings.evidence import reference
from service.service import Directory, Service

router = APIRouter(responses=problems(401, 403, 404))

Viewer = Annotated[Caller, Depends(require(Permission.VIEW))]
Handler = Annotated[Caller, Depends(require(Permission.HANDLE_CASES))]
Supervisor = Annotated[Caller, Depends(require(Permission.SUPERVISE_CASES))]

# The one route whose body may exceed the API's usual 1 MiB (api/guards.BodyLimit): a phone's photo, and the
# multipart form around it.
EVIDENCE_UPLOAD_PATH = re.compile(r"^/api/cases/[0-9]+/evidence$")
EVIDENCE_UPLOAD_BYTES = MAX_PHOTO_BYTES + 64 * 1024


def _actor(who: Caller) -> Actor:
    return Actor(who.user.id, who.user.username)


def _ref(directory: Directory, unit_id: str | None) -> OrgRef | None:
    """A unit by id and name (a unit since removed from the configuration keeps its id as its name)."""
    if unit_id is None:
        return None
    unit = directory.tree.units.get(unit_id)
    return OrgRef(id=unit_id, name=unit.name if unit else unit_id)


def _labels(kind: str) -> tuple[str, str]:
    known = KINDS.get(kind)
    if known is not None:
        return known.zh, known.en
    return HAZARD_KINDS.get(kind, (kind, kind))


def case_view(directory: Directory, case: Case, now: float) -> CaseView:
    cameras = directory.camera_names
    town = directory.tree.town_of(case.institution_id)
    zh, en = _labels(case.kind)
    return CaseView(
        id=case.id,
        institution=_ref(directory, case.institution_id) or OrgRef(id=case.institution_id, name=case.institution_id),
        town=OrgRef(id=town.id, name=town.name) if town else None,
        camera=OrgRef(id=case.camera_id, name=cameras.get(case.camera_id, case.camera_id)) if case.camera_id else None,
        kind=case.kind,
        label=zh,
        label_en=en,
        zone=case.zone,
        severity=case.severity,
        description=case.description,
        source=case.source,
        source_id=case.source_id,
        state=case.state,
        overdue=is_overdue(case.state, case.deadline_at, now),
        assignee=UserRef(id=case.assignee_id, username=case.assignee) if case.assignee_id and case.assignee else None,
        opened_at=case.opened_at,
        opened_by=case.opened_by,
        deadline_at=case.deadline_at,
        closed_at=case.closed_at,
        dismiss_reason=case.dismiss_reason,
        escalated_at=case.escalated_at,
        escalated_to=_ref(directory, case.escalated_to),
        violations=case.violations,
        url=f"/api/cases/{case.id}",
    )


def _detail(service: Service, case: Case) -> CaseDetail:
    store = service.store
    linked = []
    for violation_id in store.cases.violations(case.id):
        record = store.violations.get(violation_id)
        if record is None:
            continue
        held, until = store.recordings.hold_state(reference(violation_id))
        linked.append(
            LinkedViolationView(
                id=record.id,
                started_at=record.started_at,
                ended_at=record.ended_at,
                state=record.state,
                snapshot_url=f"/api/violations/{record.id}/snapshot" if record.has_snapshot else None,
                clip_status=record.clip_status,
                video_hold="none" if not held else ("held" if until is None else "released"),
                video_kept_until=until,
            )
        )
    view = case_view(service.directory, case, time.time())
    return CaseDetail(
        **view.model_dump(),
        history=[
            HistoryView(
                at=h.at,
                username=h.username,
                action=h.action,
                from_state=h.from_state,
                to_state=h.to_state,
                detail=h.detail,
            )
            for h in store.cases.history(case.id)
        ],
        comments=[
            CommentView(id=c.id, at=c.at, username=c.username, text=c.text) for c in store.cases.comments(case.id)
        ],
        evidence=[
            EvidenceView(
                id=e.id,
                at=e.at,
                username=e.username,
                origin=e.origin,
                content_type=e.content_type,
                size=e.size,
                note=e.note,
                url=f"/api/cases/{case.id}/evidence/{e.id}",
            )
            for e in store.cases.evidence(case.id)
        ],
        linked_violations=linked,
    )


def _visible_case(service: Service, who: Caller, case_id: int) -> Case:
    case = service.store.cases.get(case_id)
    if case is None or not service.directory.tree.contains(who.user.org_unit_id, case.institution_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return case


def _change(service: Service, who: Caller, case_id: int, action: Action, detail: str | None) -> CaseDetail:
    _visible_case(service, who, case_id)
    try:
        case = service.cases.transition(case_id, action, _actor(who), detail)
    except IllegalTransition as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    who.audit(f"case.{action.value}", f"case:{case_id}", detail)
    return _detail(service, case)


@router.get("/api/cases", response_model=list[CaseView], responses=problems(422))
def list_cases(
    service: ServiceDep,
    who: Viewer,
    state: State | None = None,
    institution: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ModelList:
    """The cases of the caller's institutions, newest first."""
    directory = service.directory
    institutions = visible_institutions(directory, who.user)
    if institution is not None:
        # A unit outside the caller's scope filters down to nothing, as if it had no cases.
        institutions = [i for i in institutions if directory.tree.contains(institution, i)]
    now = time.time()
    found = service.store.cases.find(
        CaseFilter(institutions, state, kind, overdue, now=now, limit=limit, before_id=before_id)
    )
    return ModelList([case_view(directory, case, now) for case in found], CaseView)


@router.get("/api/case-kinds")
def case_kinds(who: Viewer) -> list[CaseKindView]:
    """The hazards an inspector may record (the detectors' violation kinds are at /api/violation-types)."""
    return [CaseKindView(kind=kind, label=zh, label_en=en) for kind, (zh, en) in HAZARD_KINDS.items()]


@router.get("/api/cases/{case_id}")
def get_case(case_id: RowId, service: ServiceDep, who: Viewer) -> CaseDetail:
    """A case with its history, comments, evidence and the violations it stands for."""
    return _detail(service, _visible_case(service, who, case_id))


@router.post("/api/cases/{case_id}/acknowledge", responses=problems(409))
def acknowledge(case_id: RowId, service: ServiceDep, who: Handler, body: Remark | None = None) -> CaseDetail:
    return _change(service, who, case_id, Action.ACKNOWLEDGE, body.note if body else None)


@router.post("/api/cases/{case_id}/start-rectifying", responses=problems(409))
def start_rectifying(case_id: RowId, service: ServiceDep, who: Handler, body: Remark | None = None) -> CaseDetail:
    return _change(service, who, case_id, Action.START_RECTIFYING, body.note if body else None)


@router.post("/api/cases/{case_id}/rectified", responses=problems(409))
def rectified(case_id: RowId, service: ServiceDep, who: Handler, body: Remark | None = None) -> CaseDetail:
    """The hazard is put right: needs a photo uploaded since rectification started (409 without)."""
    return _change(service, who, case_id, Action.RECTIFIED, body.note if body else None)


@router.post("/api/cases/{case_id}/verify", responses=problems(409))
def verify(case_id: RowId, service: ServiceDep, who: Supervisor, body: Remark | None = None) -> CaseDetail:
    """The rectification holds: the case closes, and its violations' video is released."""
    return _change(service, who, case_id, Action.VERIFY, body.note if body else None)


@router.post("/api/cases/{case_id}/reject", responses=problems(409, 422))
def reject(case_id: RowId, body: Why, service: ServiceDep, who: Supervisor) -> CaseDetail:
    """The rectification does not hold: back to rectifying, with the reason."""
    return _change(service, who, case_id, Action.REJECT, body.reason)


@router.post("/api/cases/{case_id}/dismiss", responses=problems(409, 422))
def dismiss(case_id: RowId, body: Why, service: ServiceDep, who: Supervisor) -> CaseDetail:
    """A false alarm: closed with the reason, counted against its detector and camera."""
    return _change(service, who, case_id, Action.DISMISS, body.reason)


@router.get("/api/cases/{case_id}/assignees")
def assignees(case_id: RowId, service: ServiceDep, who: Supervisor) -> list[UserRef]:
    """The accounts a case may be assigned to: those that handle cases and whose unit holds its institution."""
    case = _visible_case(service, who, case_id)
    tree = service.directory.tree
    return [
        UserRef(id=u.id, username=u.username)
        for u in service.store.users.all()
        if not u.disabled
        and permits(u.role, Permission.HANDLE_CASES)
        and tree.contains(u.org_unit_id, case.institution_id)
    ]


@router.post("/api/cases/{case_id}/assign", responses=problems(409, 422))
def assign(case_id: RowId, body: Assign, service: ServiceDep, who: Supervisor) -> CaseDetail:
    case = _visible_case(service, who, case_id)
    user = service.store.users.by_username(body.username)
    tree = service.directory.tree
    if (
        user is None
        or user.disabled
        or not permits(user.role, Permission.HANDLE_CASES)
        or not tree.contains(user.org_unit_id, case.institution_id)
    ):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{body.username!r} cannot take this case: assign an account that handles cases at {case.institution_id}",
        )
    try:
        changed = service.store.cases.assign(case_id, user.id, _actor(who))
    except IllegalTransition as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    who.audit("case.assign", f"case:{case_id}", user.username)
    return _detail(service, changed)


@router.post("/api/cases/{case_id}/comments", status_code=201, responses=problems(422))
def comment(case_id: RowId, body: NewComment, service: ServiceDep, who: Viewer) -> CommentView:
    """A remark on the case. Reading a case needs only `view`; writing on it, either side of the case
    (`handle_cases` or `supervise_cases`): an auditor or a viewer reads and does not write. A case out of
    scope answers 404 before that, as everywhere."""
    _visible_case(service, who, case_id)
    if not (permits(who.user.role, Permission.HANDLE_CASES) or permits(who.user.role, Permission.SUPERVISE_CASES)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"your role ({who.user.role}) may not comment: it needs handle_cases or supervise_cases",
        )
    saved = service.store.cases.comment(case_id, _actor(who), body.text)
    who.audit("case.comment", f"case:{case_id}", str(saved.id))
    return CommentView(id=saved.id, at=saved.at, username=saved.username, text=saved.text)


@router.post("/api/cases/{case_id}/evidence", status_code=201, responses=problems(409, 413, 415, 422))
async def upload_evidence(
    case_id: RowId,
    service: ServiceDep,
    who: Handler,
    photo: Annotated[UploadFile, File(description=f"a JPEG or PNG photo, at most {MAX_PHOTO_BYTES} bytes")],
    note: Annotated[str | None, Form(max_length=1000)] = None,
) -> EvidenceView:
    """A photo of the rectification (or of the hazard on site). Its type is read from its first bytes, not
    from what the client says it is."""
    await asyncio.to_thread(_visible_case, service, who, case_id)
    content_type, data = await read_photo(photo, MAX_PHOTO_BYTES)
    item = NewEvidence("upload", photo.filename[:200] if photo.filename else None, content_type, data, note or None)
    try:
        saved = await asyncio.to_thread(service.store.cases.add_evidence, case_id, _actor(who), item)
    except IllegalTransition as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    await who.audit_async("case.evidence", f"case:{case_id}", f"evidence {saved.id} ({content_type}, {saved.size} B)")
    return EvidenceView(
        id=saved.id,
        at=saved.at,
        username=saved.username,
        origin="upload",
        content_type=saved.content_type,
        size=saved.size,
        note=saved.note,
        url=f"/api/cases/{case_id}/evidence/{saved.id}",
    )


@router.get(
    "/api/cases/{case_id}/evidence/{evidence_id}",
    response_class=Response,
    responses=PHOTO_RESPONSES,
)
def evidence_file(case_id: RowId, evidence_id: RowId, service: ServiceDep, who: Viewer) -> Response:
    _visible_case(service, who, case_id)
    found = service.store.cases.evidence_data(case_id, evidence_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no evidence {evidence_id} in case {case_id}")
    return photo_response(*found)


@router.post("/api/spot-checks/{check_id}/cases", status_code=201, responses=problems(422))
def from_spot_check(check_id: RowId, body: FromSpotCheck, service: ServiceDep, who: Supervisor) -> CaseDetail:
    """A hazard the inspector recorded during a spot check becomes a case, its snapshots as evidence."""
    check = service.store.spot_checks.get(check_id)
    directory = service.directory
    if check is None or not directory.tree.contains(who.user.org_unit_id, check.institution_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no spot check {check_id}")
    if body.kind not in HAZARD_KINDS and body.kind not in KINDS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown kind {body.kind!r}: see /api/case-kinds")
    if body.camera_id is not None:
        camera = visible_camera(directory, who.user, body.camera_id)
        if camera.institution != check.institution_id:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"camera {camera.id!r} is not at institution {check.institution_id!r}",
            )
    try:
        case = service.cases.open_from_spot_check(
            check_id=check.id,
            institution_id=check.institution_id,
            camera_id=body.camera_id,
            kind=body.kind,
            zone=body.zone,
            severity=body.severity,
            description=body.description,
            evidence_ids=body.evidence_ids,
            by=_actor(who),
        )
    except LookupError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    who.audit("case.open", f"case:{case.id}", f"spot check {check.id}: {body.kind}")
    return _detail(service, case)

"""Public reports as the town sees them (隐患举报): listed and read by whoever may view their institution, the
reporter's contact only by those who triage; triaged by the supervisor's side into a case (`accept`, with the
hazard's kind and severity) or rejected with a reason the reporter reads; marked for reward once the case it
became was verified. Each institution's notice-board link and its QR code come from here too.

A report outside the caller's organisation subtree answers 404 like one that does not exist. Every triage step
is audited (`report_<action>`, target `report:<id>`).
"""

from __future__ import annotations

import io
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import Response

from api.deps import MAX_ROW_ID, Caller, RowId, ServiceDep, require, visible_institutions
from api.photos import PHOTO_RESPONSES, photo_response
from api.report_schemas import Accept, PhotoView, Reject, ReportLink, ReportState, ReportView, RewardMark
from api.responses import problems
from api.schemas import OrgRef
from core.cases import HAZARD_KINDS
from core.roles import Permission, permits
from core.store.cases import Actor
from core.store.reports import Report, ReportStateError
from detectors.registry import KINDS
from service.service import Service

router = APIRouter(responses=problems(401, 403, 404))

Viewer = Annotated[Caller, Depends(require(Permission.VIEW))]
Supervisor = Annotated[Caller, Depends(require(Permission.SUPERVISE_CASES))]


def _view(service: Service, report: Report, who: Caller) -> ReportView:
    tree = service.directory.tree
    unit = tree.units.get(report.institution_id)
    town = tree.town_of(report.institution_id)
    return ReportView(
        id=report.id,
        institution=OrgRef(id=report.institution_id, name=unit.name if unit else report.institution_id),
        town=OrgRef(id=town.id, name=town.name) if town else None,
        description=report.description,
        place=report.place,
        # Who reported is for those who triage to call back, not for the institution reported on.
        contact=report.contact if permits(who.user.role, Permission.SUPERVISE_CASES) else None,
        submitted_at=report.submitted_at,
        state=report.state,
        case_id=report.case_id,
        case_state=report.case_state,
        triaged_at=report.triaged_at,
        triaged_by=report.triaged_by,
        reject_reason=report.reject_reason,
        reward=report.reward,
        reward_at=report.reward_at,
        reward_by=report.reward_by,
        reward_note=report.reward_note,
        photos=[
            PhotoView(id=p.id, content_type=p.content_type, size=p.size, url=f"/api/reports/{report.id}/photos/{p.id}")
            for p in service.store.reports.photos(report.id)
        ],
        url=f"/api/reports/{report.id}",
    )


def _visible(service: Service, who: Caller, report_id: int) -> Report:
    report = service.store.reports.get(report_id)
    if report is None or not service.directory.tree.contains(who.user.org_unit_id, report.institution_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report {report_id}")
    return report


def _public_base(service: Service, request: Request) -> str:
    """Where the public reaches the service: the configured address (behind a proxy, or a LAN name), else the
    address this request came to."""
    return service.config.notifications.public_url or str(request.base_url).rstrip("/")


@router.get("/api/reports", responses=problems(422))
def list_reports(
    service: ServiceDep,
    who: Viewer,
    state: ReportState | None = None,
    institution: Annotated[str | None, Query(max_length=64)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReportView]:
    """The public reports of the caller's institutions, newest first."""
    directory = service.directory
    institutions = visible_institutions(directory, who.user)
    if institution is not None:
        institutions = [i for i in institutions if directory.tree.contains(institution, i)]
    found = service.store.reports.find(institutions, state, limit, before_id)
    return [_view(service, report, who) for report in found]


@router.get("/api/reports/{report_id}")
def get_report(report_id: RowId, service: ServiceDep, who: Viewer) -> ReportView:
    return _view(service, _visible(service, who, report_id), who)


@router.get(
    "/api/reports/{report_id}/photos/{photo_id}",
    response_class=Response,
    responses=PHOTO_RESPONSES,
)
def report_photo(report_id: RowId, photo_id: RowId, service: ServiceDep, who: Viewer) -> Response:
    _visible(service, who, report_id)
    found = service.store.reports.photo_data(report_id, photo_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no photo {photo_id} in report {report_id}")
    return photo_response(*found)


@router.post("/api/reports/{report_id}/accept", responses=problems(409, 422))
def accept(report_id: RowId, body: Accept, service: ServiceDep, who: Supervisor) -> ReportView:
    """The report is taken up: it opens a case (source `public_report`) of the kind and severity chosen here,
    with the report's photos, assigned to the institution's safety manager; the case follows the normal flow."""
    _visible(service, who, report_id)
    if body.kind not in HAZARD_KINDS and body.kind not in KINDS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown kind {body.kind!r}: see /api/case-kinds")
    try:
        report, case = service.reports.accept(
            report_id, kind=body.kind, severity=body.severity, note=body.note, by=Actor(who.user.id, who.user.username)
        )
    except ReportStateError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    who.audit("report_accept", f"report:{report_id}", f"case {case.id}: {body.kind}, {body.severity}")
    return _view(service, report, who)


@router.post("/api/reports/{report_id}/reject", responses=problems(409, 422))
def reject(report_id: RowId, body: Reject, service: ServiceDep, who: Supervisor) -> ReportView:
    """Not taken up: the reason is shown to the reporter with the receipt code."""
    _visible(service, who, report_id)
    try:
        report = service.store.reports.rejected(report_id, body.reason, who.user.username)
    except ReportStateError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    who.audit("report_reject", f"report:{report_id}", body.reason)
    return _view(service, report, who)


@router.post("/api/reports/{report_id}/reward", responses=problems(409, 422))
def reward(report_id: RowId, service: ServiceDep, who: Supervisor, body: RewardMark | None = None) -> ReportView:
    """Marked for reward (隐患举报奖励): only a report whose case was verified, i.e. the hazard proved real and
    was put right; once (409 otherwise)."""
    _visible(service, who, report_id)
    note = body.note if body else None
    try:
        report = service.store.reports.rewarded(report_id, note, who.user.username)
    except ReportStateError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    who.audit("report_reward", f"report:{report_id}", note)
    return _view(service, report, who)


@router.get("/api/report-links")
def report_links(request: Request, service: ServiceDep, who: Viewer) -> list[ReportLink]:
    """Each institution of the caller's unit with its public report page and that page's QR code."""
    tree = service.directory.tree
    base = _public_base(service, request)
    return [
        ReportLink(
            institution=OrgRef(id=i, name=tree.units[i].name),
            url=f"{base}/report/{i}",
            qr_url=f"/api/institutions/{i}/report-qr.svg",
        )
        for i in visible_institutions(service.directory, who.user)
    ]


@router.get(
    "/api/institutions/{institution_id}/report-qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the QR code of the public report page"}},
)
def report_qr(
    institution_id: Annotated[str, Path(description="an institution's id", max_length=64)],
    request: Request,
    service: ServiceDep,
    who: Viewer,
) -> Response:
    """The QR code of the institution's public report page, to print for its notice board."""
    tree = service.directory.tree
    unit = tree.units.get(institution_id)
    if unit is None or unit.kind != "institution" or not tree.contains(who.user.org_unit_id, institution_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no institution {institution_id!r}")
    svg = io.BytesIO()
    # Error correction M survives a smudge or a fold of the printed notice; the title names the page.
    segno.make(f"{_public_base(service, request)}/report/{institution_id}", error="m").save(
        svg, kind="svg", scale=8, border=4, title=f"{unit.name} 隐患举报"
    )
    return Response(svg.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, no-cache"})

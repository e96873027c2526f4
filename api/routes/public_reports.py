"""Public hazard reports (隐患举报), without a log-in: the page an institution posts on its notice board (link and
QR code), the form it sends, and the state a receipt code shows.

Anyone may send, so everything is bounded: the body (api/guards.BodyLimit, a larger limit for this one path),
the number and size of photos, each read by its own bytes and decoded, the text fields, and the reports per
client address (a row per report in the store, so a restart forgets nothing: 429 with `Retry-After`). What a
receipt code shows is the state and the public part of the outcome; the report itself, the reporter's contact
and who triaged it stay inside.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path, Request, UploadFile, status
from fastapi.responses import FileResponse

from api.deps import ServiceDep, client_address
from api.photos import read_photo
from api.report_schemas import PublicInstitution, PublicStatus, Receipt
from api.responses import problems
from api.routes import web
from core.receipts import PATTERN, display, normalise
from core.store.reports import NewPhoto, RateLimited
from service.service import Service

log = logging.getLogger(__name__)

router = APIRouter()

MAX_PHOTOS = 4
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_DESCRIPTION = 2000
# The one public path whose body may exceed the API's usual 1 MiB: the photos, and the form around them.
UPLOAD_PATH = re.compile(r"^/api/public/institutions/[^/]+/reports$")
UPLOAD_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024

InstitutionId = Annotated[str, Path(description="an institution's id, as in its notice-board link", max_length=64)]


def institution(service: Service, institution_id: str) -> PublicInstitution:
    unit = service.directory.tree.units.get(institution_id)
    if unit is None or unit.kind != "institution":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no institution {institution_id!r}")
    return PublicInstitution(id=unit.id, name=unit.name)


@router.get("/report/{institution_id}", include_in_schema=False)
def report_page(institution_id: InstitutionId, service: ServiceDep) -> FileResponse:
    """The notice-board page (api/web/public-report.html): the form, and the lookup by receipt code. An unknown
    institution gets the same page with 404, which says so."""
    page = web.asset("public-report.html")
    unit = service.directory.tree.units.get(institution_id)
    if unit is None or unit.kind != "institution":
        page.status_code = status.HTTP_404_NOT_FOUND
    return page


@router.get("/api/public/institutions/{institution_id}", responses=problems(404))
def public_institution(institution_id: InstitutionId, service: ServiceDep) -> PublicInstitution:
    """The institution's name, for the form's header: nothing else of the organisation shows here."""
    return institution(service, institution_id)


@router.post(
    "/api/public/institutions/{institution_id}/reports", status_code=201, responses=problems(404, 413, 415, 422, 429)
)
async def submit_report(
    institution_id: InstitutionId,
    request: Request,
    service: ServiceDep,
    description: Annotated[str, Form(min_length=1, max_length=MAX_DESCRIPTION, description="what is wrong")],
    place: Annotated[str | None, Form(max_length=200, description="where, in the institution")] = None,
    contact: Annotated[
        str | None, Form(max_length=100, description="a phone number or name, for the town to call back")
    ] = None,
    photos: Annotated[
        list[UploadFile] | None,
        File(description=f"up to {MAX_PHOTOS} JPEG or PNG photos, each at most {MAX_PHOTO_BYTES} bytes"),
    ] = None,
) -> Receipt:
    """A hazard report, no log-in needed; answers the receipt code that follows it. At most a few reports an
    hour from one address (429 with `Retry-After`); a photo that is not a JPEG or PNG (by its bytes) is 415,
    one too large 413, one that does not decode 422; nothing is stored unless all of it is right."""
    where = institution(service, institution_id)
    text = description.strip()
    if not text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "describe the hazard: the description is empty")
    # A browser's empty file input still sends a part, with no name and no bytes: not a photo.
    uploads = [p for p in photos or [] if p.filename or p.size]
    if len(uploads) > MAX_PHOTOS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {MAX_PHOTOS} photos")
    client = client_address(request) or "unknown"
    store = service.store.reports
    try:
        await asyncio.to_thread(store.check_rate, client)
        checked = []
        for number, upload in enumerate(uploads, 1):
            content_type, data = await read_photo(upload, MAX_PHOTO_BYTES, f"photo {number}")
            checked.append(NewPhoto(content_type, data))
        report, receipt = await asyncio.to_thread(
            lambda: store.submit(
                institution_id=where.id,
                description=text,
                place=(place or "").strip() or None,
                contact=(contact or "").strip() or None,
                photos=checked,
                client=client,
            )
        )
    except RateLimited as limited:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, str(limited), headers={"Retry-After": str(limited.retry_after_s)}
        ) from None
    log.info("public report %s received for %s with %d photo(s)", report.id, where.id, len(checked))
    return Receipt(
        receipt=display(receipt), submitted_at=report.submitted_at, status_url=f"/api/public/reports/{receipt}"
    )


@router.get("/api/public/reports/{receipt}", responses=problems(404))
def report_status(
    receipt: Annotated[str, Path(pattern=PATTERN, description="the receipt code, with or without its hyphen")],
    service: ServiceDep,
) -> PublicStatus:
    """What became of a report: its state and the public part of the outcome."""
    code = normalise(receipt)
    report = service.store.reports.by_receipt(code) if code else None
    if report is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no report has this receipt code: check it and try again")
    unit = service.directory.tree.units.get(report.institution_id)
    return PublicStatus(
        institution=PublicInstitution(id=report.institution_id, name=unit.name if unit else report.institution_id),
        submitted_at=report.submitted_at,
        state=report.state,
        case_state=report.case_state,
        reject_reason=report.reject_reason,
        reward=report.reward,
    )

"""The audit log for auditors: a filtered, paged list, a CSV export Excel opens, and the hash chain's state.

Scope: a reader at the bureau (the root unit) sees every row, those about no camera too (log-ins, configuration,
users); a reader lower down sees only rows about the cameras and institutions of their subtree. (The auditor role
sits at the bureau, so this matters only for other roles given `read_audit`.) Reading the log is itself audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import MAX_ROW_ID, Caller, ServiceDep, require, visible_cameras, visible_institutions
from api.responses import problems
from api.time_range import Moment, to_timestamp
from core.audit_actions import ACTIONS, FAMILIES, action_label
from core.roles import Permission
from core.store.audit import AuditEntry, AuditQuery, ChainReport
from service.service import Service

router = APIRouter(responses=problems(401, 403))

AuditorDep = Annotated[Caller, Depends(require(Permission.READ_AUDIT))]

# Excel takes a CSV file without a byte-order mark for the local code page (GBK): the BOM says UTF-8.
_BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet: it is written with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CsvStream(StreamingResponse):
    media_type = "text/csv"


class AuditEntryView(BaseModel):
    id: int
    at: float
    user_id: int | None
    username: str | None
    action: str
    label: dict[str, str] = Field(description="the action in zh-CN and English")
    target: str | None = Field(description="the camera (or institution, user, platform) acted on")
    detail: str | None
    client: str | None = Field(description="the client's address")
    start: float | None = Field(description="the time range the action concerns: a playback's or export's range")
    end: float | None
    hash: str | None = Field(description="SHA-256 chaining this row to the one before it")


class AuditPage(BaseModel):
    entries: list[AuditEntryView]
    next_before_id: int | None = Field(description="pass as before_id for the next (older) page; null at the end")


class ChainView(BaseModel):
    """The hash chain as walked now; `head_hash` is worth writing down: a later walk must pass through it."""

    ok: bool
    rows: int = Field(description="rows checked (up to the first broken one)")
    first_broken_id: int | None
    reason: str | None
    head_id: int | None = Field(description="the last row that verifies")
    head_hash: str | None
    checked_at: float


class ActionView(BaseModel):
    action: str
    label: dict[str, str]


def _entry_view(entry: AuditEntry) -> AuditEntryView:
    label = action_label(entry.action)
    return AuditEntryView(
        id=entry.id,
        at=entry.at,
        user_id=entry.user_id,
        username=entry.username,
        action=entry.action,
        label={"zh-CN": label.zh, "en": label.en},
        target=entry.target,
        detail=entry.detail,
        client=entry.client,
        start=entry.range_start,
        end=entry.range_end,
        hash=entry.hash,
    )


def _query(
    service: Service,
    who: Caller,
    since: Moment | None,
    until: Moment | None,
    user: str | None,
    action: str | None,
    target: str | None,
) -> AuditQuery:
    since_ts = to_timestamp(since, "since") if since is not None else None
    until_ts = to_timestamp(until, "until") if until is not None else None
    if since_ts is not None and until_ts is not None and until_ts < since_ts:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until is before since")
    directory = service.directory
    scope: list[str] | None = None
    if who.user.org_unit_id != directory.tree.root_id:
        scope = [c.id for c in visible_cameras(directory, who.user)] + visible_institutions(directory, who.user)
    return AuditQuery(
        since=since_ts, until=until_ts, username=user or None, action=action or None, target=target or None, scope=scope
    )


def _said(query: AuditQuery) -> str:
    """The filters, as the reader's own audit row records them."""
    parts = [
        f"{name}={value}"
        for name, value in (
            ("since", query.since),
            ("until", query.until),
            ("user", query.username),
            ("action", query.action),
            ("target", query.target),
        )
        if value is not None
    ]
    return " ".join(parts) or "all"


Since = Annotated[Moment | None, Query(description="rows at or after this moment")]
Until = Annotated[Moment | None, Query(description="rows before this moment")]
UserName = Annotated[str | None, Query(max_length=64, description="a user name, exactly")]
Action = Annotated[str | None, Query(max_length=64, description="an action, or its family: live_view, recordings")]
Target = Annotated[str | None, Query(max_length=128, description="a camera id (or other target), exactly")]


@router.get("/api/audit", responses=problems(400))
def list_audit(
    service: ServiceDep,
    who: AuditorDep,
    since: Since = None,
    until: Until = None,
    user: UserName = None,
    action: Action = None,
    target: Target = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="paging: older than this id")] = None,
) -> AuditPage:
    """Newest first, `limit` at a time; reading is itself audited (`audit.read`)."""
    query = _query(service, who, since, until, user, action, target)
    entries = service.store.audit.search(query, limit + 1, before_id)
    more = len(entries) > limit
    entries = entries[:limit]
    who.audit("audit.read", detail=_said(query), start=query.since, end=query.until)
    return AuditPage(
        entries=[_entry_view(e) for e in entries], next_before_id=entries[-1].id if more and entries else None
    )


_CSV_HEADER = (
    "序号 id",
    "时间 time",
    "时间戳 unix",
    "用户 user",
    "操作 action",
    "操作代码 code",
    "对象 target",
    "详情 detail",
    "起 from",
    "止 to",
    "客户端地址 client",
    "哈希 sha256",
)


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _when(at: float | None) -> str:
    return "" if at is None else dt.datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds")


def _csv(entries: Iterator[AuditEntry]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_CSV_HEADER)
    yield _BOM + buffer.getvalue()
    for n, entry in enumerate(entries, 1):
        writer.writerow(
            (
                entry.id,
                _when(entry.at),
                repr(entry.at),
                _cell(entry.username),
                action_label(entry.action).zh,
                entry.action,
                _cell(entry.target),
                _cell(entry.detail),
                _when(entry.range_start),
                _when(entry.range_end),
                _cell(entry.client),
                entry.hash or "",
            )
        )
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get("/api/audit/export.csv", response_class=CsvStream, responses=problems(400))
def export_audit(
    service: ServiceDep,
    who: AuditorDep,
    since: Since = None,
    until: Until = None,
    user: UserName = None,
    action: Action = None,
    target: Target = None,
) -> CsvStream:
    """Every matching row, oldest first, as CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese).
    Cells a spreadsheet would run as a formula start with an apostrophe. The export is itself audited."""
    query = _query(service, who, since, until, user, action, target)
    who.audit("audit.export", detail=_said(query), start=query.since, end=query.until)
    rows = _csv(service.store.audit.each(query))
    name = dt.datetime.now().astimezone().strftime("audit-%Y%m%d-%H%M%S.csv")
    return CsvStream(rows, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/audit/verify")
def verify_audit(service: ServiceDep, who: AuditorDep) -> ChainView:
    """Walk the hash chain from the first row; a changed, removed or inserted row is named. (Rows cut off the
    end leave no trace in the chain: compare `head_hash` with one written down before.) Itself audited, after the
    walk, so the walk reports the chain as it was asked about."""
    report: ChainReport = service.store.audit.verify()
    who.audit("audit.verify", detail="intact" if report.ok else f"broken at row {report.first_broken_id}")
    return ChainView(
        ok=report.ok,
        rows=report.rows,
        first_broken_id=report.first_broken_id,
        reason=report.reason,
        head_id=report.head_id,
        head_hash=report.head_hash,
        checked_at=report.checked_at,
    )


@router.get("/api/audit/actions")
def audit_actions(who: AuditorDep) -> list[ActionView]:
    """The actions the log records (and the families added by other parts), with zh-CN and English labels."""
    known = [ActionView(action=a, label={"zh-CN": lab.zh, "en": lab.en}) for a, lab in ACTIONS.items()]
    families = [ActionView(action=f, label={"zh-CN": lab.zh, "en": lab.en}) for f, lab in FAMILIES.items()]
    return known + families

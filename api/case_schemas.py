"""The shapes of the cases API (隐患): what a case looks like to a client, and what each change takes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from api.schemas import OrgRef

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Kind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Severity = Literal["urgent", "major", "minor"]
State = Literal["open", "acknowledged", "rectifying", "rectified", "verified", "dismissed"]


class UserRef(BaseModel):
    id: int
    username: str


class CaseView(BaseModel):
    id: int
    institution: OrgRef
    town: OrgRef | None
    camera: OrgRef | None
    kind: str
    label: str = Field(description="the kind in Chinese")
    label_en: str
    zone: str | None
    severity: Severity
    description: str | None
    source: str = Field(description="violation, spot_check, public_report …; source_id names the row")
    source_id: str | None
    state: State
    overdue: bool = Field(description="past its deadline while still with the institution")
    assignee: UserRef | None
    opened_at: float
    opened_by: str | None = Field(description="null: opened by the service (a violation)")
    deadline_at: float
    closed_at: float | None
    dismiss_reason: str | None
    escalated_at: float | None
    escalated_to: OrgRef | None
    violations: int = Field(description="how many violations it stands for (a repeat joins the open case)")
    url: str


class HistoryView(BaseModel):
    at: float
    username: str | None = Field(description="null: the service itself")
    action: str
    from_state: str | None
    to_state: str | None
    detail: str | None


class CommentView(BaseModel):
    id: int
    at: float
    username: str
    text: str


class EvidenceView(BaseModel):
    id: int
    at: float
    username: str | None
    origin: Literal["upload", "violation", "spot_check", "public_report"]
    content_type: str
    size: int
    note: str | None
    url: str


class LinkedViolationView(BaseModel):
    id: int
    started_at: float
    ended_at: float | None
    state: str
    snapshot_url: str | None
    clip_status: str
    video_hold: Literal["held", "released", "none"] = Field(
        description="held while the case is open; released once it closes (kept video_kept_until, then deleted)"
    )
    video_kept_until: float | None


class CaseDetail(CaseView):
    history: list[HistoryView]
    comments: list[CommentView]
    evidence: list[EvidenceView]
    linked_violations: list[LinkedViolationView]


class Remark(BaseModel):
    note: Reason | None = None


class Why(BaseModel):
    reason: Reason


class Assign(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]


class NewComment(BaseModel):
    text: Text


class FromSpotCheck(BaseModel):
    camera_id: Annotated[str, Field(max_length=64)] | None = None
    kind: Kind
    zone: Annotated[str, Field(max_length=100)] | None = None
    severity: Severity
    description: Text | None = None
    evidence_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(default=[], max_length=20)


class CaseKindView(BaseModel):
    kind: str
    label: str
    label_en: str

"""The shapes of the public reports API (隐患举报): what the reporter gets back and may read with a receipt code,
and what the town reads and decides when it triages."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.case_schemas import Kind, Reason, Severity
from api.schemas import OrgRef

ReportState = Literal["received", "accepted", "rejected"]
CaseState = Literal["open", "acknowledged", "rectifying", "rectified", "verified", "dismissed"]


class PublicInstitution(BaseModel):
    """What the public form shows of an institution: its name, for the header, and nothing else."""

    id: str
    name: str


class Receipt(BaseModel):
    receipt: str = Field(description="the receipt code, grouped as XXXXX-XXXXX: shown once, only its hash is kept")
    submitted_at: float
    status_url: str


class PublicStatus(BaseModel):
    """What a receipt code shows: the state and the public part of the outcome; never the reporter's contact,
    the description, the photos, nor who triaged it."""

    institution: PublicInstitution
    submitted_at: float
    state: ReportState
    case_state: CaseState | None = Field(description="once accepted: how far the hazard's rectification is")
    reject_reason: str | None = Field(description="why it was not taken up, as the town wrote it to the reporter")
    reward: bool = Field(description="the report proved true and is marked for reward")


class PhotoView(BaseModel):
    id: int
    content_type: str
    size: int
    url: str


class ReportView(BaseModel):
    id: int
    institution: OrgRef
    town: OrgRef | None
    description: str
    place: str | None
    contact: str | None = Field(description="the reporter's contact: null for a caller who does not triage reports")
    submitted_at: float
    state: ReportState
    case_id: int | None
    case_state: CaseState | None
    triaged_at: float | None
    triaged_by: str | None
    reject_reason: str | None
    reward: bool
    reward_at: float | None
    reward_by: str | None
    reward_note: str | None
    photos: list[PhotoView]
    url: str


class Accept(BaseModel):
    kind: Kind = Field(default="other_hazard", description="the hazard kind of the case (see /api/case-kinds)")
    severity: Severity
    note: Reason | None = Field(default=None, description="the triage's remark, added to the case's description")


class Reject(BaseModel):
    reason: Annotated[Reason, Field(description="shown to the reporter with the receipt code")]


class RewardMark(BaseModel):
    note: Reason | None = None


class ReportLink(BaseModel):
    """An institution's public report page, for its notice board."""

    institution: OrgRef
    url: str = Field(description="the public page: what the QR code encodes")
    qr_url: str

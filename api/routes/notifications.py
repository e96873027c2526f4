"""Notification deliveries, for those who run the service: what was sent to which notifier, how often it was
tried, and why it failed. Never a notifier's URL, token or key; phone numbers are shown masked."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import MAX_ROW_ID, Caller, ServiceDep, require, visible_institutions
from api.responses import problems
from core.roles import Permission
from core.store.notifications import Delivery

router = APIRouter(responses=problems(401, 403))

OperatorDep = Annotated[Caller, Depends(require(Permission.OPERATE))]


class DeliveryView(BaseModel):
    id: int
    notifier: str
    recipient: str | None = Field(description="the phone of an SMS delivery, masked; null for the others")
    event: str
    ref: str = Field(description="what the notice is about: violation:12, case:7")
    severity: str
    institution: str | None
    title: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: float | None = Field(description="when a pending delivery is tried next")
    last_error: str | None
    created_at: float
    delivered_at: float | None


def mask_phone(phone: str) -> str:
    """138****5678: enough to tell recipients apart, not enough to call them."""
    return phone if len(phone) < 7 else phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def _view(delivery: Delivery) -> DeliveryView:
    return DeliveryView(
        id=delivery.id,
        notifier=delivery.notifier_id,
        recipient=mask_phone(delivery.recipient) if delivery.recipient else None,
        event=delivery.event,
        ref=delivery.ref,
        severity=delivery.severity,
        institution=delivery.institution_id,
        title=delivery.title,
        state=delivery.state,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.state == "pending" else None,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
    )


@router.get("/api/notifications/deliveries")
def list_deliveries(
    service: ServiceDep,
    who: OperatorDep,
    state: Literal["pending", "delivered", "failed"] | None = None,
    notifier: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="paging: older than this id")] = None,
) -> list[DeliveryView]:
    """Newest first. An account at the bureau sees every delivery; one lower down, those about its institutions."""
    directory = service.directory
    institutions = None
    if who.user.org_unit_id != directory.tree.root_id:
        institutions = visible_institutions(directory, who.user)
    found = service.store.notifications.find(
        state=state, notifier_id=notifier, institutions=institutions, limit=limit, before_id=before_id
    )
    return [_view(d) for d in found]

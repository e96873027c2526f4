"""The JSON an upper platform receives for a violation event, in the Standard Webhooks shape
(`{"type", "timestamp", "data"}`), with the violation as it stood after the change, its snapshot and, once cut,
its evidence clip (by signed URL)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Protocol

from core.config import Config
from core.config.uplink import EventForwardingConfig
from core.organisation import OrgTree
from core.signed_urls import UrlSigner
from core.store.violations import ViolationEvent


class Catalogue(Protocol):
    """The configuration in force and its organisation tree (the service's `Directory`)."""

    @property
    def config(self) -> Config: ...

    @property
    def tree(self) -> OrgTree: ...


class KindLabels(Protocol):
    """How a violation kind is named (a detector plug-in's `ViolationKind`)."""

    @property
    def zh(self) -> str: ...

    @property
    def en(self) -> str: ...

    @property
    def severity(self) -> str: ...

    @property
    def gb_alarm(self) -> tuple[int, int]: ...


def iso(at: float | None) -> str | None:
    return None if at is None else dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="milliseconds")


def message_id(installation: str, event_id: int) -> str:
    """One id per event and installation: the platform's key to drop a message it already has."""
    return f"msg_{installation}_{event_id}"


def violation_message(
    event: ViolationEvent,
    platform_id: str,
    forwarding: EventForwardingConfig,
    catalogue: Catalogue,
    kind: Callable[[str], KindLabels | None],
    snapshot: Callable[[int], bytes | None],
    signer: UrlSigner,
) -> bytes:
    violation = event.violation
    tree = catalogue.tree
    camera = next((c for c in catalogue.config.cameras if c.id == violation.camera_id), None)
    institution = tree.units.get(violation.institution_id)
    town = tree.town_of(violation.institution_id)
    labels = kind(violation.type)
    data: dict[str, Any] = {
        "id": violation.id,
        "type": violation.type,
        "label": labels.zh if labels else violation.type,
        "label_en": labels.en if labels else violation.type,
        "severity": labels.severity if labels else "major",
        "state": violation.state,
        "camera": {
            "id": violation.camera_id,
            "name": camera.name if camera else violation.camera_id,
            "role": camera.role if camera else None,
        },
        "institution": {"id": violation.institution_id, "name": institution.name if institution else None},
        "town": {"id": town.id, "name": town.name} if town else None,
        "zone": violation.zone,
        "zone_points": violation.zone_points,
        "onset_at": iso(violation.onset_at),
        "started_at": iso(violation.started_at),
        "ended_at": iso(violation.ended_at),
        "end_reason": violation.end_reason,
        "confidence": violation.confidence,
        "bbox": violation.bbox,
        "clip": {"status": violation.clip_status, "start": iso(violation.clip_start), "end": iso(violation.clip_end)},
    }
    valid_s = forwarding.url_valid_hours * 3600

    def shared(path: str) -> str | None:
        return f"{forwarding.public_url}{signer.sign(path, platform_id, valid_s)}" if forwarding.public_url else None

    if violation.has_snapshot and forwarding.snapshot == "inline":
        jpeg = snapshot(violation.id)
        if jpeg is not None:
            data["snapshot"] = {"content_type": "image/jpeg", "base64": base64.b64encode(jpeg).decode()}
    elif violation.has_snapshot and forwarding.snapshot == "url":
        data["snapshot"] = {
            "content_type": "image/jpeg",
            "url": shared(f"/api/shared/violations/{violation.id}/snapshot.jpg"),
        }
    if violation.clip_status == "ready":
        data["clip"]["url"] = shared(f"/api/shared/violations/{violation.id}/clip.mp4")
    body = {"type": f"violation.{event.phase}", "timestamp": iso(event.at), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

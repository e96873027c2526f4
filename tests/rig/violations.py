"""Violations written straight into a running service's store, as its detectors would: each started and ended,
so that the service's outbox has both events to forward."""

from __future__ import annotations

from core.store import Store

JPEG = b"\xff\xd8\xff\xe0" + b"snapshot" * 10 + b"\xff\xd9"


def add_violation(store: Store, camera_id: str, institution: str, at: float, kind: str = "covered_lens") -> int:
    violation_id = store.violations.open(
        camera_id=camera_id,
        institution_id=institution,
        type=kind,
        zone=None,
        zone_points=None,
        onset_at=at,
        started_at=at,
        confidence=0.9,
        bbox=None,
        clip_start=at - 10,
        snapshot=JPEG,
    )
    store.violations.close(violation_id, ended_at=at + 5, reason="clear", confidence=0.9, bbox=None, clip_end=at + 15)
    return violation_id

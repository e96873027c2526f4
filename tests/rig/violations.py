"""Violations written straight into a store, as a running service's detectors would: opened (and, by
`add_violation`, ended), so that the service's outbox has their events to forward."""

from __future__ import annotations

from core.store import Store

JPEG = b"\xff\xd8\xff\xe0" + b"snapshot" * 10 + b"\xff\xd9"


def open_violation(
    store: Store, camera_id: str, institution: str, at: float, kind: str = "covered_lens", snapshot: bytes | None = JPEG
) -> int:
    return store.violations.open(
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
        snapshot=snapshot,
    )


def add_violation(store: Store, camera_id: str, institution: str, at: float, kind: str = "covered_lens") -> int:
    """A violation that started at `at` and ended 5 s later."""
    violation_id = open_violation(store, camera_id, institution, at, kind)
    store.violations.close(violation_id, ended_at=at + 5, reason="clear", confidence=0.9, bbox=None, clip_end=at + 15)
    return violation_id

"""core/store/violations.py's event log and core/store/uplink.py: the outbox a platform's forwarding works from."""

from __future__ import annotations

from core.store import Store
from tests.rig.violations import open_violation


def _open(store: Store, camera_id: str, at: float) -> int:
    return open_violation(store, camera_id, "i", at, snapshot=None)


def test_every_change_is_logged_in_its_own_transaction_with_the_violation_as_it_stood() -> None:
    store = Store.open(":memory:")
    violation = _open(store, "a", 100.0)
    store.violations.close(violation, ended_at=105.0, reason="clear", confidence=0.9, bbox=None, clip_end=115.0)
    store.violations.set_clip(violation, "requested")  # not worth telling anyone
    store.violations.set_clip(violation, "ready", "violation-1.mp4")
    events = store.violations.events_after(0)
    assert [(e.phase, e.violation.state, e.violation.clip_status) for e in events] == [
        ("started", "active", "waiting"),
        ("ended", "ended", "pending"),
        ("updated", "ended", "ready"),
    ]
    second = _open(store, "b", 200.0)
    assert store.violations.close_all_active(300.0, "service restarted") == 1
    assert [(e.violation_id, e.phase) for e in store.violations.events_after(events[-1].id)] == [
        (second, "started"),
        (second, "ended"),
    ]


def test_deliveries_go_in_order_per_camera_and_a_parked_one_does_not_hold_the_rest() -> None:
    store = Store.open(":memory:")
    for n in range(3):
        for camera in ("a", "b"):
            _open(store, camera, float(n))
    events = store.violations.events_after(0)
    store.uplink.take("p", [(e.id, e.camera_id) for e in events], events[-1].id)
    assert store.uplink.cursor("p") == events[-1].id
    heads = store.uplink.due("p", now=1e12, limit=10)
    assert [(d.camera_id, d.event_id) for d in heads] == [("a", events[0].id), ("b", events[1].id)]
    store.uplink.failed(heads[0].id, "HTTP 503", next_attempt_at=2e12)  # a waits: nothing of a goes meanwhile
    assert [d.camera_id for d in store.uplink.due("p", now=1e12, limit=10)] == ["b"]
    store.uplink.park(heads[0].id, "HTTP 400: no")
    assert [(d.camera_id, d.event_id) for d in store.uplink.due("p", now=1e12, limit=10)] == [
        ("b", events[1].id),
        ("a", events[2].id),
    ]
    stats = store.uplink.stats("p")
    assert (stats.pending, stats.parked, stats.delivered, stats.last_error) == (5, 1, 0, "HTTP 400: no")
    assert store.uplink.retry("p", heads[0].id) and not store.uplink.retry("p", heads[0].id)
    # Taking the same events again (a crash between sending and recording) makes no second delivery.
    store.uplink.take("p", [(e.id, e.camera_id) for e in events], events[-1].id)
    assert store.uplink.stats("p").pending == 6

"""Taking the store's violation event log (the outbox) into one channel's deliveries: an HTTP forwarder's, or a
GB/T 28181 cascade's alarms. A channel added to the configuration starts from now: it is not sent the past."""

from __future__ import annotations

from collections.abc import Callable, Collection

from core.store import Store

TAKE_BATCH = 500


def take_new_events(
    store: Store, channel: str, sees: Callable[[str, str], bool], phases: Collection[str] | None = None
) -> None:
    """Hand the log's new events the channel sees (of `phases`, or all) to its deliveries, in one transaction.
    Blocking: call from a worker thread."""
    cursor = store.uplink.cursor(channel)
    if cursor is None:
        store.uplink.take(channel, [], store.violations.last_event_id())
        return
    events = store.violations.events_after(cursor, TAKE_BATCH)
    if not events:
        return
    store.uplink.take(
        channel,
        [
            (e.id, e.camera_id)
            for e in events
            if sees(e.camera_id, e.institution_id) and (phases is None or e.phase in phases)
        ],
        events[-1].id,
    )

"""Violations told to a GB/T 28181 upper platform as alarms (start and end), through the same durable outbox as
HTTP forwarding: taken from the violation event log, sent in order while we are registered, each until the
platform answers it; a refusal (4xx) parks it with the reason."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from core.config.uplink import Gb28181Config, PlatformConfig
from core.store import Store
from core.store.uplink import Delivery
from uplink.gb28181.catalog import Catalog
from uplink.gb28181.queries import alarm_notify
from uplink.gb28181.sip.endpoint import SipTimeout
from uplink.gb28181.sip.message import SipResponse
from uplink.messages import Catalogue, KindLabels
from uplink.outbox import take_new_events
from uplink.visibility import platform_sees

log = logging.getLogger(__name__)

POLL_S = 0.25
PHASES = {"started": True, "reopened": True, "ended": False}  # → whether the alarm starts
PRIORITY = {"urgent": 1, "major": 2, "minor": 3}
BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)


def alarm_channel(platform_id: str) -> str:
    """The outbox channel of a platform's GB/T 28181 alarms (beside its HTTP forwarding, under its own id)."""
    return f"{platform_id}/gb28181"


class AlarmReporter:
    def __init__(
        self,
        platform: PlatformConfig,
        gb: Gb28181Config,
        store: Store,
        catalogue: Callable[[], Catalogue],
        catalog: Callable[[], Catalog],
        kind: Callable[[str], KindLabels | None],
        registered: asyncio.Event,
        send: Callable[[bytes], Awaitable[SipResponse]],
        next_sn: Callable[[], int],
    ) -> None:
        self._platform = platform
        self._gb = gb
        self._store = store
        self._catalogue = catalogue
        self._catalog = catalog
        self._kind = kind
        self._registered = registered
        self._send = send
        self._next_sn = next_sn
        self.channel = alarm_channel(platform.id)
        self.sent = 0

    async def run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self._take)
                if self._registered.is_set():
                    due = await asyncio.to_thread(self._store.uplink.due, self.channel, time.time(), 16)
                    for delivery in sorted(due, key=lambda d: d.event_id):
                        await self._deliver(delivery)
                    if due:
                        continue
            except Exception:  # the store briefly unavailable, a bug: never lose the task
                log.exception("GB/T 28181 %s: alarms failed; trying again", self._platform.id)
            await asyncio.sleep(POLL_S)

    def _take(self) -> None:
        sees = platform_sees(self._platform, self._catalogue().tree)
        take_new_events(self._store, self.channel, sees, PHASES)

    async def _deliver(self, delivery: Delivery) -> None:
        store = self._store
        event = await asyncio.to_thread(store.violations.event, delivery.event_id)
        entry = self._catalog().camera_by_id(delivery.camera_id)
        if event is None or entry is None:
            why = "the violation no longer exists" if event is None else "the camera has no GB/T 28181 id"
            await asyncio.to_thread(store.uplink.park, delivery.id, why)
            return
        kind = self._kind(event.violation.type)
        method, alarm_type = kind.gb_alarm if kind else (5, 11)
        started = PHASES.get(event.phase, True)
        label = kind.zh if kind else event.violation.type
        body = alarm_notify(
            self._next_sn(),
            self._gb,
            entry,
            PRIORITY.get(kind.severity if kind else "", 4),
            method,
            alarm_type,
            event.at,
            f"{label}{'开始' if started else '结束'}",
            started,
        )
        try:
            answer = await self._send(body)
        except (SipTimeout, OSError) as error:
            wait = BACKOFF_S[min(delivery.attempts, len(BACKOFF_S) - 1)]
            await asyncio.to_thread(
                store.uplink.failed, delivery.id, str(error) or type(error).__name__, time.time() + wait
            )
            return
        if 200 <= answer.status < 300:
            self.sent += 1
            await asyncio.to_thread(store.uplink.delivered, delivery.id)
        elif 400 <= answer.status < 500 and answer.status not in (408, 481):
            reason = f"{answer.status} {answer.reason}"
            log.warning("GB/T 28181 %s: alarm for event %s refused and parked: %s", self._platform.id, event.id, reason)
            await asyncio.to_thread(store.uplink.park, delivery.id, reason)
        else:
            wait = BACKOFF_S[min(delivery.attempts, len(BACKOFF_S) - 1)]
            await asyncio.to_thread(
                store.uplink.failed, delivery.id, f"{answer.status} {answer.reason}", time.time() + wait
            )

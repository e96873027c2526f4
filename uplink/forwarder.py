"""Forwarding violation events to one upper platform over HTTP: durable, in order per camera, until each is taken.

The store's violation event log is the outbox (written in the same transaction as the violation). This task takes
the log's new events the platform sees into its deliveries, then POSTs the next one of each camera that is due,
signed. A 2xx delivers it; a refusal for good (4xx) parks it with the reason, and the camera's next ones go on;
anything else (5xx, a time-out, the platform unreachable) is tried again after a back-off, however long the
outage. After a kill -9 a message in flight goes again, with the same id: the platform drops what it has.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from core.config.uplink import PlatformConfig
from core.signed_urls import UrlSigner
from core.store import Store
from core.store.uplink import Delivery
from uplink.messages import Catalogue, KindLabels, message_id, violation_message
from uplink.outbox import take_new_events
from uplink.signing import signer_for
from uplink.visibility import platform_sees

log = logging.getLogger(__name__)

POLL_S = 0.25  # how often the event log is looked at: a new violation reaches the platform within this
SEND_BATCH = 16  # cameras whose next message is sent at once
_RETRYABLE_4XX = {408, 425, 429}


class EventForwarder:
    def __init__(
        self,
        platform: PlatformConfig,
        store: Store,
        catalogue: Callable[[], Catalogue],
        kind: Callable[[str], KindLabels | None],
        urls: UrlSigner,
        installation: str,
    ) -> None:
        assert platform.events is not None
        self.platform = platform
        self._events = platform.events
        self._store = store
        self._catalogue = catalogue
        self._kind = kind
        self._urls = urls
        self._installation = installation
        self._signer = signer_for(platform.events)
        self._task: asyncio.Task[None] | None = None
        self.last_attempt_at: float | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"uplink-events-{self.platform.id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=self._events.timeout_s, follow_redirects=False) as client:
            while True:
                try:
                    await asyncio.to_thread(self._take)
                    due = await asyncio.to_thread(self._store.uplink.due, self.platform.id, time.time(), SEND_BATCH)
                    if due:
                        await asyncio.gather(*(self._send(client, delivery) for delivery in due))
                        continue  # more may be due at once
                except Exception:  # the store briefly unavailable, a bug: never lose the task
                    log.exception("uplink %s: forwarding failed; trying again", self.platform.id)
                await asyncio.sleep(POLL_S)

    def _take(self) -> None:
        take_new_events(self._store, self.platform.id, platform_sees(self.platform, self._catalogue().tree))

    async def _send(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        store = self._store
        event = await asyncio.to_thread(store.violations.event, delivery.event_id)
        if event is None:  # deleted with its violation meanwhile
            await asyncio.to_thread(store.uplink.park, delivery.id, "the violation no longer exists")
            return
        body = await asyncio.to_thread(
            violation_message,
            event,
            self.platform.id,
            self._events,
            self._catalogue(),
            self._kind,
            store.violations.snapshot,
            self._urls,
        )
        headers = {
            "content-type": "application/json; charset=utf-8",
            "user-agent": "vms",
            **self._signer.headers(message_id(self._installation, event.id), int(time.time()), body),
        }
        self.last_attempt_at = time.time()
        try:
            answer = await client.post(self._events.url, content=body, headers=headers)
        except httpx.TimeoutException:
            await self._again(delivery, f"timed out after {self._events.timeout_s:g} s")
            return
        except httpx.HTTPError as error:
            await self._again(delivery, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
            return
        if answer.is_success:
            await asyncio.to_thread(store.uplink.delivered, delivery.id)
        elif 400 <= answer.status_code < 500 and answer.status_code not in _RETRYABLE_4XX:
            reason = f"HTTP {answer.status_code}: {answer.text[:200]}".rstrip(": ")
            log.warning("uplink %s: message for event %s refused and parked: %s", self.platform.id, event.id, reason)
            await asyncio.to_thread(store.uplink.park, delivery.id, reason)
        else:
            await self._again(delivery, f"HTTP {answer.status_code}")

    async def _again(self, delivery: Delivery, error: str) -> None:
        backoff = self._events.backoff_s
        wait = backoff[min(delivery.attempts, len(backoff) - 1)]
        if delivery.attempts == 0:
            log.warning("uplink %s: %s; trying again, backing off", self.platform.id, error)
        await asyncio.to_thread(self._store.uplink.failed, delivery.id, error, time.time() + wait)

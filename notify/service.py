"""Notifications: a notice routed to the notifiers that want it, each message stored, then sent and retried with
back-off until delivered or given up.

`notify` may be called from any thread: it only writes the messages to the store and wakes the sender. The sender
runs on the event loop, each message in a task of its own with the notifier's timeout, so a receiver that hangs
or refuses holds up nobody else. Messages survive a restart (they are rows), and each is sent at most once per
notifier, recipient and event of a thing, however often the event is raised.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from core.config.notifications import NotificationsConfig, Notifier
from core.redaction import redact
from core.store.notifications import Delivery, NewDelivery, NotificationRepository
from notify.channels import build, recipients, secrets
from notify.notice import Notice
from notify.outgoing import answer_problem

log = logging.getLogger(__name__)

# Deliveries sent at once, all notifiers together: a burst of notices waits its turn rather than open a socket each.
MAX_IN_FLIGHT = 32
# The sender looks at the store at least this often (a retry falls due, another process added a message).
IDLE_POLL_S = 30.0

Contains = Callable[[str, str], bool]  # (unit, institution) -> whether the unit's subtree holds the institution


class Notifications:
    def __init__(
        self,
        repository: NotificationRepository,
        settings: Callable[[], NotificationsConfig],
        contains: Callable[[], Contains],
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._contains = contains
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None

    # --- raising a notice ---------------------------------------------------------------------------

    def receivers(self, notice: Notice) -> list[Notifier]:
        """The notifiers whose events, severities and units take this notice."""
        contains = self._contains()
        return [
            notifier
            for notifier in self._settings().notifiers
            if notice.event in notifier.events
            and notice.severity in notifier.severities
            and (
                not notifier.units
                or (notice.institution is not None and any(contains(u, notice.institution) for u in notifier.units))
            )
        ]

    def notify(self, notice: Notice) -> int:
        """Store a message for each notifier (and recipient) that takes the notice; returns how many are new.
        Thread-safe; the store write is the only wait."""
        new = [
            NewDelivery(
                notifier.id,
                recipient,
                notice.event,
                notice.ref,
                notice.severity,
                notice.institution,
                notice.title,
                notice.text,
                notice.url,
            )
            for notifier in self.receivers(notice)
            for recipient in recipients(notifier)
        ]
        added = self._repository.enqueue(new, time.time()) if new else 0
        if added:
            self._poke()
        return added

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return  # not started: the messages wait in the store for the start
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:
            pass  # the loop has closed: the messages wait in the store for the next start

    # --- sending ------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        # No proxy from the environment, no redirects: a message goes to the address configured, or not at all.
        self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        self._task = asyncio.create_task(self._run(), name="notifications")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._in_flight.values()):
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self._task = self._client = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            now = time.time()
            try:
                due = await asyncio.to_thread(self._repository.due, now, MAX_IN_FLIGHT * 2)
                for delivery in due:
                    if delivery.id not in self._in_flight and len(self._in_flight) < MAX_IN_FLIGHT:
                        task = asyncio.create_task(self._deliver(delivery), name=f"notify-{delivery.id}")
                        self._in_flight[delivery.id] = task
                next_at = await asyncio.to_thread(self._repository.next_due_after, now)
            except Exception:
                log.exception("notifications: reading the deliveries failed; trying again shortly")
                next_at = now + 5.0
            wait = IDLE_POLL_S if next_at is None else max(0.0, min(next_at - time.time(), IDLE_POLL_S))
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass

    def _notifier(self, notifier_id: str) -> Notifier | None:
        return next((n for n in self._settings().notifiers if n.id == notifier_id), None)

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            # The list this came from may predate an attempt that ended while it was read: only a delivery still
            # due is sent, or a failed one would be sent again at once instead of after its back-off.
            current = await asyncio.to_thread(self._repository.still_due, delivery.id, time.time())
            if current is None:
                return
            delivery = current
            config = self._notifier(delivery.notifier_id)
            if config is None:
                await asyncio.to_thread(self._repository.give_up, delivery.id, "the notifier is no longer configured")
                return
            problem = await self._send(config, delivery)
            now = time.time()
            if problem is None:
                await asyncio.to_thread(self._repository.delivered, delivery.id, now)
                log.info("notify %s: delivery %d delivered (%s)", config.id, delivery.id, delivery.ref)
                return
            attempts = delivery.attempts + 1
            retry_at = None
            if attempts < config.max_attempts:
                retry_at = now + config.backoff_s[min(attempts, len(config.backoff_s)) - 1]
            await asyncio.to_thread(self._repository.attempt_failed, delivery.id, problem, retry_at)
            log.warning(
                "notify %s: delivery %d, attempt %d failed: %s%s",
                config.id,
                delivery.id,
                attempts,
                problem,
                "" if retry_at is not None else " (given up)",
            )
        except Exception:
            log.exception("notify: delivery %d failed unexpectedly", delivery.id)
        finally:
            self._in_flight.pop(delivery.id, None)
            if self._wake is not None:
                self._wake.set()

    async def _send(self, config: Notifier, delivery: Delivery) -> str | None:
        """None when delivered, else why not (in words, secrets masked)."""
        assert self._client is not None
        notice = Notice(
            delivery.event,  # type: ignore[arg-type]  # stored from an Event
            delivery.ref,
            delivery.title,
            delivery.text,
            delivery.severity,  # type: ignore[arg-type]  # stored from a Severity
            delivery.institution_id,
            delivery.url,
        )
        outgoing = build(config, notice, delivery.recipient, time.time())
        try:
            response = await self._client.request(
                outgoing.method,
                outgoing.url,
                headers=outgoing.headers,
                content=outgoing.body,
                timeout=config.timeout_s,
            )
        except httpx.TimeoutException:
            return f"no answer within {config.timeout_s:g} s"
        except httpx.HTTPError as error:
            # httpx's words may quote the URL, which carries the robot's token: masked, as in every log line.
            return redact(f"{type(error).__name__}: {error}", secrets(config)) or type(error).__name__
        return answer_problem(response.status_code, response.content, outgoing.robot)

    # --- what is shown ------------------------------------------------------------------------------

    def counts(self) -> dict[tuple[str, str], int]:
        """(notifier, state) -> deliveries, for /metrics."""
        return self._repository.counts()

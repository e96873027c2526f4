"""The shell of every consumer that works on a camera's packets in a thread of its own: the recorder, the
detection pipeline, the live fallbacks (fMP4, Motion JPEG) and, later, the uplink's media senders."""

from __future__ import annotations

import logging
import threading
import time

from streams.hub import Hub
from streams.items import StreamItem
from streams.subscription import OverflowPolicy, SubscriptionClosed

log = logging.getLogger(__name__)


class SubscriptionWorker:
    """A daemon thread reading its own subscription of a hub, in batches, until stopped.

    Subclasses implement `handle`; the other hooks are optional. Every hook runs in the worker's thread.
    `pause_s` is a rest after each batch: taking the queue in batches rather than waking for each packet costs
    a fraction of the CPU, and consumers that judge or write over seconds lose nothing by it. The camera never
    waits for a worker: a slow one loses packets (DROP) or is cut off (DETACH), as its policy says.
    `max_delay_s` (the subscription's) is how late the worker may be handed a packet at all: above 0, the camera's
    connection may be read in bursts while no one needs packets sooner, which costs its source a fraction too.
    """

    poll_s: float | None = 0.5  # how often `idle` runs while nothing comes, unless `idle_in` says otherwise
    pause_s = 0.0

    def __init__(
        self,
        hub: Hub,
        name: str,
        *,
        capacity: int | None = None,
        policy: OverflowPolicy = OverflowPolicy.DROP,
        thread_name: str | None = None,
        max_delay_s: float = 0.0,
    ) -> None:
        self.hub = hub
        self.subscription = hub.subscribe(name, capacity, policy, max_delay_s)
        self.error: str | None = None  # why the worker stopped on its own, if it failed
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name or name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the worker to finish; returns at once. A wait for packets in progress ends now."""
        self._stopping.set()
        self.subscription.close("stopped")

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- hooks --------------------------------------------------------------------------------------

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        """A batch, in order; `fetched_at` is when it was taken from the hub."""
        raise NotImplementedError

    def idle(self, now: float) -> None:
        """After every batch, and when `idle_in` has passed with nothing coming."""

    def idle_in(self, now: float) -> float | None:
        """How long the worker may wait for the next item before `idle` must run; None: until an item comes.
        Asked after every `idle`. Either way `stop` and a closed subscription end the wait at once: a worker
        with nothing to do by time alone sleeps without waking (hundreds of cameras offline wake nothing)."""
        return self.poll_s

    def closed(self, reason: str) -> None:
        """The hub cut the subscription off (a DETACH consumer fell behind, or the hub closed it)."""

    def failed(self, error: Exception) -> None:
        """A hook raised: the worker ends. The default logs it; `error` says why."""
        log.exception("%s failed", self._thread.name, exc_info=error)

    def finished(self) -> None:
        """At the end, whatever ended the worker."""

    # --- the thread -----------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            wait_s = self.idle_in(time.time())
            while not self._stopping.is_set():
                try:
                    items = self.subscription.get_all(timeout=wait_s)
                except SubscriptionClosed as closed:
                    if not self._stopping.is_set():
                        self.closed(str(closed))
                    break
                now = time.time()
                if items:
                    self.handle(items, now)
                self.idle(now)
                wait_s = self.idle_in(now)
                if self.pause_s:
                    self._stopping.wait(self.pause_s)
        except Exception as error:  # one broken consumer must not pass unnoticed, nor take anything else down
            self.error = f"{type(error).__name__}: {error}"
            self.failed(error)
        finally:
            try:
                self.finished()
            finally:
                self.hub.unsubscribe(self.subscription)

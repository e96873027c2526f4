"""streams/worker.py: the thread shell shared by the recorder, the detection pipeline and the live fallbacks."""

from __future__ import annotations

import threading
import time

from streams.hub import Hub
from streams.items import StreamItem
from streams.subscription import OverflowPolicy
from streams.worker import SubscriptionWorker
from tests.unit.conftest import Session


class Collecting(SubscriptionWorker):
    poll_s = 0.05

    def __init__(self, hub: Hub, **kwargs: object) -> None:
        super().__init__(hub, "collect", **kwargs)  # type: ignore[arg-type]
        self.items: list[StreamItem] = []
        self.idles = 0
        self.closed_reason: str | None = None
        self.failures: list[Exception] = []
        self.done = threading.Event()
        self.fail_on: int | None = None

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        self.items += items
        if self.fail_on is not None and len(self.items) >= self.fail_on:
            raise RuntimeError("broken consumer")

    def idle(self, now: float) -> None:
        self.idles += 1

    def closed(self, reason: str) -> None:
        self.closed_reason = reason

    def failed(self, error: Exception) -> None:
        self.failures.append(error)

    def finished(self) -> None:
        self.done.set()


def _wait(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)
    assert condition(), "condition not reached"  # type: ignore[operator]


def test_items_arrive_in_order_and_idle_runs_while_nothing_comes(h264_session: Session) -> None:
    hub = Hub("cam")
    worker = Collecting(hub)
    worker.start()
    hub.begin(h264_session.info)
    for packet in h264_session.packets:
        hub.publish(packet)
    _wait(lambda: len(worker.items) == 1 + len(h264_session.packets))
    assert worker.items[1:] == h264_session.packets
    idles = worker.idles
    _wait(lambda: worker.idles > idles + 2)  # every poll_s, with no packets
    started = time.monotonic()
    worker.stop()
    assert worker.join(2) and time.monotonic() - started < 1.0  # a waiting read ends at once
    assert worker.done.is_set() and worker.closed_reason is None and not hub.consumers()


def test_a_worker_with_nothing_to_do_by_time_sleeps_until_a_packet_or_stop(h264_session: Session) -> None:
    hub = Hub("cam")
    worker = Collecting(hub)
    worker.idle_in = lambda now: None  # type: ignore[method-assign]
    worker.start()
    time.sleep(0.3)
    assert worker.idles == 0  # six times its poll_s: not woken once
    hub.begin(h264_session.info)
    _wait(lambda: worker.idles == 1 and len(worker.items) == 1)
    started = time.monotonic()
    worker.stop()
    assert worker.join(2) and time.monotonic() - started < 1.0 and worker.idles == 1


def test_a_failing_consumer_ends_alone_and_says_why(h264_session: Session) -> None:
    hub = Hub("cam")
    broken, healthy = Collecting(hub), Collecting(hub)
    broken.fail_on = 3
    broken.start()
    healthy.start()
    hub.begin(h264_session.info)
    for packet in h264_session.packets:
        hub.publish(packet)
    _wait(lambda: broken.done.is_set())
    assert broken.error == "RuntimeError: broken consumer" and len(broken.failures) == 1
    _wait(lambda: len(healthy.items) == 1 + len(h264_session.packets))
    healthy.stop()


def test_a_consumer_cut_off_by_the_hub_is_told(h264_session: Session) -> None:
    hub = Hub("cam")
    slow = Collecting(hub, capacity=10, policy=OverflowPolicy.DETACH)
    hub.begin(h264_session.info)
    for packet in h264_session.packets:  # before it runs: its queue overflows
        hub.publish(packet)
    slow.start()
    _wait(lambda: slow.done.is_set())
    assert slow.closed_reason is not None and "detached" in slow.closed_reason

"""A stream of a worker process as the service process sees it: forwarded only while someone reads it, from the
worker's cached key frame, with sessions of its own across forwards and worker restarts."""

from __future__ import annotations

import time
from fractions import Fraction

from media.packet import MediaPacket, StreamInfo
from service.workers.remote_stream import RemoteHub
from streams.items import PacketsDropped, StreamEnded
from streams.subscription import SubscriptionClosed

TB = Fraction(1, 90000)


def info(session: int) -> StreamInfo:
    return StreamInfo(session, "h264", "Main", 640, 360, TB, b"sps", 25.0, time.time())


def packet(n: int, key: bool, session: int) -> MediaPacket:
    return MediaPacket(session, bytes([n]) * 10, n * 3600, n * 3600, 3600, TB, key, time.time())


def drain(subscription) -> list:
    items = []
    try:
        while (item := subscription.get(timeout=0)) is not None:
            items.append(item)
    except SubscriptionClosed:
        pass
    return items


class Requests(list):
    def __call__(self, seq: int | None) -> None:
        self.append(seq)


def test_the_first_reader_starts_the_forward_and_the_last_one_stops_it() -> None:
    requests = Requests()
    hub = RemoteHub("gate", requests, 1 << 20, 100)
    assert requests == []  # nobody reads: nothing crosses
    first = hub.subscribe("webrtc")
    second = hub.subscribe("mjpeg")
    assert requests == [1]  # one forward for both
    hub.receive(1, info(7))
    hub.receive(1, packet(0, True, 7))
    hub.receive(1, packet(1, False, 7))
    for subscription in (first, second):
        items = drain(subscription)
        assert isinstance(items[0], StreamInfo) and [i.data[0] for i in items[1:]] == [0, 1]
    hub.unsubscribe(first)
    assert requests == [1]
    hub.unsubscribe(second)
    assert requests == [1, None]
    assert hub.info is None  # the forward's session is forgotten; the worker's report says what runs there


def test_a_late_reader_starts_on_the_forwarded_key_frame() -> None:
    hub = RemoteHub("gate", Requests(), 1 << 20, 100)
    first = hub.subscribe("webrtc")
    hub.receive(1, info(3))
    for n in range(4):
        hub.receive(1, packet(n, n == 0, 3))
    late = hub.subscribe("snapshot")
    items = drain(late)
    assert isinstance(items[0], StreamInfo) and items[1].keyframe and len(items) == 5
    assert drain(first)


def test_items_of_an_earlier_forward_are_ignored() -> None:
    requests = Requests()
    hub = RemoteHub("gate", requests, 1 << 20, 100)
    hub.unsubscribe(hub.subscribe("a"))
    reader = hub.subscribe("b")
    assert requests == [1, None, 2]
    hub.receive(1, info(1))  # still in flight from the first forward
    hub.receive(1, packet(0, True, 1))
    assert drain(reader) == []
    hub.receive(2, info(1))
    hub.receive(2, packet(0, True, 1))
    assert len(drain(reader)) == 2


def test_sessions_are_ours_so_a_new_worker_starting_again_at_1_is_a_new_session() -> None:
    requests = Requests()
    hub = RemoteHub("gate", requests, 1 << 20, 100)
    reader = hub.subscribe("webrtc")
    hub.receive(1, info(1))
    hub.receive(1, packet(0, True, 1))
    hub.worker_lost("worker process 0 killed by signal 9 (SIGKILL)")
    hub.rewatch()
    assert requests == [1, 2]  # asked again of the new worker
    hub.receive(2, info(1))
    hub.receive(2, packet(0, True, 1))
    items = drain(reader)
    ended = [item for item in items if isinstance(item, StreamEnded)]
    sessions = [item.session for item in items if isinstance(item, StreamInfo)]
    assert len(ended) == 1 and "signal 9" in ended[0].reason
    assert len(set(sessions)) == 2


def test_after_the_forward_fell_behind_readers_resume_on_a_key_frame() -> None:
    hub = RemoteHub("gate", Requests(), 1 << 20, 100)
    reader = hub.subscribe("webrtc")
    hub.receive(1, info(1))
    hub.receive(1, packet(0, True, 1))
    hub.receive(1, PacketsDropped(1, 1, time.time()))
    hub.receive(1, packet(1, False, 1))  # cannot be decoded without what was dropped
    hub.receive(1, packet(2, True, 1))
    assert [item.data[0] for item in drain(reader) if isinstance(item, MediaPacket)] == [0, 2]


def test_consumers_are_the_workers_and_ours() -> None:
    from streams.subscription import ConsumerStats

    hub = RemoteHub("gate", Requests(), 1 << 20, 100)
    hub.reported_consumers = [ConsumerStats("recorder", "drop", 0, 750, 0, 0, False, None)]
    hub.subscribe("webrtc")
    assert [c.name for c in hub.consumers()] == ["recorder", "webrtc"]

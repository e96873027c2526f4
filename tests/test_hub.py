"""Fan-out: every consumer gets the stream from a key frame; a slow one never holds back the others."""

from __future__ import annotations

import asyncio
import threading
import time
from fractions import Fraction

import pytest

from media.packet import MediaPacket, StreamInfo
from streams.hub import Hub
from streams.items import PacketsDropped, StreamEnded
from streams.subscription import OverflowPolicy, SubscriptionClosed

TB = Fraction(1, 90000)


def info(session: int = 1) -> StreamInfo:
    return StreamInfo(session, "h264", "Main", 640, 360, TB, b"\x00\x00\x00\x01sps", 25.0, time.time())


def packet(n: int, key: bool, session: int = 1) -> MediaPacket:
    return MediaPacket(session, bytes([n % 256]) * 100, n * 3600, n * 3600, 3600, TB, key, time.time())


def feed(hub: Hub, start: int, count: int, gop: int = 10, session: int = 1) -> None:
    for n in range(start, start + count):
        hub.publish(packet(n, key=(n % gop == 0), session=session))


def drain(sub) -> list:
    items = []
    try:
        while (item := sub.get(timeout=0)) is not None:
            items.append(item)
    except SubscriptionClosed:
        pass
    return items


def test_late_subscriber_starts_on_cached_key_frame() -> None:
    hub = Hub("c")
    hub.begin(info())
    feed(hub, 0, 25)  # key frames at 0, 10, 20
    late = hub.subscribe("viewer")
    items = drain(late)
    assert isinstance(items[0], StreamInfo)
    assert [p.pts // 3600 for p in items[1:]] == [20, 21, 22, 23, 24]
    assert items[1].keyframe


def test_a_key_frame_subscriber_is_handed_key_frames_only_and_loses_nothing_it_wants() -> None:
    hub = Hub("c")
    keys, everything = hub.subscribe("detectors", capacity=5), hub.subscribe("rec", capacity=1000)
    keys.key_frames_only = True
    hub.begin(info())
    feed(hub, 0, 35)  # key frames at 0, 10, 20, 30: 31 non-key packets that would overflow a queue of 5
    got = drain(keys)
    assert isinstance(got[0], StreamInfo) and [p.pts // 3600 for p in got[1:]] == [0, 10, 20, 30]
    assert keys.stats().dropped == 0 and len(drain(everything)) == 36


def test_packets_before_first_key_frame_are_skipped() -> None:
    hub = Hub("c")
    sub = hub.subscribe("rec")
    hub.begin(info())
    feed(hub, 5, 10)  # 5..9 precede the key frame at 10
    items = drain(sub)
    assert [p.pts // 3600 for p in items[1:]] == [10, 11, 12, 13, 14]
    assert hub.skipped_before_keyframe == 5


def test_slow_consumer_drops_to_next_key_frame_and_says_so() -> None:
    hub = Hub("c")
    hub.begin(info())
    fast = hub.subscribe("fast", capacity=1000)
    slow = hub.subscribe("slow", capacity=15, policy=OverflowPolicy.DROP)
    feed(hub, 0, 41)  # ends on a key frame, so every drop so far has been reported
    fast_items = drain(fast)
    assert len(fast_items) == 42  # info + 41 packets, nothing lost
    slow_items = drain(slow)
    drops = [i for i in slow_items if isinstance(i, PacketsDropped)]
    assert drops and sum(d.count for d in drops) == slow.stats().dropped > 0
    # after each drop marker, delivery resumes on a key frame
    for i, item in enumerate(slow_items):
        if isinstance(item, PacketsDropped):
            assert slow_items[i + 1].keyframe


def test_detach_policy_detaches_only_that_consumer() -> None:
    hub = Hub("c")
    hub.begin(info())
    stuck = hub.subscribe("stuck", capacity=10, policy=OverflowPolicy.DETACH)
    other = hub.subscribe("other", capacity=1000)
    feed(hub, 0, 30)
    assert len(drain(other)) == 31
    assert len(drain(stuck)) == 10  # what was queued before it was detached
    with pytest.raises(SubscriptionClosed, match="detached"):
        stuck.get(timeout=0)
    names = {(c.name, c.detached) for c in hub.consumers()}
    assert ("stuck", True) in names and ("other", False) in names
    assert hub.detached_total == 1


def test_session_end_and_restart_are_delivered_in_order() -> None:
    hub = Hub("c")
    sub = hub.subscribe("rec")
    hub.begin(info(1))
    feed(hub, 0, 3)
    hub.end(1, "connection lost")
    hub.begin(info(2))
    feed(hub, 0, 2, session=2)
    kinds = [type(i).__name__ for i in drain(sub)]
    assert kinds == [
        "StreamInfo",
        "MediaPacket",
        "MediaPacket",
        "MediaPacket",
        "StreamEnded",
        "StreamInfo",
        "MediaPacket",
        "MediaPacket",
    ]


def test_blocked_thread_consumer_does_not_block_publisher() -> None:
    hub = Hub("c")
    hub.begin(info())
    hub.subscribe("never-reads", capacity=20)
    started = time.perf_counter()
    feed(hub, 0, 10_000)
    assert time.perf_counter() - started < 2.0  # would hang forever if the publisher waited for the consumer


def test_async_consumer_receives_from_publishing_thread() -> None:
    hub = Hub("c")
    hub.begin(info())

    async def consume() -> list:
        sub = hub.subscribe("async", capacity=1000)
        publisher = threading.Thread(target=feed, args=(hub, 0, 50))
        publisher.start()
        got = []
        while len(got) < 51:
            got.append(await asyncio.wait_for(sub.get_async(), timeout=5))
        publisher.join()
        hub.unsubscribe(sub)
        with pytest.raises(SubscriptionClosed):
            await sub.get_async()
        return got

    got = asyncio.run(consume())
    assert isinstance(got[0], StreamInfo) and [p.pts // 3600 for p in got[1:]] == list(range(50))
    assert not [c for c in hub.consumers() if c.name == "async"]


def test_gop_larger_than_cache_never_starts_a_viewer_on_a_p_frame() -> None:
    hub = Hub("c", gop_cache_bytes=550)  # holds 5 of the 100-byte packets
    hub.begin(info())
    feed(hub, 0, 8)  # key frame at 0, then 7 P-frames: overflows at the 6th
    late = hub.subscribe("viewer")
    assert [type(i).__name__ for i in drain(late)] == ["StreamInfo"]  # nothing rather than a broken start
    feed(hub, 8, 4)  # ...and waits for the next key frame
    items = drain(late)
    assert items[0].keyframe and items[0].pts // 3600 == 10


def test_reconnecting_camera_does_not_grow_an_unread_queue() -> None:
    hub = Hub("c")
    sub = hub.subscribe("never-reads", capacity=10)
    for session in range(1, 201):
        hub.begin(info(session))
        hub.end(session, "connection lost")
    assert sub.stats().queued <= 10
    items = drain(sub)
    assert isinstance(items[-1], StreamEnded) and items[-1].session == 200


def test_cancelled_async_wait_leaves_publisher_unharmed() -> None:
    hub = Hub("c")
    hub.begin(info())
    sub = hub.subscribe("async")
    drain(sub)

    async def give_up() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(sub.get_async(), timeout=0.05)

    asyncio.run(give_up())  # the consumer's loop is now closed
    feed(hub, 0, 3)  # must not raise "Event loop is closed" into the camera's thread
    assert len(drain(sub)) == 3


def test_get_all_takes_what_is_queued_in_one_call() -> None:
    hub = Hub("c")
    sub = hub.subscribe("recorder")
    assert sub.get_all(timeout=0.01) == []
    hub.begin(info())
    feed(hub, 0, 12)
    batch = sub.get_all(timeout=0.01)
    assert isinstance(batch[0], StreamInfo) and [p.pts // 3600 for p in batch[1:]] == list(range(12))
    assert sub.get_all(timeout=0.01) == [] and sub.stats().delivered == 13


def test_the_source_may_rest_only_as_long_as_the_most_impatient_consumer_allows() -> None:
    hub = Hub("c")
    assert hub.tolerated_delay_s == float("inf")  # nobody reads: nobody waits
    recorder = hub.subscribe("recorder", max_delay_s=1.0)
    detectors = hub.subscribe("detectors", max_delay_s=0.5)
    assert hub.tolerated_delay_s == 0.5
    viewer = hub.subscribe("viewer")  # a live viewer wants every packet as it comes
    assert hub.tolerated_delay_s == 0.0
    hub.unsubscribe(viewer)
    assert hub.tolerated_delay_s == 0.5
    hub.unsubscribe(detectors)
    assert hub.tolerated_delay_s == 1.0
    # A consumer cut off by the hub no longer counts either.
    slow = hub.subscribe("slow viewer", capacity=2, policy=OverflowPolicy.DETACH)
    assert hub.tolerated_delay_s == 0.0
    hub.begin(info())
    feed(hub, 0, 5)
    assert slow.stats().detached
    assert hub.tolerated_delay_s == 1.0
    hub.unsubscribe(recorder)
    assert hub.tolerated_delay_s == float("inf")

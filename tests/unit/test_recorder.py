"""recordings/recorder.py: where segments are cut and what each interruption leaves as a gap, fed packets
directly (no thread, no camera) and written to real files and an in-memory index; and, in its own thread, how
it takes its queue and that it never waits for the index."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.store import Store
from media.mp4.file import read_contents
from media.packet import MediaPacket
from recordings.index_writer import IndexWriter
from recordings.recorder import Recorder
from streams.hub import Hub
from streams.items import PacketsDropped, StreamEnded
from tests.unit.conftest import Session

T0 = 1_800_000_000.0


def _timed(session: Session, start: float = T0, offset_ticks: int = 0) -> list[MediaPacket]:
    """The session's packets as they arrive, 0.1 s apart, from `start` (our clock)."""
    tb = session.info.time_base
    out = []
    for packet in session.packets:
        dts = (packet.dts or 0) + offset_ticks
        out.append(packet._replace(pts=dts, dts=dts, received_at=start + float(dts * tb)))
    return out


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[Recorder, Store]:
    store = Store.open(":memory:")
    index = IndexWriter(store.recordings)
    return Recorder("cam", Hub("cam"), index, tmp_path, segment_s=2.0, fragment_s=1.0), store


def _closed(rec: Recorder, store: Store) -> list[tuple[float, float]]:
    assert rec.index_writer.flush()
    return [(round(s.start_ts - T0, 2), round(s.end_ts - T0, 2)) for s in store.recordings.segments("cam", 0, 4e9)]


def _gaps(rec: Recorder, store: Store) -> list[tuple[float, float | None, str]]:
    assert rec.index_writer.flush()
    return [
        (round(g.start_ts - T0, 2), None if g.end_ts is None else round(g.end_ts - T0, 2), g.cause)
        for g in store.recordings.gaps("cam", 0, 4e9)
    ]


def test_segments_are_cut_on_the_first_key_frame_after_segment_s(recorder, h264_session: Session) -> None:  # type: ignore[no-untyped-def]
    rec, store = recorder
    rec.handle([h264_session.info, *_timed(h264_session)], T0)
    rec.finished()
    assert _closed(rec, store) == [(0.0, 2.0), (2.0, 3.0)]  # 3 s of video, key frames every second
    assert _gaps(rec, store) == [(3.0, None, "recording stopped")]
    assert rec.status().state == "stopped" and rec.status().segments_written == 2


def test_a_cut_is_seamless_however_late_its_key_frame_was_read(recorder, h264_session: Session) -> None:  # type: ignore[no-untyped-def]
    rec, store = recorder
    packets = _timed(h264_session)
    # From 1.5 s on the frames are read in bursts (the source resting while nobody watches): each is read up to
    # 0.25 s after it came, the key frame at 2 s that starts the second segment 0.2 s late.
    late = [p._replace(received_at=p.received_at + 0.25 - 0.05 * (n % 5)) for n, p in enumerate(packets[15:])]
    rec.handle([h264_session.info, *packets[:15], *late], T0)
    rec.finished()
    assert _closed(rec, store) == [(0.0, 2.0), (2.0, 3.0)]
    first, second = store.recordings.segments("cam", 0, 4e9)
    assert second.start_ts == first.end_ts  # not a millisecond apart: one span for playback
    assert [gap[:2] for gap in _gaps(rec, store)] == [(3.0, None)]


def test_every_interruption_is_a_gap_with_its_cause(recorder, h264_session: Session) -> None:  # type: ignore[no-untyped-def]
    rec, store = recorder
    packets = _timed(h264_session)
    rec.handle([h264_session.info, *packets[:10]], T0)
    # The connection stays up but no video comes for 5 s: a gap, and a new segment on the next key frame.
    late = _timed(h264_session, T0 + 5.0, offset_ticks=round(5.0 / float(h264_session.info.time_base)))
    rec.handle(late[10:20], T0)
    rec.handle([PacketsDropped(1, 42, T0 + 7), *late[20:]], T0)
    rec.handle([StreamEnded(1, "connection reset", T0 + 8)], T0)
    assert [cause for _, _, cause in _gaps(rec, store)] == [
        "camera stalled: no video for 5.1 s",
        "recorder fell behind: 42 packets dropped",
        "camera: connection reset",
    ]
    assert rec.status().packets_dropped == 42
    # A new connection: its first segment closes the open gap.
    rec.handle([h264_session.info, *_timed(h264_session, T0 + 20)], T0)
    rec.finished()
    gaps = _gaps(rec, store)
    assert gaps[2][1] == 20.0 and gaps[-1][2] == "recording stopped"


def test_a_camera_clock_that_goes_back_starts_a_new_segment(recorder, h264_session: Session) -> None:  # type: ignore[no-untyped-def]
    rec, store = recorder
    packets = _timed(h264_session)
    rec.handle([h264_session.info, *packets[:15]], T0)
    again = _timed(h264_session, T0 + 1.5)  # timestamps restart at 0 within the same connection
    rec.handle(again[:10], T0)
    rec.finished()
    (first_start, first_end), (second_start, second_end) = _closed(rec, store)
    # It follows the first (which ended with its last frame, 1.5 s in) on our clock, never on top of it.
    assert first_end == 1.5 and 1.5 <= second_start < 1.6 and second_end - second_start == 1.0


def test_a_recorder_wakes_only_to_index_the_segment_it_writes(recorder, h264_session: Session) -> None:  # type: ignore[no-untyped-def]
    rec, store = recorder
    assert rec.idle_in(T0) is None  # a camera not sending: nothing to do until it does
    rec.handle([h264_session.info, *_timed(h264_session)], T0)
    assert 0 < rec.idle_in(T0) <= 5.0  # the open segment's row follows the file
    rec.finished()
    assert rec.idle_in(T0) is None


def test_a_writing_recorder_rests_until_the_packet_closing_its_fragment_is_due(
    tmp_path: Path, h264_session: Session
) -> None:
    store = Store.open(":memory:")
    rested = Recorder("cam", Hub("cam"), IndexWriter(store.recordings), tmp_path, 60.0, 1.0, reader_rest_s=0.25)
    now = time.time()
    packets = _timed(h264_session, start=now - 1.45)  # the camera's first frame came 1.45 s ago, 10 fps
    rested.handle([h264_session.info, *packets[:15]], now)
    # The packet closing the second fragment (1 s after its first, 1.0 s in) comes 0.55 s from now, up to the
    # reader's rest later: not a whole fragment's pause after this batch, when that packet could wait most of it.
    assert 0.75 < rested.pause_s <= 0.85

    rec = Recorder("cam", Hub("cam"), IndexWriter(store.recordings), tmp_path, 60.0, 1.0)
    now = time.time()
    packets = _timed(h264_session, start=now - 2.2)
    rec.handle([h264_session.info, *packets[:20]], now)
    assert rec.pause_s == 0.0  # its closing packet is overdue: the next packet to come wakes the recorder
    rec.handle(packets[20:21], now)  # it came: the next fragment closes 1.0 s after it, 0.2 s ago
    assert 0.75 < rec.pause_s <= 0.85
    rec.finished()
    rested.finished()


def test_a_kill_at_any_moment_finds_all_but_the_fragment_being_filled_on_disk(
    tmp_path: Path, h264_session: Session
) -> None:
    with _running(tmp_path, tmp_path) as (rec, hub, _):
        hub.begin(h264_session.info)
        began = time.time()
        packets = _timed(h264_session, start=began)  # 3 s at 10 fps, a key frame (and a fragment) a second
        # The connection's first packets come in one burst, 0.6 s after the first (the probe reads ahead): the
        # segment starts then, and a fixed pause after that batch would fall 0.6 s after each fragment closed.
        packets[:7] = [p._replace(received_at=began + 0.6) for p in packets[:7]]
        lags = []
        for packet in packets:
            time.sleep(max(0.0, packet.received_at - time.time()))
            hub.publish(packet)
            segment = rec.status().segment
            contents = read_contents(tmp_path / segment) if segment else None
            on_disk = contents.duration_s if contents else 0.0
            lags.append(time.time() - began - on_disk)
    # What a kill would lose: the fragment being filled (1 s) and the time its closing packet takes to be written
    # (a fixed pause after each batch: 1.5-1.6 s here).
    assert max(lags) < 1.0 + 0.3, " ".join(f"{n}:{lag:.2f}" for n, lag in enumerate(lags))
    assert min(lags[12:]) < 0.3  # every fragment written soon after it closed, not a fragment's pause later


@contextmanager
def _running(tmp_path: Path, recordings: Path) -> Iterator[tuple[Recorder, Hub, Store]]:
    """A recorder in its own thread on a hub, with a file index; stopped at the end."""
    store = Store.open(str(tmp_path / "index.db"))
    hub = Hub("cam")
    rec = Recorder("cam", hub, IndexWriter(store.recordings), recordings, segment_s=60.0, fragment_s=1.0)
    rec.start()
    try:
        yield rec, hub, store
    finally:
        rec.stop()
        rec.join(5)


def test_a_segment_starts_on_the_first_key_frame_then_packets_are_taken_a_fragment_at_a_time(
    tmp_path: Path, h264_session: Session
) -> None:
    with _running(tmp_path, tmp_path) as (rec, hub, store):
        packets = _timed(h264_session, start=time.time())  # 10 fps, a key frame a second
        hub.begin(h264_session.info)
        hub.publish(packets[0])
        published = time.monotonic()
        while rec.status().state != "recording" and time.monotonic() - published < 2.0:
            time.sleep(0.01)
        # Waiting for a key frame the recorder rests not at all: the segment starts on it, not a batch later.
        assert rec.status().state == "recording" and time.monotonic() - published < 0.8
        # The connection's first fragment is taken as it comes (its first packets' burst tells the clock late).
        for packet in packets[1:10]:
            hub.publish(packet)
        time.sleep(0.4)
        assert rec.subscription.stats().queued == 0
        # Then it rests until each fragment is due: the rest of the second one waits in its queue.
        hub.publish(packets[10])  # closes the first fragment
        time.sleep(0.1)
        for packet in packets[11:20]:
            hub.publish(packet)
        time.sleep(0.4)
        assert rec.subscription.stats().queued == 9
        while rec.subscription.stats().queued and time.monotonic() - published < 3.0:
            time.sleep(0.01)
        assert rec.subscription.stats().queued == 0
    assert rec.index_writer.flush()
    segments = store.recordings.segments("cam", 0, 4e9)
    assert [round(s.end_ts - s.start_ts, 2) for s in segments] == [2.0]  # the twenty frames, all written


def test_a_recorder_that_cannot_write_rests_between_batches_too(tmp_path: Path, h264_session: Session) -> None:
    (tmp_path / "recordings").write_bytes(b"")  # a file where the recordings folder should be: every open fails
    with _running(tmp_path, tmp_path / "recordings") as (rec, hub, _):
        packets = _timed(h264_session, start=time.time())
        hub.begin(h264_session.info)
        hub.publish(packets[0])
        published = time.monotonic()
        while rec.status().state != "failing" and time.monotonic() - published < 2.0:
            time.sleep(0.01)
        assert rec.status().state == "failing"
        for packet in packets[1:10]:
            hub.publish(packet)
        time.sleep(0.4)
        assert rec.subscription.stats().queued == 9  # not woken for every packet while it waits to retry


def test_a_recorder_records_while_the_index_cannot_be_written_and_the_index_follows(
    tmp_path: Path, h264_session: Session
) -> None:
    with _running(tmp_path, tmp_path) as (rec, hub, store):
        packets = _timed(h264_session, start=time.time())
        hub.begin(h264_session.info)
        with store.db.write():  # the index's write lock held (another camera's writes, a checkpoint, ...)
            for packet in packets[:11]:  # a key frame, nine frames and the next key frame: a whole fragment
                hub.publish(packet)
            published, sent = time.monotonic(), sum(len(p.data) for p in packets[:11])
            while rec.status().bytes_received < sent and time.monotonic() - published < 3:
                time.sleep(0.01)
            status = rec.status()
            assert status.state == "recording"
            assert status.bytes_written > len(h264_session.info.mp4_init or b"") + sent * 0.9  # the fragment is on disk
            assert store.recordings.segments("cam", 0, 4e9) == []  # its row waits
            assert status.index_pending >= 1
        assert rec.index_writer.flush(5)
        (segment,) = store.recordings.segments("cam", 0, 4e9)
        assert segment.path == rec.status().segment and segment.state == "open"
        assert rec.status().index_pending == 0


def test_a_recorder_says_when_the_index_refuses_its_changes(tmp_path: Path, h264_session: Session) -> None:
    with _running(tmp_path, tmp_path) as (rec, hub, store):
        store.db._conn.execute("PRAGMA query_only = ON")  # SQLite refuses every write, as on a read-only volume
        packets = _timed(h264_session, start=time.time())
        hub.begin(h264_session.info)
        for packet in packets[:11]:
            hub.publish(packet)
        deadline = time.monotonic() + 5
        while rec.status().index_error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        status = rec.status()
        assert status.state == "recording" and status.index_pending >= 1  # recording, its rows waiting
        assert status.index_error is not None and "readonly database" in status.index_error
        store.db._conn.execute("PRAGMA query_only = OFF")  # writable again
        assert rec.index_writer.flush(5)
        assert rec.status().index_error is None and len(store.recordings.segments("cam", 0, 4e9)) == 1

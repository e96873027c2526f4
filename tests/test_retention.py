"""Retention and start-up reconciliation on real files: age per role, the volume cap, the free-disk floor on a
real (tmpfs) volume, holds for evidence, and an index repaired after a crash."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest

from core.store import Store
from core.store.recordings import NewSegment
from media.mp4.init import init_segment
from media.packet import MediaPacket, StreamInfo
from media.segment_path import segment_path
from recordings.cleanup import RetentionCleaner
from recordings.reconcile import reconcile
from recordings.writer import SegmentWriter
from service.configuration import parse_config
from tests.conftest import ORGANISATION
from tests.rig.probe import check_video
from tests.rig.rtsp import RtspServer
from tests.test_recordings import listing, recording_config


@contextlib.contextmanager
def tmpfs(path: Path, size: str, read_only: bool = False) -> Iterator[Path]:
    """A real small volume; mounting needs root, as the test command runs."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def config(**retention: object):
    return parse_config(
        {
            "retention": retention,
            "organisation": ORGANISATION,
            "cameras": [
                {
                    "id": "gate",
                    "name": "大门",
                    "institution": "hl-jly",
                    "role": "gate",
                    "source": {"url": "rtsp://127.0.0.1:1/a"},
                },
                {
                    "id": "kitchen",
                    "name": "厨房",
                    "institution": "ny-jly",
                    "role": "kitchen",
                    "source": {"url": "rtsp://127.0.0.1:1/b"},
                },
            ],
        }
    )


def fake_segment(store: Store, directory: Path, camera_id: str, start: float, size: int = 1000) -> int:
    relative = segment_path(camera_id, start)
    (directory / relative).parent.mkdir(parents=True, exist_ok=True)
    (directory / relative).write_bytes(b"\0" * size)
    segment_id = store.recordings.open_segment(NewSegment(camera_id, relative, start, 100, "h264", 640, 360, "p"))
    store.recordings.update_segment(segment_id, start + 60, size, [0.0], 100, closed=True)
    return segment_id


def remaining(store: Store, camera_id: str) -> list[float]:
    return [s.start_ts for s in store.recordings.segments(camera_id, 0, 2e10)]


def test_age_cap_and_holds(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "vms.db")
    now = time.time()
    cfg = config(max_size=10_000).model_copy(
        update={"recording": config().recording.model_copy(update={"directory": tmp_path / "rec"})}
    )
    hours = [50, 30, 20, 10, 5, 1]  # how old each pair of segments is
    for camera_id in ("gate", "kitchen"):
        for age in hours:
            fake_segment(store, tmp_path / "rec", camera_id, now - age * 3600)
    held = store.recordings.segments("gate", now - 20 * 3600, now - 20 * 3600 + 1)[0]
    store.recordings.hold("gate", held.start_ts + 10, held.start_ts + 20, "violation:7")
    cleaner = RetentionCleaner(lambda: cfg, store.recordings, store.exports)

    report = cleaner.run_once(now)
    # Gate keeps 24 h, the kitchen 7 days; the held gate segment stays past its age.
    assert remaining(store, "gate") == [now - h * 3600 for h in (20, 10, 5, 1)]
    assert remaining(store, "kitchen") == [now - h * 3600 for h in hours]
    assert report.deleted == 2 and not (tmp_path / "rec" / segment_path("gate", now - 50 * 3600)).exists()

    # Over the 10 kB cap (10 segments of 1 kB, plus one more): the oldest go first, whichever the camera,
    # except what is held.
    fake_segment(store, tmp_path / "rec", "gate", now - 60)
    cleaner.run_once(now)
    assert store.recordings.total_bytes() <= 10_000
    assert remaining(store, "kitchen") == [now - h * 3600 for h in (30, 20, 10, 5, 1)]
    assert now - 20 * 3600 in remaining(store, "gate")

    # The case is closed: the evidence is kept a while longer, then goes like any other video.
    cleaner.run_once(now + 5 * 3600)  # past the gate's 24 h, but held
    assert now - 20 * 3600 in remaining(store, "gate")
    store.recordings.release("violation:7", keep_for_s=3600, now=now + 5 * 3600)
    cleaner.run_once(now + 5.5 * 3600)
    assert now - 20 * 3600 in remaining(store, "gate")
    cleaner.run_once(now + 6.5 * 3600)
    assert now - 20 * 3600 not in remaining(store, "gate")


def write_segments(directory: Path, clip: Path, camera_id: str, count: int) -> list[tuple[str, float, float]]:
    """Real segments from a clip's packets, as the recorder writes them: (path, start, duration)."""
    made = []
    with av.open(str(clip)) as source:
        video = source.streams.video[0]
        info = StreamInfo(
            1,
            "h264",
            "Main",
            video.codec_context.width,
            video.codec_context.height,
            Fraction(video.time_base.numerator, video.time_base.denominator),
            bytes(video.codec_context.extradata),
            25.0,
            time.time(),
            init_segment(video),
        )
        packets = [p for p in source.demux(video) if p.size]
    start = time.time() - 100
    per_segment = len(packets) // count
    for n in range(count):
        relative = segment_path(camera_id, start)
        writer = SegmentWriter(directory / relative, info, fragment_s=1.0)
        for p in packets[n * per_segment : (n + 1) * per_segment]:
            writer.write(
                MediaPacket(
                    1, memoryview(bytes(p)), p.pts, p.dts, p.duration, info.time_base, p.is_keyframe, time.time()
                )
            )
        writer.close()
        made.append((relative, start, writer.duration_s))
        start += writer.duration_s
    return made


def test_reconciliation_repairs_the_index_after_a_crash(tmp_path: Path, clip_h264: Path) -> None:
    directory = tmp_path / "rec"
    store = Store.open(tmp_path / "vms.db")
    (torn, torn_start, _), (orphan, _, orphan_s), (lost, lost_start, lost_s), (empty, _, _), (kept, _, _) = (
        write_segments(directory, clip_h264, "gate", 5)
    )
    rows = {}
    for relative in (torn, lost, empty, kept):
        rows[relative] = store.recordings.open_segment(NewSegment("gate", relative, 0, 0, "h264", 640, 360, "p"))
    store.recordings.update_segment(rows[kept], 1, 1, [0.0], 1, closed=True)
    store.recordings.update_segment(rows[lost], lost_start + lost_s, 1, [0.0], 1, closed=True)
    with sqlite3.connect(tmp_path / "vms.db") as db:  # the rows as the crashed recorder left them
        db.execute("UPDATE recording_segments SET start_ts = ? WHERE id = ?", (torn_start, rows[torn]))
        db.execute("UPDATE recording_segments SET start_ts = ? WHERE id = ?", (lost_start, rows[lost]))
    # The segment being written when the process died: its last fragment half on disk.
    size = (directory / torn).stat().st_size
    with (directory / torn).open("r+b") as handle:
        handle.truncate(size - 3000)
    (directory / lost).unlink()  # a file that vanished
    (directory / empty).write_bytes((directory / empty).read_bytes()[:600])  # nothing past the header

    report = reconcile(store.recordings, directory)
    assert report.closed == [torn] and report.indexed == [orphan] and report.missing == [lost]
    assert report.discarded == [empty] and not (directory / empty).exists()

    segments = {s.path: s for s in store.recordings.segments("gate", 0, 2e10)}
    assert set(segments) == {torn, orphan, kept}
    repaired = segments[torn]
    assert repaired.state == "closed" and repaired.size_bytes == (directory / torn).stat().st_size
    check = check_video(str(directory / torn))
    assert check.errors == "" and check.frames_decoded == check.packets > 0
    assert repaired.duration_s == pytest.approx(check.duration_s, abs=0.05)
    assert segments[orphan].duration_s == pytest.approx(orphan_s, abs=0.05)
    gaps = {g.cause: g for g in store.recordings.gaps("gate", 0, 2e10)}
    assert set(gaps) == {"segment file missing", "service was not running"}
    missing = gaps["segment file missing"]
    assert missing.start_ts == pytest.approx(lost_start) and missing.end_ts == pytest.approx(lost_start + lost_s)
    assert gaps["service was not running"].end_ts is None  # until recording resumes


def test_reconciliation_after_a_worker_died_leaves_what_the_cameras_record_again_alone(
    tmp_path: Path, clip_h264: Path
) -> None:
    """A dead worker's cameras dial again while its segments are repaired: the segments begun since the death (a
    row already written, or only the file so far) are not touched, and the gap ends where recording resumed."""
    directory = tmp_path / "rec"
    store = Store.open(tmp_path / "vms.db")
    cause = "worker process 0 killed by signal 9 (SIGKILL)"
    (torn, torn_start, _), (again, again_start, _), (unindexed, _, _) = write_segments(directory, clip_h264, "gate", 3)
    ((duty_torn, duty_start, _),) = write_segments(directory, clip_h264, "duty", 1)
    rows = {
        relative: store.recordings.open_segment(NewSegment(camera_id, relative, start, 0, "h264", 640, 360, "p"))
        for camera_id, relative, start in (("gate", torn, torn_start), ("gate", again, again_start))
    }
    store.recordings.open_segment(NewSegment("duty", duty_torn, duty_start, 0, "h264", 640, 360, "p"))
    for relative in (torn, duty_torn):  # the segments being written when the worker died
        size = (directory / relative).stat().st_size
        with (directory / relative).open("r+b") as handle:
            handle.truncate(size - 3000)
    died = again_start - 0.001
    again_size = (directory / again).stat().st_size

    report = reconcile(store.recordings, directory, ["gate", "duty"], cause, before=died)
    assert sorted(report.closed) == sorted([torn, duty_torn]) and report.indexed == report.discarded == []
    segments = {s.path: s for s in store.recordings.segments("gate", 0, 2e10)}
    assert set(segments) == {torn, again}  # the file whose row is still on its way is not indexed
    assert segments[again].state == "open" and segments[again].id == rows[again]
    assert (directory / again).stat().st_size == again_size and (directory / unindexed).exists()
    (gap,) = store.recordings.gaps("gate", 0, 2e10)
    assert (gap.cause, gap.start_ts, gap.end_ts) == (cause, pytest.approx(segments[torn].end_ts), again_start)
    (duty_gap,) = store.recordings.gaps("duty", 0, 2e10)
    assert duty_gap.cause == cause and duty_gap.end_ts is None  # until its recorder starts a segment


def test_full_volume_deletes_oldest_first_and_recording_never_stops(
    service_factory, rtsp: RtspServer, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "volume", "5m") as volume:
        service = service_factory(
            {
                **recording_config(
                    [
                        {
                            "id": "hl-gate",
                            "name": "大门",
                            "institution": "hl-jly",
                            "role": "gate",
                            "source": {"url": rtsp.url("/gate")},
                        },
                        {
                            "id": "hl-duty",
                            "name": "值班室",
                            "institution": "hl-jly",
                            "role": "duty_room",
                            "source": {"url": rtsp.url("/duty")},
                        },
                    ],
                    segment_s=2,
                    directory=str(volume),
                ),
                "retention": {"min_free": "2.5 MB", "cleanup_interval_s": 1},
            }
        )
        began = time.time()
        with service.client() as admin:
            first = {}
            states = set()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for camera_id in ("hl-gate", "hl-duty"):
                    states.add(admin.get(f"/api/cameras/{camera_id}").json()["recording"]["state"])
                    found = listing(admin, camera_id, began, time.time())["segments"]
                    if found and camera_id not in first:
                        first[camera_id] = found[0]["id"]
                storage = admin.get("/api/storage").json()
                if storage["last_cleanup_deleted"] > 0 and len(first) == 2:
                    break
                time.sleep(0.5)
            assert storage["last_cleanup_deleted"] > 0, storage
            # The volume stays full: pass after pass, the oldest of both cameras go.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                left = {cid: [s["id"] for s in listing(admin, cid, began, time.time())["segments"]] for cid in first}
                if all(first[cid] not in ids for cid, ids in left.items()):
                    break
                time.sleep(0.5)
            for camera_id in ("hl-gate", "hl-duty"):
                found = listing(admin, camera_id, began, time.time())
                ids = [s["id"] for s in found["segments"]]
                assert first[camera_id] not in ids, (camera_id, first, ids)  # the oldest went
                assert found["gaps"] == [] and len(found["spans"]) == 1  # and no video was lost to the full disk
                assert found["segments"][-1]["end"] > time.time() - 4
            assert "failing" not in states
            assert storage["free_bytes"] > 1_500_000 and storage["cameras_failing"] == {}


def test_read_only_volume_of_one_camera_is_reported_and_the_others_record(
    service_factory, rtsp: RtspServer, tmp_path: Path
) -> None:
    directory = tmp_path / "recordings"
    with tmpfs(directory / "hl-duty", "1m", read_only=True):
        service = service_factory(
            recording_config(
                [
                    {
                        "id": "hl-gate",
                        "name": "大门",
                        "institution": "hl-jly",
                        "role": "gate",
                        "source": {"url": rtsp.url("/gate")},
                    },
                    {
                        "id": "hl-duty",
                        "name": "值班室",
                        "institution": "hl-jly",
                        "role": "duty_room",
                        "source": {"url": rtsp.url("/duty")},
                    },
                ],
                segment_s=2,
                directory=str(directory),
            )
        )
        with service.client() as admin:
            duty = service.wait_for(admin, "hl-duty", lambda c: (c.get("recording") or {}).get("state") == "failing")
            assert "read-only" in duty["recording"]["last_error"]
            assert admin.get("/api/storage").json()["cameras_failing"] == {"hl-duty": duty["recording"]["last_error"]}
            gate = service.wait_for(admin, "hl-gate", lambda c: c["recording"]["segments_written"] >= 2)
            assert gate["recording"]["state"] == "recording"
            assert "recording paused" in service.log()
    # The volume is writable again: recording resumes by itself.
    with service.client() as admin:
        service.wait_for(admin, "hl-duty", lambda c: c["recording"]["segments_written"] >= 1, timeout=20)


def test_disk_full_pauses_recording_with_a_clear_warning(service_factory, rtsp: RtspServer, tmp_path: Path) -> None:
    """No floor configured and nothing to delete: the recorder says 'disk full', keeps what it wrote playable,
    and the rest of the service carries on."""
    with tmpfs(tmp_path / "volume", "1500k") as volume:
        service = service_factory(
            {
                **recording_config(
                    [
                        {
                            "id": "hl-gate",
                            "name": "大门",
                            "institution": "hl-jly",
                            "role": "gate",
                            "source": {"url": rtsp.url("/gate")},
                        },
                    ],
                    segment_s=2,
                    directory=str(volume),
                ),
                "retention": {"min_free": 0, "cleanup_interval_s": 1},
            }
        )
        with service.client() as admin:
            gate = service.wait_for(admin, "hl-gate", lambda c: c["recording"]["state"] == "failing", timeout=60)
            assert gate["recording"]["last_error"] == "disk full"
            assert gate["health"]["state"] == "online"  # the camera itself is fine
            storage = admin.get("/api/storage").json()
            assert storage["cameras_failing"] == {"hl-gate": "disk full"} and storage["free_bytes"] < 200_000
            found = listing(admin, "hl-gate", time.time() - 120, time.time())
            assert found["gaps"] and found["gaps"][-1]["cause"] == "cannot write: disk full", (
                found,
                service.log()[-3000:],
            )
            assert found["gaps"][-1]["end"] is None
            for segment in found["segments"]:
                url = f"{service.base_url}/api/cameras/hl-gate/recordings/segments/{segment['id']}/file.mp4"
                check = check_video(url, headers=f"Authorization: {admin.headers['Authorization']}\r\n")
                assert check.errors == "" and check.frames_decoded == check.packets > 0, (segment, check)
        assert "recording paused: disk full" in service.log()

"""Violation evidence on real recordings: the video is held from the violation's start, its clip is cut
without re-encoding once the post-roll is on disk, and it outlives retention until the case is closed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.store import Store
from core.store.recordings import NewSegment
from detectors.violations.events import ViolationEvent
from detectors.violations.recorder import ViolationRecorder
from recordings.cleanup import RetentionCleaner
from recordings.evidence import EvidenceClips
from tests.rig.probe import check_video
from tests.test_retention import config, write_segments


def test_violation_video_is_held_and_cut_into_a_clip(tmp_path: Path, clip_h264: Path) -> None:
    directory = tmp_path / "rec"
    store = Store.open(tmp_path / "vms.db")
    made = write_segments(directory, clip_h264, "exit-1", 5)  # 5 segments of 2 s (one GOP), ending ~90 s ago
    for relative, start, duration in made:
        row = store.recordings.open_segment(NewSegment("exit-1", relative, start, 0, "h264", 640, 360, "p"))
        store.recordings.update_segment(
            row, start + duration, (directory / relative).stat().st_size, [0.0, 2.0], 800, closed=True
        )
    first_start = made[0][1]
    evidence = EvidenceClips(
        store.recordings, store.violations, lambda: directory, tmp_path / "evidence", lambda: 3600.0
    )
    evidence.start()
    camera = config().cameras[0].model_copy(update={"id": "exit-1"})
    recorder = ViolationRecorder(store.violations, clips=evidence, pre_roll_s=1.0, post_roll_s=1.0)
    onset = first_start + 4.0
    violation_id = recorder.record(
        camera, ViolationEvent("started", "blocked_route", None, onset + 1, onset, onset + 1, 0.9, None), None
    )

    # While it runs, its video outlives retention (here: everything is "too old").
    cleaner = RetentionCleaner(lambda: cfg, store.recordings, store.exports)
    cfg = config(default_hours=0.01).model_copy(
        update={"recording": config().recording.model_copy(update={"directory": directory})}
    )
    cleaner.run_once()
    assert [s.path for s in store.recordings.segments("exit-1", 0, 2e10)] == [m[0] for m in made[1:]]

    recorder.record(
        camera, ViolationEvent("ended", "blocked_route", None, onset + 5, onset, onset + 1, 0.9, None, "clear"), None
    )
    deadline = time.monotonic() + 10
    while store.violations.get(violation_id).clip_status != "ready" and time.monotonic() < deadline:
        time.sleep(0.1)
    row = store.violations.get(violation_id)
    assert (row.clip_status, row.clip_ref) == ("ready", f"violation-{violation_id}.mp4")
    check = check_video(str(evidence.path(violation_id)))
    # From the key frame at or before onset - 1 s (the second segment's first frame) to end + 1 s.
    assert check.errors == "" and check.frames_decoded == check.packets
    assert check.duration_s == pytest.approx(8.0, abs=0.05), check
    assert check.largest_step_s <= 0.081

    # Only the clip's range stays held; the case closed, it goes after the keep period.
    cleaner.run_once()
    kept = [s.path for s in store.recordings.segments("exit-1", 0, 2e10)]
    assert kept == [m[0] for m in made[1:]], kept
    evidence.release(violation_id)
    cleaner.run_once(time.time() + 1800)
    assert store.recordings.segments("exit-1", 0, 2e10)
    cleaner.run_once(time.time() + 3700)
    assert store.recordings.segments("exit-1", 0, 2e10) == []
    evidence.stop()
    store.close()


def test_a_clip_across_changed_camera_settings_is_refused_clearly(tmp_path: Path, clip_h264: Path) -> None:
    from recordings.export import ExportError, cut_clip

    store = Store.open(tmp_path / "vms.db")
    made = write_segments(tmp_path / "rec", clip_h264, "gate", 2)
    for (relative, start, duration), params in zip(made, ("sps-before", "sps-after"), strict=True):
        row = store.recordings.open_segment(NewSegment("gate", relative, start, 0, "h264", 640, 360, params))
        store.recordings.update_segment(row, start + duration, 1, [0.0], 800, closed=True)
    segments = store.recordings.segments("gate", 0, 2e10)
    with pytest.raises(ExportError, match="codec settings changed"):
        cut_clip(tmp_path / "rec", segments, made[0][1], made[1][1] + 1, tmp_path / "clip.mp4")
    assert not (tmp_path / "clip.mp4").exists() and not list(tmp_path.glob("clip.mp4*"))
    clip = cut_clip(tmp_path / "rec", segments[:1], made[0][1], made[0][1] + 3, tmp_path / "clip.mp4")
    assert clip.packets > 0  # each part alone exports
    store.close()

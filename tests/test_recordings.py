"""Recording as an inspector relies on it: gapless segments from real RTSP cameras, every gap with its cause,
kill -9 losing at most the last seconds, playback through HLS and clip export checked by ffprobe/ffmpeg."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from itertools import pairwise
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from tests.conftest import ORGANISATION
from tests.rig.multipart import read_parts
from tests.rig.probe import check_video
from tests.rig.rtsp import RtspServer
from tests.running_service import RunningService

FRAME_S = 0.04  # the test clips run at 25 fps
GOP_S = 2.0  # and have a key frame every 2 s


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone(dt.timedelta(hours=8))).isoformat()


def recording_config(cameras: list[dict], **recording: object) -> dict:
    return {
        "ingest": {"watchdog_s": 3, "stall_after_s": 1, "open_timeout_s": 3, "backoff_s": [0.5, 1, 2]},
        "recording": {"segment_s": 4, **recording},
        "organisation": ORGANISATION,
        "cameras": cameras,
    }


def listing(client: httpx.Client, camera_id: str, start: float, end: float) -> dict:
    answer = client.get(f"/api/cameras/{camera_id}/recordings", params={"start": iso(start), "end": iso(end)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_segments(client: httpx.Client, camera_id: str, since: float, closed: int, timeout: float = 40) -> dict:
    deadline = time.monotonic() + timeout
    time.sleep(max(0.0, since - time.time() + 0.1))
    while time.monotonic() < deadline:
        found = listing(client, camera_id, since, time.time())
        if sum(s["state"] == "closed" for s in found["segments"]) >= closed:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{camera_id}: fewer than {closed} closed segments: {found}")


def segment_check(service: RunningService, client: httpx.Client, camera_id: str, segment: dict):
    auth = f"Authorization: {client.headers['Authorization']}\r\n"
    url = f"{service.base_url}/api/cameras/{camera_id}/recordings/segments/{segment['id']}/file.mp4"
    return check_video(url, headers=auth)


def assert_plays_through(check, expected_s: float) -> None:
    assert check.errors == "", check.errors
    assert check.frames_decoded == check.packets, check  # every packet decodes into a frame
    assert abs(check.duration_s - expected_s) <= GOP_S, (check, expected_s)
    assert check.largest_step_s <= 2 * FRAME_S + 1e-3, check  # no timestamp jumps


def test_cameras_record_gaplessly_and_a_kill_loses_at_most_two_seconds(service_factory, rtsp: RtspServer) -> None:
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
                    "id": "ny-kitchen",
                    "name": "厨房",
                    "institution": "ny-jly",
                    "role": "kitchen",
                    "source": {"url": rtsp.url("/kitchen-hevc")},
                },
            ]
        )
    )
    began = time.time()
    with service.client() as admin:
        gate = wait_segments(admin, "hl-gate", began, closed=2)
        kitchen = wait_segments(admin, "ny-kitchen", began, closed=1)
        assert len(gate["spans"]) == 1 and gate["gaps"] == []  # one connection: one unbroken span
        for camera_id, found, codec in (("hl-gate", gate, "h264"), ("ny-kitchen", kitchen, "hevc")):
            for segment in [s for s in found["segments"] if s["state"] == "closed"]:
                check = segment_check(service, admin, camera_id, segment)
                assert check.codec == codec
                assert_plays_through(check, segment["duration_s"])
                assert 3.9 <= segment["duration_s"] <= 4.0 + GOP_S  # cut on the first key frame after 4 s
        for before, after in pairwise(gate["segments"]):
            assert abs(after["start"] - before["end"]) < 0.05, (before, after)

        # Browsers seldom play H.265: the kitchen plays back as pictures, from the moment asked for, each
        # with the time it shows, 5 per second of video, paced (here at 4 times real time).
        first = next(s for s in kitchen["segments"] if s["state"] == "closed")
        asked = first["start"] + 1.0
        with admin.stream(
            "GET", "/api/cameras/ny-kitchen/recordings/pictures.mjpg", params={"start": iso(asked), "speed": 4}
        ) as response:
            assert response.status_code == 200, response.read()
            parts = read_parts(response, 8)
        shown = [float(p.headers["X-Wall-Time"]) for p in parts]
        assert asked - 0.001 <= shown[0] <= asked + 0.2  # X-Wall-Time has milliseconds
        assert [b - a for a, b in pairwise(shown)] == pytest.approx([0.2] * 7, abs=0.041)
        pictures = [cv2.imdecode(np.frombuffer(p.body, np.uint8), cv2.IMREAD_COLOR) for p in parts]
        assert all(p is not None and p.shape == (360, 640, 3) for p in pictures)
        assert parts[-1].arrived_at - parts[1].arrived_at >= (shown[-1] - shown[1]) / 4 * 0.8
        future = admin.get("/api/cameras/ny-kitchen/recordings/pictures.mjpg", params={"start": iso(time.time() + 600)})
        assert future.status_code in (400, 404), future.text
        with sqlite3.connect(service.data_dir / "vms.db") as db:
            watched = db.execute("SELECT username, target, detail FROM audit_log WHERE action = 'recordings.playback'")
            assert ("admin", "ny-kitchen", f"pictures from {asked:.3f}") in watched.fetchall()
        camera = admin.get("/api/cameras/hl-gate").json()
        assert camera["recording"]["state"] == "recording" and camera["recording"]["segment"]

        # Mid-segment, the process dies without a chance to close anything.
        wait_segments(admin, "hl-gate", began, closed=3)
        time.sleep(1.5)
        open_segment = listing(admin, "hl-gate", began, time.time())["segments"][-1]
        assert open_segment["state"] == "open"
    killed_at = time.time()
    service.kill()
    # Lost is what was received in the last seconds before the kill and never reached the disk.
    service.start()
    with service.client() as admin:
        wait_segments(admin, "hl-gate", killed_at + 2.5, closed=1)  # the survivor ends before that
        after = listing(admin, "hl-gate", began, time.time())
        survivor = next(s for s in after["segments"] if s["id"] == open_segment["id"])
        assert survivor["state"] == "closed"
        assert survivor["end"] >= killed_at - 2.0, (survivor, killed_at)
        assert_plays_through(segment_check(service, admin, "hl-gate", survivor), survivor["duration_s"])
        for segment in after["segments"]:
            if segment["state"] == "closed":
                check = segment_check(service, admin, "hl-gate", segment)
                assert check.errors == "" and check.frames_decoded == check.packets, (segment, check)
        (gap,) = after["gaps"]
        assert gap["cause"] == "service was not running"
        assert gap["start"] == pytest.approx(survivor["end"], abs=0.01)
        resumed = next(s for s in after["segments"] if s["id"] > survivor["id"])
        assert gap["end"] == pytest.approx(resumed["start"], abs=0.01)
    assert "closed after an interruption" in service.log()


def test_a_camera_down_for_ten_seconds_is_one_gap_and_exports_span_it(service_factory, clip_h264: Path) -> None:
    with RtspServer([{"path": "/exit", "clip": str(clip_h264)}]) as camera_server:
        service = service_factory(
            recording_config(
                [
                    {
                        "id": "hl-exit",
                        "name": "疏散通道",
                        "institution": "hl-jly",
                        "role": "evacuation_route",
                        "source": {"url": camera_server.url("/exit")},
                    },
                ]
            )
        )
        began = time.time()
        with service.client() as admin:
            wait_segments(admin, "hl-exit", began, closed=2)
            camera_server.kill()
            down_at = time.time()
            time.sleep(10)
            camera_server.restart()
            up_at = time.time()
            wait_segments(admin, "hl-exit", up_at, closed=2)
            found = listing(admin, "hl-exit", began, time.time())
            (gap,) = found["gaps"]
            assert gap["cause"].startswith("camera: ") and gap["end"] is not None
            # The gap runs from the last recorded frame to the first after reconnection: the 10 s the
            # camera was down, plus detecting it and the back-off before the reconnection.
            assert 9.0 <= gap["duration_s"] <= 10.0 + 4.0, gap
            assert gap["start"] == pytest.approx(down_at, abs=1.5) and gap["end"] == pytest.approx(up_at, abs=4.0)
            assert len(found["spans"]) == 2

            # Seeking lands on the key frame at or before the moment; in the gap, on the first frame after it.
            inside = found["segments"][0]["start"] + 3.1
            landed = admin.get("/api/cameras/hl-exit/recordings/seek", params={"at": iso(inside)}).json()
            assert not landed["in_gap"] and 0 <= inside - landed["keyframe_at"] <= GOP_S, landed
            landed = admin.get("/api/cameras/hl-exit/recordings/seek", params={"at": iso(gap["start"] + 5)}).json()
            assert landed["in_gap"] and landed["keyframe_at"] == pytest.approx(gap["end"], abs=0.01), landed

            # Export across a segment boundary, then across the gap.
            first = [s for s in found["segments"] if s["end"] <= gap["start"] + 0.01]
            boundary = first[0]["end"]
            across_gap = (gap["start"] - 3.0, gap["end"] + 3.0)
            for start, end in ((boundary - 2.6, boundary + 3.0), across_gap):
                created = admin.post("/api/cameras/hl-exit/exports", json={"start": iso(start), "end": iso(end)})
                assert created.status_code == 202, created.text
                export_id = created.json()["id"]
                seen = []
                for _ in range(100):
                    state = admin.get(f"/api/exports/{export_id}").json()
                    seen.append(state["progress_percent"])
                    if state["state"] in ("done", "failed"):
                        break
                    time.sleep(0.1)
                assert state["state"] == "done", state
                assert state["clip_start"] <= start + 1e-3 and start - state["clip_start"] <= GOP_S + 0.01
                recorded = (end - state["clip_start"]) - (gap["duration_s"] if (start, end) == across_gap else 0)
                clip = admin.get(state["download_url"])
                assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
                path = service.workdir / f"{export_id}.mp4"
                path.write_bytes(clip.content)
                check = check_video(str(path))
                assert_plays_through(check, recorded)
                assert check.duration_s == pytest.approx(state["duration_s"], abs=FRAME_S * 2)

            # The HLS playlist of the whole range plays through ffmpeg, gap and all. The range ends inside the
            # last closed segment: the open one keeps growing, so it is not part of what is compared.
            closed = [s for s in found["segments"] if s["state"] == "closed"]
            auth = f"Authorization: {admin.headers['Authorization']}\r\n"
            playlist_url = (
                f"{service.base_url}/api/cameras/hl-exit/recordings/playlist.m3u8"
                f"?start={iso(began)}&end={iso(closed[-1]['end'] - 0.5)}".replace("+", "%2B")
            )
            text = admin.get(playlist_url).text
            assert text.startswith("#EXTM3U") and text.count("#EXT-X-MAP") == len(closed)
            check = check_video(playlist_url, headers=auth)
            # Every frame of every segment comes through the playlist (frame-exact decoding of each segment
            # file is checked above; ffmpeg's HLS reader re-times frames at discontinuities).
            recorded = sum(s["duration_s"] for s in closed)
            assert check.errors == "" and check.packets == pytest.approx(recorded / FRAME_S, abs=1)

            audit = service_audit(service)
            entries = [e for e in audit if e[0] in ("export.create", "export.download")]
            assert len(entries) == 4 and all(e[1] == "admin" for e in entries)
            assert ("recordings.playback", "admin") in audit  # seeking and the playlist: who watched what


def service_audit(service: RunningService) -> list[tuple[str, str]]:
    with sqlite3.connect(service.data_dir / "vms.db") as db:
        return [(r[0], r[1]) for r in db.execute("SELECT action, username FROM audit_log ORDER BY id")]


def test_bad_ranges_and_cameras_get_clear_errors(service_factory, rtsp: RtspServer) -> None:
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
            ]
        )
    )
    now = time.time()
    with service.client() as admin:
        wait_segments(admin, "hl-gate", now - 1, closed=1)
        cases = [
            (
                "/api/cameras/hl-gate/recordings",
                {"start": iso(now), "end": iso(now - 60)},
                400,
                "start must be before end",
            ),
            ("/api/cameras/hl-gate/recordings", {"start": iso(now + 3600), "end": iso(now + 7200)}, 400, "future"),
            (
                "/api/cameras/hl-gate/recordings",
                {"start": iso(now - 5 * 86400), "end": iso(now - 4 * 86400)},
                410,
                "retention of 24 h",
            ),
            ("/api/cameras/hl-gate/recordings", {"start": "2026-11-28T08:00:00", "end": iso(now)}, 400, "time zone"),
            ("/api/cameras/nope/recordings", {"start": iso(now - 60), "end": iso(now)}, 404, "no camera"),
            (
                "/api/cameras/hl-gate/recordings/playlist.m3u8",
                {"start": iso(now - 3 * 86400), "end": iso(now - 2 * 86400)},
                410,
                "retention",
            ),
        ]
        for path, params, code, message in cases:
            answer = admin.get(path, params=params)
            assert answer.status_code == code and message in answer.text, (path, params, answer.text)
        for body, code, message in [
            ({"start": iso(now - 10), "end": iso(now + 600)}, 400, "end is in the future"),
            ({"start": iso(now - 8 * 3600), "end": iso(now - 60)}, 400, "at most 6 h"),
            ({"start": iso(now - 86400 * 3), "end": iso(now - 86400 * 3 + 600)}, 410, "retention"),
            ({"start": "yesterday", "end": iso(now)}, 422, "start"),
        ]:
            answer = admin.post("/api/cameras/hl-gate/exports", json=body)
            assert answer.status_code == code and message in answer.text, (body, answer.text)
        assert admin.get("/api/exports/0123456789abcdef").status_code == 404
        assert admin.get("/api/cameras/hl-gate/recordings/segments/999999/file.mp4").status_code == 404
    unauthenticated = httpx.get(
        f"{service.base_url}/api/cameras/hl-gate/recordings", params={"start": iso(now - 60), "end": iso(now)}
    )
    assert unauthenticated.status_code == 401


def test_a_stall_shorter_than_the_watchdog_is_a_gap_too(service_factory, clip_h264: Path) -> None:
    """The RTSP session stays up but no video comes for 4 s (the watchdog waits 10 s): a gap, not a hole
    hidden inside a segment."""
    with RtspServer([{"path": "/duty", "clip": str(clip_h264)}]) as camera_server:
        config = recording_config(
            [
                {
                    "id": "hl-duty",
                    "name": "值班室",
                    "institution": "hl-jly",
                    "role": "duty_room",
                    "source": {"url": camera_server.url("/duty")},
                },
            ]
        )
        config["ingest"] = {**config["ingest"], "watchdog_s": 10}
        service = service_factory(config)
        began = time.time()
        with service.client() as admin:
            wait_segments(admin, "hl-duty", began, closed=1)
            camera_server.stall("/duty")
            stalled_at = time.time()
            time.sleep(4)
            camera_server.resume("/duty")
            wait_segments(admin, "hl-duty", time.time(), closed=1)
            found = listing(admin, "hl-duty", began, time.time())
            assert admin.get("/api/cameras/hl-duty").json()["health"]["reconnects"] == 0  # the same connection
            (gap,) = found["gaps"]
            assert gap["cause"].startswith("camera stalled: no video for"), gap
            # From the last frame before the stall to the first key frame after it.
            assert 3.5 <= gap["duration_s"] <= 4.0 + GOP_S + 1.0, gap
            assert gap["start"] == pytest.approx(stalled_at, abs=1.0)
            for segment in found["segments"]:
                if segment["state"] == "closed":
                    assert_plays_through(segment_check(service, admin, "hl-duty", segment), segment["duration_s"])

"""Live view through WHEP (aiortc as the viewer), the fMP4 fallback, snapshots and spot checks, against a
real `vms run` fed by the GStreamer RTSP test cameras."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest
import websockets

from core.config import ConfigError
from service.configuration import parse_config
from tests.conftest import ORGANISATION
from tests.rig.multipart import read_parts
from tests.rig.rtsp import RtspServer, free_port
from tests.rig.whep_client import make_offer, offer_pc, open_viewer
from tests.running_service import RunningService

pytestmark = pytest.mark.rtsp


@pytest.fixture(scope="module")
def live_service(
    tmp_path_factory: pytest.TempPathFactory, clip_h264: Path, clip_hevc: Path
) -> Iterator[RunningService]:
    mounts = [
        {"path": "/gate", "clip": str(clip_h264)},
        {"path": "/duty", "clip": str(clip_h264)},
        {"path": "/exit", "clip": str(clip_h264), "inband_params": True},
        {"path": "/kitchen", "clip": str(clip_hevc)},
        {"path": "/ny-gate", "clip": str(clip_h264)},
    ]
    with RtspServer(mounts) as rtsp:

        def cam(cid: str, inst: str, role: str, url: str) -> dict:
            return {"id": cid, "name": f"{cid} 摄像机", "institution": inst, "role": role, "source": {"url": url}}

        config = {
            "organisation": ORGANISATION,
            "live": {
                "ice_hosts": ["127.0.0.1"],
                "max_viewers_per_camera": 2,
                "max_viewers_per_user": 3,
                "idle_timeout_s": 2,
                "connect_timeout_s": 5,
                "snapshot_cache_s": 5,
            },
            "cameras": [
                cam("gate", "hl-jly", "gate", rtsp.url("/gate")),
                cam("duty", "hl-jly", "duty_room", rtsp.url("/duty")),
                cam("exit", "hl-jly", "evacuation_route", rtsp.url("/exit")),
                cam("kitchen", "hl-jly", "kitchen", rtsp.url("/kitchen")),
                cam("ny-gate", "ny-jly", "gate", rtsp.url("/ny-gate")),
                cam("lobby", "hl-jly", "other", str(clip_h264)),  # a file source: AVCC packets, avcC extradata
                cam("offline", "hl-jly", "other", f"rtsp://127.0.0.1:{free_port()}/none"),
            ],
        }
        service = RunningService(tmp_path_factory.mktemp("live"), config)
        service.start()
        try:
            added = service.vms(
                "user",
                "add",
                "zhang",
                "--org",
                "ny",
                "--role",
                "town_officer",
                "--password-stdin",
                "--config",
                str(service.config_path),
                stdin="zhang-password\n",
            )
            assert added.returncode == 0, added.stderr
            admin = service.client()
            for camera_id in ("gate", "duty", "exit", "kitchen", "ny-gate", "lobby"):
                service.wait_for(admin, camera_id, lambda c: (c["health"] or {}).get("state") == "online")
            yield service
        finally:
            service.stop()


@pytest.fixture(scope="module")
def clip_frame_hashes(clip_h264: Path) -> dict[bytes, int]:
    """Every decoded picture of the camera's clip (what the camera's own stream decodes to), by hash."""
    with av.open(str(clip_h264)) as container:
        return {_digest(frame): n for n, frame in enumerate(container.decode(video=0))}


def _digest(frame: av.VideoFrame) -> bytes:
    return hashlib.sha256(frame.to_ndarray(format="yuv420p").tobytes()).digest()


def _async_client(service: RunningService, username: str = "admin", password: str | None = None) -> httpx.AsyncClient:
    sync = service.client() if password is None else service.client(username, password)
    return httpx.AsyncClient(base_url=service.base_url, headers=dict(sync.headers), timeout=10)


def _viewers(service: RunningService) -> dict:
    return service.client().get("/api/live/sessions").json()


def _wait_no_viewers(service: RunningService, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _viewers(service)
        if state["peer_connections"] == 0 and not state["viewers"]:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"viewers left open: {state}")
    hub_consumers = [
        c["name"]
        for c in service.client().get("/api/cameras/gate").json()["consumers"]
        if not c["closed_reason"] and c["name"].startswith("live:")
    ]
    assert hub_consumers == []


# SPS/PPS only in the SDP; in-band; a file source (length-prefixed NAL units, avcC)
@pytest.mark.parametrize("camera_id", ["gate", "exit", "lobby"])
def test_whep_frames_are_bit_exact_with_the_cameras_stream(
    live_service: RunningService, clip_frame_hashes: dict[bytes, int], camera_id: str
) -> None:
    async def watch() -> tuple[float, list[av.VideoFrame]]:
        async with _async_client(live_service) as client:
            started = time.monotonic()
            viewer = await open_viewer(client, camera_id)
            first = await viewer.frames(1)
            first_after = time.monotonic() - started
            frames = first + await viewer.frames(39)
            await viewer.close(client)
            return first_after, frames

    first_after, frames = asyncio.run(watch())
    positions = [clip_frame_hashes.get(_digest(f)) for f in frames]
    assert None not in positions, "a received picture differs from every picture of the camera's stream"
    # In order, one after another (the clip loops, so positions wrap around once at most).
    steps = [(b - a) % len(clip_frame_hashes) for a, b in zip(positions, positions[1:], strict=False)]
    assert set(steps) == {1}, steps
    assert first_after < 5
    _wait_no_viewers(live_service)


def test_an_offer_with_audio_and_every_codec_gets_the_video(live_service: RunningService) -> None:
    """A generic WHEP player offers audio and video with all its codecs; the answer carries H.264 video."""

    async def watch() -> str:
        async with _async_client(live_service) as client:
            pc = offer_pc("any", audio=True)
            offer = await make_offer(pc)
            response = await client.post(
                "/api/cameras/gate/whep", content=offer, headers={"Content-Type": "application/sdp"}
            )
            assert response.status_code == 201, response.text
            await client.delete(response.headers["location"])
            await pc.close()
            return response.text

    answer = asyncio.run(watch())
    video = answer[answer.index("m=video") :]
    assert "H264/90000" in video and "VP8" not in video
    _wait_no_viewers(live_service)


def _with_candidates(offer: str, count: int) -> str:
    extra = "".join(
        f"a=candidate:{n} 1 udp 2130706431 198.51.100.{n % 250 + 1} {10000 + n} typ host\r\n" for n in range(count)
    )
    return offer.replace("a=end-of-candidates", extra + "a=end-of-candidates", 1)


def test_bad_offers_get_clear_4xx_and_leave_nothing_open(live_service: RunningService) -> None:
    async def run() -> None:
        async with _async_client(live_service) as client:
            sdp = {"Content-Type": "application/sdp"}

            async def post(camera: str, body: str, headers: dict[str, str] = sdp) -> httpx.Response:
                return await client.post(f"/api/cameras/{camera}/whep", content=body, headers=headers)

            good = await make_offer(offer_pc())
            cases = [
                (await post("gate", "hello"), 400, "v=0"),
                (await post("gate", "v=0\r\nm=video\r\na=rtpmap:x\r\n"), 400, ""),
                (await post("gate", good.replace("a=ice-pwd", "a=x-ice-pwd")), 400, "ICE"),
                (await post("gate", good.replace("m=video", "m=audio")), 400, "video"),
                (await post("gate", _with_candidates(good, 40)), 400, "ICE candidates; at most 16"),
                (await post("gate", good + good[good.index("m=video") :] * 5), 400, "6 media sections"),
                (await post("gate", "v=0\r\n" + "a=x\r\n" * 20000), 413, "larger"),
                (await post("gate", good, {"Content-Type": "text/plain"}), 415, "application/sdp"),
                (await post("gate", await make_offer(offer_pc("vp8"))), 422, "no H.264"),
                (await post("offline", good), 409, "offline"),
                (await post("kitchen", good), 415, "live.mjpg"),
                (await post("no-such-camera", good), 404, "no camera"),
            ]
            for response, code, words in cases:
                assert response.status_code == code, (code, response.text)
                assert words in response.json()["detail"], response.text
            anonymous = await httpx.AsyncClient(base_url=live_service.base_url).post(
                "/api/cameras/gate/whep", content=good, headers=sdp
            )
            assert anonymous.status_code == 401
            # Trickle ICE is refused the WHEP way.
            assert (await client.patch("/api/live/sessions/x")).status_code == 405

    asyncio.run(run())
    _wait_no_viewers(live_service)
    assert "Traceback" not in live_service.log()


def test_viewer_caps_and_viewers_that_leave_or_vanish(live_service: RunningService) -> None:
    async def run() -> subprocess.Popen[str]:
        async with _async_client(live_service) as client:
            first = await open_viewer(client, "gate")
            second = await open_viewer(client, "gate")
            await first.frames(1)
            await second.frames(1)
            with pytest.raises(httpx.HTTPStatusError) as refused:
                await open_viewer(client, "gate")
            assert refused.value.response.status_code == 429
            assert "camera 'gate' already has 2 live viewers" in refused.value.response.json()["detail"]
            third = await open_viewer(client, "duty")
            with pytest.raises(httpx.HTTPStatusError) as refused:
                await open_viewer(client, "exit")
            assert refused.value.response.status_code == 429
            assert "you already have 3 live views open" in refused.value.response.json()["detail"]
            assert _viewers(live_service)["peer_connections"] == 3
            metrics = live_service.client().get("/metrics").text
            assert 'vms_live_viewers{camera="gate",transport="webrtc"} 2.0' in metrics
            assert "vms_live_peer_connections 3.0" in metrics

            # One leaves through WHEP's DELETE, one closes its peer connection without a word to the API.
            await first.close(client)
            await third.close()
            await asyncio.sleep(1.0)
            assert _viewers(live_service)["peer_connections"] == 1

            # One vanishes: its process is killed, nothing is closed.
            token = client.headers["Authorization"].split()[1]
            vanishing = subprocess.Popen(
                [sys.executable, "-m", "tests.rig.whep_client", live_service.base_url, token, "gate"],
                stdout=subprocess.PIPE,
                text=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
            assert vanishing.stdout is not None
            assert (await asyncio.wait_for(asyncio.to_thread(vanishing.stdout.readline), 30)).strip() == "receiving"
            assert _viewers(live_service)["peer_connections"] == 2
            await second.close(client)
            return vanishing

    vanishing = asyncio.run(run())
    vanishing.send_signal(signal.SIGKILL)
    vanishing.wait()
    _wait_no_viewers(live_service, timeout=10)  # idle_timeout_s is 2 in this configuration


def test_fmp4_fallback_carries_the_cameras_own_pictures(
    live_service: RunningService, clip_frame_hashes: dict[bytes, int]
) -> None:
    token = live_service.client().headers["Authorization"]
    url = live_service.base_url.replace("http", "ws") + "/api/cameras/gate/live.fmp4"

    async def receive() -> tuple[dict, bytes]:
        async with websockets.connect(url, additional_headers={"Authorization": token}) as ws:
            header = json.loads(await ws.recv())
            body = b"".join([await ws.recv() for _ in range(40)])
            return header, body

    header, body = asyncio.run(receive())
    assert header["codec"].startswith("avc1.4d") and (header["width"], header["height"]) == (640, 360)
    with av.open(io.BytesIO(body), format="mp4") as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 30
    assert all(_digest(f) in clip_frame_hashes for f in frames)
    _wait_no_viewers(live_service)

    async def refused(camera: str, headers: dict[str, str]) -> tuple[int, str]:
        target = live_service.base_url.replace("http", "ws") + f"/api/cameras/{camera}/live.fmp4"
        async with websockets.connect(target, additional_headers=headers) as ws:
            message = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd.code, message["error"]

    assert asyncio.run(refused("gate", {})) == (4401, "not logged in")
    code, reason = asyncio.run(refused("offline", {"Authorization": token}))
    assert code == 4409 and "offline" in reason
    code, reason = asyncio.run(refused("kitchen", {"Authorization": token}))
    assert code == 4415 and "hevc" in reason


def test_mjpeg_shows_what_browsers_cannot_play(live_service: RunningService) -> None:
    """The H.265 kitchen, which WebRTC and the fMP4 fallback refuse (415), plays as Motion JPEG: moving
    pictures at no more than live.mjpeg_fps (5), counted and capped like every viewer, audited."""
    client = live_service.client()
    with client.stream("GET", "/api/cameras/kitchen/live.mjpg") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        open_views = [(v["camera_id"], v["transport"]) for v in _viewers(live_service)["viewers"]]
        assert ("kitchen", "mjpeg") in open_views
        pictures = read_parts(response, 8)
    assert all(p.headers["Content-Type"] == "image/jpeg" for p in pictures)
    decoded = [cv2.imdecode(np.frombuffer(p.body, np.uint8), cv2.IMREAD_COLOR) for p in pictures]
    assert all(p is not None and p.shape == (360, 640, 3) for p in decoded)
    assert len({hashlib.sha256(p.tobytes()).digest() for p in decoded}) == 8  # the picture moves
    # Past the two a viewer may find waiting, pictures come at live.mjpeg_fps (5) at most.
    assert pictures[-1].arrived_at - pictures[2].arrived_at >= 5 * 0.2 * 0.8
    _wait_no_viewers(live_service)

    # Two viewers share one decoding feed of the camera.
    with (
        client.stream("GET", "/api/cameras/kitchen/live.mjpg") as first,
        client.stream("GET", "/api/cameras/kitchen/live.mjpg") as second,
    ):
        consumers = client.get("/api/cameras/kitchen").json()["consumers"]
        feeds = [c["name"] for c in consumers if c["name"].startswith("live:mjpeg") and not c["closed_reason"]]
        assert feeds == ["live:mjpeg:kitchen"], consumers
        assert [v["transport"] for v in _viewers(live_service)["viewers"]] == ["mjpeg", "mjpeg"]
        assert len(read_parts(first, 2)) == len(read_parts(second, 2)) == 2
    _wait_no_viewers(live_service)

    assert httpx.get(f"{live_service.base_url}/api/cameras/kitchen/live.mjpg").status_code == 401
    assert live_service.client("zhang", "zhang-password").get("/api/cameras/kitchen/live.mjpg").status_code == 404
    offline = client.get("/api/cameras/offline/live.mjpg")
    assert offline.status_code == 409 and "offline" in offline.json()["detail"]
    with sqlite3.connect(live_service.workdir / "data" / "vms.db") as db:
        rows = db.execute("SELECT username, action, target, detail FROM audit_log").fetchall()
    assert ("admin", "live_view", "kitchen", "mjpeg") in rows


def test_snapshot_is_the_latest_key_frame_as_jpeg(live_service: RunningService) -> None:
    client = live_service.client()
    first = client.get("/api/cameras/gate/snapshot.jpg")
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    with av.open(io.BytesIO(first.content), format="image2pipe") as container:
        picture = next(container.decode(video=0))
    assert (picture.width, picture.height) == (640, 360)
    assert abs(float(first.headers["x-frame-time"]) - time.time()) < 10
    assert client.get("/api/cameras/gate/snapshot.jpg").content == first.content  # cached (5 s here)
    offline = client.get("/api/cameras/offline/snapshot.jpg")
    assert offline.status_code == 409 and "offline" in offline.json()["detail"]
    assert live_service.client("zhang", "zhang-password").get("/api/cameras/gate/snapshot.jpg").status_code == 404


def test_spot_check_keeps_snapshots_as_evidence(live_service: RunningService) -> None:
    client = live_service.client()
    check = client.post("/api/spot-checks", json={"institution_id": "hl-jly"})
    assert check.status_code == 201, check.text
    check_id = check.json()["id"]
    for camera_id in ("gate", "duty"):
        taken = client.post(f"/api/spot-checks/{check_id}/evidence", json={"camera_id": camera_id})
        assert taken.status_code == 201, taken.text
    elsewhere = client.post(f"/api/spot-checks/{check_id}/evidence", json={"camera_id": "ny-gate"})
    assert elsewhere.status_code == 422 and "not at institution" in elsewhere.json()["detail"]
    done = client.post(f"/api/spot-checks/{check_id}/finish", json={"result": "issues", "remark": "值班室无人"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["result"] == "issues" and body["remark"] == "值班室无人" and body["username"] == "admin"
    assert [e["camera_id"] for e in body["evidence"]] == ["gate", "duty"]
    jpeg = client.get(body["evidence"][0]["url"])
    assert jpeg.status_code == 200 and jpeg.content[:2] == b"\xff\xd8"
    again = client.post(f"/api/spot-checks/{check_id}/finish", json={"result": "pass"})
    assert again.status_code == 409
    late = client.post(f"/api/spot-checks/{check_id}/evidence", json={"camera_id": "gate"})
    assert late.status_code == 409
    listed = client.get("/api/spot-checks", params={"institution_id": "hl-jly"}).json()
    assert listed[0]["id"] == check_id
    # An inspector of another town sees neither the check nor its evidence.
    other = live_service.client("zhang", "zhang-password")
    assert other.get(f"/api/spot-checks/{check_id}").status_code == 404
    assert other.get(body["evidence"][0]["url"]).status_code == 404
    assert other.post("/api/spot-checks", json={"institution_id": "hl-jly"}).status_code == 404


def test_live_views_snapshots_and_spot_checks_are_audited(live_service: RunningService) -> None:
    client = live_service.client()
    token = client.headers["Authorization"]

    async def watch() -> None:
        async with _async_client(live_service) as http:
            viewer = await open_viewer(http, "gate")
            await viewer.frames(1)
            await viewer.close(http)
        url = live_service.base_url.replace("http", "ws") + "/api/cameras/gate/live.fmp4"
        async with websockets.connect(url, additional_headers={"Authorization": token}) as ws:
            await ws.recv()

    asyncio.run(watch())
    assert client.get("/api/cameras/gate/snapshot.jpg").status_code == 200
    check_id = client.post("/api/spot-checks", json={"institution_id": "hl-jly"}).json()["id"]
    assert client.post(f"/api/spot-checks/{check_id}/finish", json={"result": "pass"}).status_code == 200
    with sqlite3.connect(live_service.workdir / "data" / "vms.db") as db:
        rows = db.execute("SELECT username, action, target, detail FROM audit_log").fetchall()
    assert ("admin", "live_view", "gate", "webrtc") in rows
    assert ("admin", "live_view", "gate", "fmp4") in rows
    # Each view's end too, with the span watched, however the transport ended it.
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(live_service.workdir / "data" / "vms.db") as db:
            ends = db.execute(
                "SELECT detail, range_start, range_end FROM audit_log"
                " WHERE action = 'live_view.end' AND target = 'gate'"
            ).fetchall()
        if {"webrtc", "fmp4"} <= {detail for detail, _, _ in ends} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {"webrtc", "fmp4"} <= {detail for detail, _, _ in ends}
    assert all(start < end for _, start, end in ends)
    assert ("admin", "snapshot", "gate", None) in rows
    assert {"spot_check_start", "spot_check_finish"} <= {action for _, action, _, _ in rows}


def test_an_administrator_sees_and_ends_only_the_live_views_of_their_unit(live_service: RunningService) -> None:
    """A town's administrator manages the live views of the town's cameras, not those of other towns."""
    added = live_service.vms(
        "user",
        "add",
        "li",
        "--org",
        "ny",
        "--role",
        "admin",
        "--password-stdin",
        "--config",
        str(live_service.config_path),
        stdin="li-password-1\n",
    )
    assert added.returncode == 0, added.stderr
    town_admin = live_service.client("li", "li-password-1")

    async def scenario() -> None:
        async with _async_client(live_service) as bureau:
            elsewhere = await open_viewer(bureau, "gate")  # 汇龙镇: not li's town
            in_town = await open_viewer(bureau, "ny-gate")  # 南阳镇: li's town
            try:
                seen = {v["camera_id"] for v in town_admin.get("/api/live/sessions").json()["viewers"]}
                assert seen == {"ny-gate"}, seen
                assert town_admin.delete(elsewhere.location).status_code == 404
                assert town_admin.delete(in_town.location).status_code == 204
                remaining = {v["camera_id"] for v in _viewers(live_service)["viewers"]}
                assert "gate" in remaining and "ny-gate" not in remaining, remaining
            finally:
                await elsewhere.close(bureau)
                await in_town.close()

    asyncio.run(scenario())
    _wait_no_viewers(live_service)


def test_live_settings_are_validated() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"live": {"max_viewers_per_camera": 0, "idle_timeout_s": -1, "ice_host": ["x"]}})
    paths = {problem.path for problem in caught.value.problems}
    assert {"live.max_viewers_per_camera", "live.idle_timeout_s", "live.ice_host"} <= paths, paths
    assert parse_config({}).live.ice_hosts == []

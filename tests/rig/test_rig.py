"""The camera rig works against real RTSP clients (ffmpeg/ffprobe, PyAV)."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import av
import pytest

from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import GarbageServer, RtspServer, SilentServer

pytestmark = pytest.mark.rtsp

FPS = 25
CLIP_S = 4
USER, PASSWORD = "admin", "s3cret"


@pytest.fixture(scope="module")
def h264_clip() -> Path:
    return make_clip(clip_cache_dir() / "rig_h264_640x360.mp4", seconds=CLIP_S, fps=FPS)


@pytest.fixture(scope="module")
def hevc_clip() -> Path:
    return make_clip(clip_cache_dir() / "rig_hevc_640x360.mp4", seconds=2, codec="hevc")


@pytest.fixture(scope="module")
def server(h264_clip: Path, hevc_clip: Path) -> Iterator[RtspServer]:
    mounts = [
        {"path": "/h264", "clip": str(h264_clip)},
        {"path": "/loop", "clip": str(h264_clip)},
        {"path": "/stall", "clip": str(h264_clip)},
        {"path": "/describe", "clip": str(h264_clip)},
        {"path": "/inband", "clip": str(h264_clip), "inband_params": True},
        {"path": "/h265", "clip": str(hevc_clip)},
        {"path": "/audio", "kind": "audio"},
        {"path": "/secure", "clip": str(h264_clip), "auth": {"user": USER, "password": PASSWORD}},
    ]
    with RtspServer(mounts) as srv:
        yield srv


def ffprobe(url: str, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-show_entries",
            "stream=codec_name,profile,width,height",
            "-of",
            "compact",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ffmpeg_read(url: str, seconds: float, copy: bool = False) -> tuple[int, float, str]:
    """Read ``seconds`` of media; return (frames, wall seconds, stderr)."""
    t = time.monotonic()
    res = subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostats",
            "-rtsp_transport",
            "tcp",
            "-timeout",
            "5000000",
            "-i",
            url,
            "-t",
            str(seconds),
            *(["-c", "copy"] if copy else []),
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 20,
    )
    wall = time.monotonic() - t
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.findall(r"frame=\s*(\d+)", res.stderr)
    return (int(m[-1]) if m else 0), wall, res.stderr


def nal_types(data: bytes) -> set[int]:
    """H.264 NAL unit types in an Annex-B packet."""
    return {data[m.end()] & 0x1F for m in re.finditer(b"\x00\x00\x01", data) if m.end() < len(data)}


def test_h264_probe(server: RtspServer) -> None:
    res = ffprobe(server.url("/h264"))
    assert res.returncode == 0, res.stderr
    assert "codec_name=h264|profile=Main|width=640|height=360" in res.stdout


def test_sdp_only_params_decode_in_real_time(server: RtspServer) -> None:
    frames, wall, _ = ffmpeg_read(server.url("/h264"), 3)
    assert 70 <= frames <= 80
    # Real-time pacing: 3 s of media takes about 3 s (plus connection setup).
    assert 2.5 <= wall <= 5.0, wall


def test_params_only_in_sdp_unless_inband(server: RtspServer) -> None:
    def types(path: str, keys: int) -> tuple[bytes, list[set[int]]]:
        with av.open(server.url(path), options={"rtsp_transport": "tcp"}, timeout=10) as c:
            s = c.streams.video[0]
            out = []
            for pkt in c.demux(s):
                if pkt.size:
                    out.append((pkt.is_keyframe, nal_types(bytes(pkt))))
                if sum(k for k, _ in out) >= keys:
                    break
            return bytes(s.codec_context.extradata or b""), [t for k, t in out if k]

    extradata, keys = types("/h264", 1)
    assert 7 in nal_types(extradata)  # SPS came from the SDP's sprop-parameter-sets
    assert all(7 not in t and 8 not in t for t in keys), keys
    _, keys = types("/inband", 2)
    assert keys and all({7, 8} <= t for t in keys), keys


def test_bare_describe_does_not_queue_stale_frames(server: RtspServer) -> None:
    # A DESCRIBE prepares the shared media, which then sits blocked until
    # someone PLAYs; the next reader must still get a real-time stream.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(f"DESCRIBE {server.url('/describe')} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        assert s.recv(4096).startswith(b"RTSP/1.0 200 OK")
        time.sleep(2)
        frames, wall, _ = ffmpeg_read(server.url("/describe"), 2)
    assert frames >= 45 and wall >= 1.8, (frames, wall)


def test_h265(server: RtspServer) -> None:
    res = ffprobe(server.url("/h265"))
    assert res.returncode == 0, res.stderr
    assert "codec_name=hevc|profile=Main|width=640|height=360" in res.stdout
    frames, _, _ = ffmpeg_read(server.url("/h265"), 1)
    assert frames >= 20


def test_audio_only_stream(server: RtspServer) -> None:
    res = ffprobe(server.url("/audio"))
    assert res.returncode == 0, res.stderr
    assert "pcm_mulaw" in res.stdout and "h264" not in res.stdout


def test_two_clients_share_a_path(server: RtspServer) -> None:
    results: list[int] = []

    def read() -> None:
        # 3 s: the later client joins the shared pipeline mid-GOP and only
        # gets pictures from the next key frame (GOP = 2 s), like a camera.
        results.append(ffmpeg_read(server.url("/h264"), 3)[0])

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(n >= 25 for n in results), results


def test_an_always_on_camera_keeps_its_pipeline_and_answers_each_client_with_a_key_frame(h264_clip: Path) -> None:
    """An ``always_on`` mount runs on between clients, as a real camera's encoder does: the next client gets no new
    pipeline (the set-up that a restarted worker's cameras would otherwise wait for, one camera after another), and
    its first picture is a key frame, whether it comes before or after the camera noticed that nobody watched (the
    rest of its GOP would otherwise be its wait). A default mount builds a pipeline for each."""
    mounts = [
        {"path": "/kept", "clip": str(h264_clip), "always_on": True},
        {"path": "/rebuilt", "clip": str(h264_clip)},
    ]
    with RtspServer(mounts) as cams:
        for pause in (0.2, 1.5, 0.2):
            for path in ("/kept", "/rebuilt"):
                with av.open(cams.url(path), options={"rtsp_transport": "tcp"}, timeout=10) as c:
                    began = time.monotonic()
                    packets = []
                    for packet in c.demux(c.streams.video[0]):
                        if packet.size:
                            packets.append(packet)
                        if time.monotonic() - began > 1:
                            break
                assert packets[0].is_keyframe, (path, pause)
                assert len(packets) >= 20, (path, len(packets))
                dts = [p.dts for p in packets if p.dts is not None]
                assert dts == sorted(dts), (path, dts)
            time.sleep(pause)
        assert cams.pipelines_built("/kept") == 1
        assert cams.pipelines_built("/rebuilt") == 3


def test_auth(server: RtspServer) -> None:
    assert ffprobe(server.url("/secure", USER, PASSWORD)).returncode == 0
    bad = ffprobe(server.url("/secure", USER, "wrong"))
    assert bad.returncode != 0 and "401" in bad.stderr
    anon = ffprobe(server.url("/secure"))
    assert anon.returncode != 0 and "401" in anon.stderr
    # Credentials are not required on open mounts even when auth is enabled.
    assert ffprobe(server.url("/h264")).returncode == 0


def test_missing_path_404(server: RtspServer) -> None:
    res = ffprobe(server.url("/nope"))
    assert res.returncode != 0 and "404" in res.stderr


def test_stall_and_resume(server: RtspServer) -> None:
    arrivals: list[tuple[float, int]] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            with av.open(server.url("/stall"), options={"rtsp_transport": "tcp"}, timeout=(10, 10)) as c:
                for pkt in c.demux(c.streams.video[0]):
                    if pkt.pts is not None:
                        arrivals.append((time.monotonic(), pkt.pts))
                    if len(arrivals) >= 120:
                        return
        except BaseException as e:  # surfaced by the assertions below
            errors.append(e)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while len(arrivals) < 25 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(arrivals) >= 25, errors
    server.stall("/stall")
    t_stall = time.monotonic()
    time.sleep(2.0)
    quiet = [a for a in arrivals if a[0] > t_stall + 0.5]
    assert not quiet, f"{len(quiet)} packets arrived while stalled"
    n_before = len(arrivals)
    server.resume("/stall")
    t.join(timeout=15)
    assert not errors, errors
    assert len(arrivals) >= 120
    after = arrivals[n_before:]
    assert after[0][0] > t_stall + 2.0
    pts = [p for _, p in arrivals]
    assert all(b > a for a, b in pairwise(pts))
    # Resumed media time follows wall time (no burst to "catch up").
    assert after[-1][0] - after[0][0] >= (len(after) - 1) / FPS - 0.5


def test_loop_keeps_timestamps_increasing(server: RtspServer) -> None:
    seconds = CLIP_S + 3
    pts: list[int] = []
    # The clock starts before open: probing already consumes real-time packets.
    t0 = time.monotonic()
    with av.open(server.url("/loop"), options={"rtsp_transport": "tcp"}, timeout=10) as c:
        s = c.streams.video[0]
        for pkt in c.demux(s):
            if pkt.pts is not None:
                pts.append(pkt.pts)
            if time.monotonic() - t0 >= seconds:
                break
        tb = s.time_base
    assert all(b > a for a, b in pairwise(pts))
    assert abs(len(pts) - FPS * seconds) <= FPS * seconds * 0.15, len(pts)
    span = float((pts[-1] - pts[0]) * tb)
    assert seconds - 0.5 <= span <= seconds + 0.2, span  # past the clip's end, in real time


def test_kill_and_restart_same_port(h264_clip: Path) -> None:
    with RtspServer([{"path": "/cam", "clip": str(h264_clip)}]) as srv:
        port = srv.port
        assert ffprobe(srv.url("/cam")).returncode == 0
        srv.kill()
        assert not srv.running
        assert ffprobe(srv.url("/cam")).returncode != 0
        srv.restart()
        assert srv.port == port
        assert ffprobe(srv.url("/cam")).returncode == 0


def test_silent_and_garbage_servers() -> None:
    with SilentServer() as silent:
        t = time.monotonic()
        res = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-rtsp_transport",
                "tcp",
                "-timeout",
                "1000000",
                f"rtsp://127.0.0.1:{silent.port}/x",
            ],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert res.returncode != 0 and time.monotonic() - t >= 0.9
    for close_after in (False, True):
        with GarbageServer(close_after=close_after) as garbage:
            res = subprocess.run(
                [
                    "ffprobe",
                    "-v",
                    "error",
                    "-rtsp_transport",
                    "tcp",
                    "-timeout",
                    "2000000",
                    f"rtsp://127.0.0.1:{garbage.port}/x",
                ],
                capture_output=True,
                text=True,
                timeout=20,
            )
            assert res.returncode != 0


def test_many_cameras_dialled_at_once_all_send_their_picture(h264_clip: Path) -> None:
    """48 sessions opened together, as a restarted worker dials its cameras: every one gets its first frame soon.
    (A feed started between the clock's and the base time's arrival once stamped its frames with the clock's
    uptime, and one or two of 48 sessions were answered but never sent a frame.)"""
    n = 48
    mounts = [{"path": f"/c{i}", "clip": str(h264_clip)} for i in range(n)]
    with RtspServer(mounts) as many:
        waited: dict[int, float] = {}

        def dial(index: int) -> None:
            began = time.monotonic()
            options = {"rtsp_transport": "tcp", "fpsprobesize": "0", "timeout": "8000000"}
            try:
                with av.open(many.url(f"/c{index}"), options=options, timeout=(8, 8)) as container:
                    for packet in container.demux(video=0):
                        if packet.size:
                            waited[index] = time.monotonic() - began
                            return
            except av.FFmpegError:
                pass

        threads = [threading.Thread(target=dial, args=(i,), daemon=True) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    silent = sorted(set(range(n)) - set(waited))
    assert not silent, f"no frame from {silent}; the others after {sorted(waited.values())[-1:]} s at most"
    assert max(waited.values()) < 6, sorted(waited.values())

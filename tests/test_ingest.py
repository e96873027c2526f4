"""Ingest against a real GStreamer RTSP server: cameras come online, fail clearly and recover,
and one camera's trouble never reaches another."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import av
import pytest

from media.packet import MediaPacket, StreamInfo
from streams import read_interrupt
from streams.camera import CameraStream
from streams.health import CameraState, HealthSnapshot
from streams.source import SourceSettings
from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import GarbageServer, MuteRtspServer, RtspServer, SilentServer, free_port

FAST = dict(open_timeout_s=3.0, watchdog_s=3.0, backoff_s=(0.5, 1.0, 2.0))


@pytest.fixture
def cameras() -> Iterator[Callable[..., CameraStream]]:
    started: list[CameraStream] = []

    def start(url: str, camera_id: str = "cam", **overrides: object) -> CameraStream:
        settings = SourceSettings(camera_id=camera_id, url=url, **{**FAST, **overrides})  # type: ignore[arg-type]
        stream = CameraStream(settings, stall_after_s=1.0, gop_cache_bytes=8 << 20)
        stream.start()
        started.append(stream)
        return stream

    yield start
    for stream in started:
        stream.stop()
    for stream in started:
        stream.join(10)


def wait_until(
    stream: CameraStream, predicate: Callable[[HealthSnapshot], bool], timeout: float = 15.0
) -> HealthSnapshot:
    deadline = time.monotonic() + timeout
    snap = stream.health.snapshot()
    while time.monotonic() < deadline:
        snap = stream.health.snapshot()
        if predicate(snap):
            return snap
        time.sleep(0.1)
    raise AssertionError(f"{stream.settings.camera_id} never got there; health: {snap}")


def online(snap: HealthSnapshot) -> bool:
    return snap.state is CameraState.ONLINE and snap.packets_total > 25


def assert_kept_streaming(stream: CameraStream, seconds: float = 2.0) -> None:
    """The bystander camera is online, never reconnected, and received about real time's worth of packets."""
    before = stream.health.snapshot()
    time.sleep(seconds)
    after = stream.health.snapshot()
    assert after.state is CameraState.ONLINE and after.reconnects == 0, after
    assert after.packets_total - before.packets_total >= 25 * seconds * 0.8, (before, after)


def test_h264_camera_with_parameter_sets_only_in_sdp(rtsp: RtspServer, cameras) -> None:
    cam = cameras(rtsp.url("/gate"))
    sub = cam.hub.subscribe("probe", capacity=1000)
    snap = wait_until(cam, lambda s: online(s) and s.keyframe_interval_s is not None, timeout=20)
    assert (snap.codec, snap.profile, snap.width, snap.height) == ("h264", "Main", 640, 360)
    assert 22 <= snap.fps <= 28
    assert snap.keyframe_interval_s == pytest.approx(2.0, abs=0.3)
    assert 200_000 < snap.bitrate_bps < 3_000_000
    assert snap.last_packet_age_s is not None and snap.last_packet_age_s < 1

    # The consumer starts on a key frame, and the SDP's SPS/PPS (extradata) are all a decoder needs.
    info = sub.get(timeout=5)
    assert isinstance(info, StreamInfo) and info.extradata
    decoder = av.CodecContext.create("h264", "r")
    decoder.extradata = info.extradata
    frames = 0
    first = True
    while frames < 30:
        item = sub.get(timeout=5)
        assert isinstance(item, MediaPacket)
        if first:
            assert item.keyframe
            first = False
        frames += len(decoder.decode(av.Packet(item.data)))
    assert frames >= 30


def test_a_camera_is_connected_at_its_first_key_frame_not_seven_frames_later(cameras) -> None:
    """FFmpeg's probe reads 7 frames of H.264 before it gives decode timestamps; cameras send no B-frames, and the
    source does not wait for them. At 5 frames a second that wait would be 1.4 s, at every connection of every
    camera of a restarted worker. The packets that follow carry their timestamps, one frame apart."""
    clip = make_clip(clip_cache_dir() / "rig_h264_640x360_5fps.mp4", fps=5, seconds=4)
    with RtspServer([{"path": "/slow", "clip": str(clip)}]) as server:
        began = time.time()
        cam = cameras(server.url("/slow"))
        sub = cam.hub.subscribe("probe", capacity=100)
        snap = wait_until(cam, lambda s: s.connected_at is not None)
        assert snap.connected_at is not None and snap.connected_at - began < 0.8, snap.connected_at - began
        packets = []
        while len(packets) < 6:
            item = sub.get(timeout=5)
            if isinstance(item, MediaPacket):
                packets.append(item)
    assert packets[0].keyframe
    assert all(b.dts - a.dts == 18_000 for a, b in pairwise(packets[1:])), [p.dts for p in packets]


def test_a_camera_sending_b_frames_is_read_with_decode_timestamps_in_order(cameras, clip_with_b_frames: Path) -> None:
    """The probe ends at the first key frame but still decodes it: where a camera sends B-frames (few do), that
    decode tells the reorder delay, without which FFmpeg gives decode timestamps that go back (a probe that
    skips the decode, tried to save CPU, did)."""
    with RtspServer([{"path": "/bframes", "clip": str(clip_with_b_frames)}]) as server:
        cam = cameras(server.url("/bframes"))
        sub = cam.hub.subscribe("probe", capacity=200)
        packets: list[MediaPacket] = []
        while len(packets) < 40:
            item = sub.get(timeout=5)
            if isinstance(item, MediaPacket):
                packets.append(item)
    stamped = [p for p in packets if p.dts is not None and p.pts is not None]
    assert len(stamped) == len(packets)
    assert all(b.dts > a.dts for a, b in pairwise(stamped)), [(p.pts, p.dts) for p in stamped]
    assert all(p.pts >= p.dts for p in stamped)
    assert any(b.pts < a.pts for a, b in pairwise(stamped))  # the clip's pictures do come out of order


def test_a_camera_started_with_a_gate_dials_only_once_it_opens_and_stops_while_it_waits(rtsp: RtspServer) -> None:
    """A restarted worker starts all its cameras' threads first and lets them dial together; a camera stopped
    meanwhile ends without ever dialling."""
    settings = SourceSettings(camera_id="gated", url=rtsp.url("/gate"), **FAST)  # type: ignore[arg-type]
    gate = threading.Event()
    stream = CameraStream(settings, stall_after_s=1.0, gop_cache_bytes=8 << 20)
    stream.start(gate)
    never = CameraStream(
        SourceSettings(camera_id="never", url=rtsp.url("/duty"), **FAST),  # type: ignore[arg-type]
        stall_after_s=1.0,
        gop_cache_bytes=8 << 20,
    )
    never.start(threading.Event())
    try:
        time.sleep(1.0)
        assert stream.health.snapshot().connected_at is None and stream.running
        gate.set()
        wait_until(stream, online)
        never.stop()
        assert never.join(3) and never.health.snapshot().connected_at is None
    finally:
        stream.stop()
        never.stop()
        stream.join(10)


def test_an_unwatched_camera_is_read_in_bursts_losing_no_frame_and_a_viewer_gets_each_frame_as_it_comes(
    rtsp: RtspServer, cameras
) -> None:
    cam = cameras(rtsp.url("/gate"), read_pause_s=0.4)
    recorder = cam.hub.subscribe("recorder", capacity=5000, max_delay_s=1.0)
    wait_until(cam, online)

    def packets(subscription, seconds: float) -> list[MediaPacket]:
        got: list[MediaPacket] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            got += [item for item in subscription.get_all(timeout=0.1) if isinstance(item, MediaPacket)]
        return got

    def long_waits(got: list[MediaPacket]) -> int:
        return sum(b.received_at - a.received_at >= 0.3 for a, b in pairwise(got))

    def assert_every_frame(got: list[MediaPacket]) -> None:
        steps = [b.dts - a.dts for a, b in pairwise(got)]
        assert steps and set(steps) == {3600}, steps  # 25 fps at 90 kHz: not one frame missing

    unpaced = packets(recorder, 5.5)  # a connection's first 5 s are read frame by frame
    paced = packets(recorder, 4.0)
    # Read about every 0.4 s (the rest, then the frames that arrived meanwhile; some 9 rests in 4 s), not once per
    # frame (a wait that long is rare then: below).
    assert long_waits(paced) >= 4, [round(p.received_at, 2) for p in paced]
    assert len(paced) >= 4.0 * 25 * 0.8

    viewer = cam.hub.subscribe("viewer")  # a live viewer: every packet as soon as it comes
    since = time.time() + 0.5  # the rest in progress has ended (the viewer starts on the cached GOP before it)
    watched = packets(viewer, 3.5)
    assert_every_frame(watched)
    live = [p for p in watched if p.received_at > since]
    assert long_waits(live) <= 2, [round(p.received_at, 2) for p in live]
    assert len(live) >= 3.0 * 25 * 0.8
    assert_every_frame(unpaced + paced + packets(recorder, 0))
    assert cam.health.snapshot().state is CameraState.ONLINE


def test_hevc_and_inband_parameter_sets(rtsp: RtspServer, cameras) -> None:
    hevc = cameras(rtsp.url("/kitchen-hevc"), camera_id="hevc")
    inband = cameras(rtsp.url("/exit"), camera_id="inband")
    assert wait_until(hevc, online, timeout=20).codec == "hevc"
    assert wait_until(inband, online, timeout=20).codec == "h264"


def test_server_killed_and_restarted_camera_recovers_and_bystander_is_untouched(
    rtsp: RtspServer, clip_h264: Path, cameras
) -> None:
    with RtspServer([{"path": "/other", "clip": str(clip_h264)}]) as other_server:
        bystander = cameras(other_server.url("/other"), camera_id="bystander")
        cam = cameras(rtsp.url("/gate"))
        wait_until(cam, online)
        wait_until(bystander, online)

        rtsp.kill()
        down = wait_until(cam, lambda s: s.state is CameraState.OFFLINE, timeout=FAST["watchdog_s"] + 5)
        assert down.last_error and down.next_attempt_at is not None
        assert_kept_streaming(bystander)

        killed_at = time.monotonic()
        rtsp.restart()
        back = wait_until(cam, online, timeout=20)
        # Back within the capped back-off (max 2 s here) plus connection set-up.
        assert time.monotonic() - killed_at < 2.0 + FAST["open_timeout_s"] + 5
        assert back.reconnects >= 1
        assert_kept_streaming(bystander)


def test_missing_path_reports_404_and_bystander_streams(rtsp: RtspServer, cameras) -> None:
    bystander = cameras(rtsp.url("/duty"), camera_id="bystander")
    missing = cameras(rtsp.url("/no-such-camera"), camera_id="missing")
    snap = wait_until(missing, lambda s: s.state is CameraState.OFFLINE and s.last_error is not None)
    assert "404" in snap.last_error
    wait_until(bystander, online)
    assert_kept_streaming(bystander)


def test_server_that_accepts_and_never_answers_times_out(rtsp: RtspServer, cameras) -> None:
    bystander = cameras(rtsp.url("/duty"), camera_id="bystander")
    with SilentServer() as silent:
        cam = cameras(f"rtsp://127.0.0.1:{silent.port}/live", camera_id="silent")
        snap = wait_until(cam, lambda s: s.state is CameraState.OFFLINE, timeout=FAST["open_timeout_s"] + 8)
        assert "timed out" in snap.last_error
        wait_until(bystander, online)
        assert_kept_streaming(bystander)
    # It keeps trying, with back-off, for as long as it is configured.
    assert wait_until(cam, lambda s: s.reconnects >= 1, timeout=15).reconnects >= 1


def test_a_camera_that_sends_nothing_after_play_is_dialled_again_at_once(cameras) -> None:
    """The handshake succeeds but no video comes: FFmpeg's probe ends without a picture size (the camera's
    SDP carries no parameter sets). That connection can never deliver a picture: it is dropped as soon as the
    probe ends, not after waiting out the watchdog on top of it."""
    with MuteRtspServer() as mute:
        cam = cameras(f"rtsp://127.0.0.1:{mute.port}/live", camera_id="mute", watchdog_s=6.0, open_timeout_s=6.0)
        started = time.monotonic()
        snap = wait_until(cam, lambda s: s.state is CameraState.OFFLINE and s.last_error is not None, timeout=20)
        failed_after = time.monotonic() - started
    assert "no picture" in snap.last_error, snap.last_error
    assert failed_after < 6.0 + 3.0, failed_after  # the probe's wait, and not the watchdog's again


def test_stream_that_stops_sending_is_stalled_then_reconnected(rtsp: RtspServer, cameras) -> None:
    bystander = cameras(rtsp.url("/duty"), camera_id="bystander")
    cam = cameras(rtsp.url("/gate"))
    wait_until(cam, online)
    wait_until(bystander, online)
    rtsp.stall("/gate")
    stalled = wait_until(cam, lambda s: s.state is CameraState.STALLED, timeout=5)
    assert stalled.last_packet_age_s >= 1.0
    # The watchdog gives up on the silent connection and reconnects.
    dropped = wait_until(cam, lambda s: s.state is CameraState.OFFLINE, timeout=FAST["watchdog_s"] + 5)
    assert "timed out" in dropped.last_error or "no video packet" in dropped.last_error
    assert_kept_streaming(bystander)
    rtsp.resume("/gate")
    back = wait_until(cam, online, timeout=20)
    assert back.reconnects >= 1


def test_wrong_credentials_give_401_and_never_leak_the_password(
    rtsp: RtspServer, cameras, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = cameras(rtsp.url("/secure"), camera_id="wrong", username="admin", password="Wrong#Pass1")
    snap = wait_until(wrong, lambda s: s.state is CameraState.OFFLINE and s.last_error is not None)
    assert "401" in snap.last_error
    right = cameras(rtsp.url("/secure"), camera_id="right", username="admin", password="Cam#Secret9")
    wait_until(right, online)
    wait_until(wrong, lambda s: s.reconnects >= 1)
    text = caplog.text + repr(wrong.health.snapshot()) + repr(right.health.snapshot())
    assert "camera wrong" in caplog.text
    assert "Wrong#Pass1" not in text and "Wrong%23Pass1" not in text
    assert "Cam#Secret9" not in text and "Cam%23Secret9" not in text


def test_non_video_stream_is_named(rtsp: RtspServer, cameras) -> None:
    cam = cameras(rtsp.url("/audio"), camera_id="audio")
    snap = wait_until(cam, lambda s: s.state is CameraState.OFFLINE and s.last_error is not None, timeout=20)
    assert "no video stream" in snap.last_error and "audio" in snap.last_error


def test_garbage_and_refused_connections_are_clear_errors(rtsp: RtspServer, cameras) -> None:
    bystander = cameras(rtsp.url("/duty"), camera_id="bystander")
    with GarbageServer() as garbage:
        junk = cameras(f"rtsp://127.0.0.1:{garbage.port}/live", camera_id="garbage")
        refused = cameras(f"rtsp://127.0.0.1:{free_port()}/live", camera_id="refused")
        junk_snap = wait_until(junk, lambda s: s.state is CameraState.OFFLINE and s.last_error is not None, timeout=20)
        refused_snap = wait_until(refused, lambda s: s.state is CameraState.OFFLINE and s.last_error is not None)
        assert "refused" in refused_snap.last_error
        # a reply that is not RTSP is invalid data; endless junk without a reply runs into the open timeout
        assert "invalid data" in junk_snap.last_error or "timed out" in junk_snap.last_error
        wait_until(bystander, online)
        assert_kept_streaming(bystander)


def test_udp_transport_is_selectable(rtsp: RtspServer, cameras) -> None:
    cam = cameras(rtsp.url("/duty"), camera_id="udp", transport="udp")
    snap = wait_until(cam, online, timeout=20)
    assert snap.codec == "h264" and 20 <= snap.fps <= 30


def test_file_source_loops_with_increasing_timestamps(clip_h264: Path, cameras) -> None:
    cam = cameras(str(clip_h264), camera_id="demo")
    sub = cam.hub.subscribe("probe", capacity=2000)
    packets = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(packets) < 12 * 25:  # past the 10 s clip's end
        item = sub.get(timeout=2)
        if isinstance(item, MediaPacket):
            packets.append(item)
    assert len(packets) >= 12 * 25
    dts = [p.dts for p in packets]
    assert all(b > a for a, b in pairwise(dts))  # no jump back at the loop
    assert cam.health.snapshot().reconnects == 0


def test_missing_or_non_video_file_is_a_clear_error(tmp_path: Path, cameras) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("这不是视频 / not a video\n" * 100, encoding="utf-8")
    missing = cameras(str(tmp_path / "absent.mp4"), camera_id="absent")
    junk = cameras(str(text), camera_id="junk")
    assert "No such file" in wait_until(missing, lambda s: s.last_error is not None).last_error
    assert "not a video file" in wait_until(junk, lambda s: s.last_error is not None).last_error


def test_stall_is_still_caught_where_reads_cannot_be_interrupted(
    rtsp: RtspServer, cameras, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a PyAV build whose interrupt state is not recognised, PyAV's own read timeout is the watchdog."""
    monkeypatch.setattr(read_interrupt, "supported", lambda: False)
    cam = cameras(rtsp.url("/gate"))
    wait_until(cam, online)
    rtsp.stall("/gate")
    dropped = wait_until(cam, lambda s: s.state is CameraState.OFFLINE, timeout=FAST["watchdog_s"] + 5)
    assert "no video packet" in dropped.last_error
    rtsp.resume("/gate")
    assert wait_until(cam, online, timeout=20).reconnects >= 1

"""The GB/T 28181 cascade against an upper platform written apart from vms's SIP code (tests/rig/gb_platform.py):
registration with digest (with and without qop), keepalives, the catalog in GB2312 and UTF-8, device info and
status, record queries, live video over UDP and both TCP roles and recorded video (Playback with pause, seek and
scale; Download), reassembled and read by FFmpeg's own MPEG-PS demuxer; subscriptions, alarms, refusals of what
is malformed or foreign, a wrong password backing off, unregistering on shutdown."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.store import Store
from tests.rig.gb_platform import SERVER_ID, RtpReceiver, UpperPlatform, check_program_stream, offer
from tests.rig.rtsp import RtspServer, free_port
from tests.rig.violations import add_violation
from tests.running_service import RunningService

pytestmark = pytest.mark.rtsp

LOCAL_ID = "32068100002000000001"  # 启东 (320681), a platform (200)
GATE_ID = "32068100001320000001"
KITCHEN_ID = "32068100001310000002"
EXIT_ID = "32068100001320000003"
BUREAU_ID = "32068100002150000001"
TOWN_ID = "32068100002160000001"
HOME_ID = "32068100002160000002"
PASSWORD = "Gb#28181-secret"


@pytest.fixture
def cameras(clip_h264: Path, clip_hevc: Path) -> Iterator[RtspServer]:
    mounts = [{"path": "/gate", "clip": str(clip_h264)}, {"path": "/kitchen", "clip": str(clip_hevc)}]
    with RtspServer(mounts) as server:
        yield server


def _config(cameras: RtspServer, platform: UpperPlatform, **gb: Any) -> dict[str, Any]:
    camera = {"institution": "hl-jly", "detectors": [{"type": "tamper", "enabled": False}]}
    off = {**camera, "enabled": False, "source": {"url": "rtsp://127.0.0.1:1/none"}}
    gate = cameras.url("/gate")
    return {
        "organisation": {
            "id": "qd",
            "name": "启东市民政局",
            "gb_id": BUREAU_ID,
            "towns": [
                {
                    "id": "hl",
                    "name": "汇龙镇",
                    "gb_id": TOWN_ID,
                    "institutions": [
                        {"id": "hl-jly", "name": "汇龙镇敬老院", "gb_id": HOME_ID, "address": "汇龙镇人民路1号"}
                    ],
                },
                {"id": "ny", "name": "南阳镇", "institutions": [{"id": "ny-jly", "name": "南阳镇中心敬老院"}]},
            ],
        },
        "recording": {"segment_s": 2},
        "cameras": [
            {**camera, "id": "gate", "name": "大门", "role": "gate", "gb_id": GATE_ID, "source": {"url": gate}},
            {**camera, "id": "kitchen", "name": "厨房（后厨）", "role": "kitchen", "gb_id": KITCHEN_ID,
             "source": {"url": cameras.url("/kitchen")}},
            {**off, "id": "exit", "name": "疏散通道", "role": "evacuation_route", "gb_id": EXIT_ID},
            {**off, "id": "lobby", "name": "大厅", "role": "other"},
            {**off, "id": "ny-gate", "name": "南阳大门", "role": "gate", "institution": "ny-jly",
             "gb_id": "32068100001320000009"},
        ],
        "uplink": {
            "platforms": [
                {
                    "id": "nantong",
                    "name": "南通市民政养老服务平台",
                    "units": ["hl"],
                    "gb28181": {
                        "server_id": SERVER_ID,
                        "host": "127.0.0.1",
                        "port": platform.port,
                        "transport": platform.transport,
                        "local_id": LOCAL_ID,
                        "password": PASSWORD,
                        "local_port": free_port(),
                        "keepalive_s": 1,
                        "catalog_page_size": 2,
                        "ack_timeout_s": 3,
                        "register_backoff_s": [1, 2],
                        **gb,
                    },
                }
            ]
        },
    }  # fmt: skip


def _items(roots: list[Any], list_tag: str = "DeviceList") -> list[dict[str, str]]:
    return [
        {child.tag: (child.text or "") for child in item}
        for root in roots
        for item in root.find(list_tag).findall("Item")
    ]


def _play(platform: UpperPlatform, channel: str, transport: str, seconds: float, tmp_path: Path, **sdp: Any) -> Any:
    """Asks for live video, takes it for `seconds`, hangs up; the answer, what arrived, how fast it stopped."""
    receiver = RtpReceiver(transport)
    try:
        asked = time.time()
        answer, dialog = platform.invite(channel, offer("Play", receiver.port, transport, **sdp))
        assert answer.status == 200, answer.first
        body = answer.body.decode()
        port = int(re.search(r"m=video (\d+) (\S+) 96", body).group(1))
        receiver.start(connect_to=port if transport == "tcp-active" else None)
        platform.in_dialog(dialog, "ACK")
        # `seconds` of video from the first packet: on a loaded machine the first key frame may come late.
        first_by = time.monotonic() + 10
        while not receiver.packets and time.monotonic() < first_by:
            time.sleep(0.05)
        time.sleep(seconds)
        bye = platform.in_dialog(dialog, "BYE")
        assert bye.status == 200
        stopped = time.time()
        time.sleep(1.5)
        late = [p for p in receiver.packets if p[6] > stopped + 1.0]
        check = check_program_stream(receiver.program_stream(), tmp_path / f"{channel}-{transport}.ps")
        return answer, receiver, asked, late, check
    finally:
        receiver.close()


def test_cascade_over_udp(cameras: RtspServer, tmp_path: Path) -> None:
    with UpperPlatform(PASSWORD, "udp", qop=True) as platform:
        service = RunningService(tmp_path, _config(cameras, platform))
        service.start()
        try:
            platform.wait(lambda: platform.registered_as == LOCAL_ID, what="registered")
            first = platform.registrations[0]
            assert first.header("expires") == "3600" and not first.header("authorization")
            assert "qop=auth" in platform.registrations[1].header("authorization")
            platform.wait(lambda: any(b"Keepalive" in m.body for m in platform.messages), what="a keepalive")

            # The catalog: units with an id, then the platform's cameras with one (not 南阳's, not 大厅 without an id).
            roots = platform.answers("Catalog", platform.query("Catalog", LOCAL_ID))
            assert len(roots) == 3 and {r.findtext("SumNum") for r in roots} == {"6"}  # pages of two
            assert all(
                m.body.startswith(b'<?xml version="1.0" encoding="GB2312"?>')
                for m in platform.messages
                if b"Catalog" in m.body
            )
            items = {i["DeviceID"]: i for i in _items(roots)}
            assert list(items) == [BUREAU_ID, TOWN_ID, HOME_ID, GATE_ID, KITCHEN_ID, EXIT_ID]
            assert items[TOWN_ID] == {
                "DeviceID": TOWN_ID,
                "Name": "汇龙镇",
                "ParentID": BUREAU_ID,
                "BusinessGroupID": BUREAU_ID,
            }
            assert items[BUREAU_ID]["ParentID"] == LOCAL_ID
            assert items[KITCHEN_ID]["Name"] == "厨房（后厨）" and items[KITCHEN_ID]["ParentID"] == HOME_ID
            assert items[KITCHEN_ID]["Address"] == "汇龙镇人民路1号" and items[KITCHEN_ID]["CivilCode"] == "320681"
            platform.wait(lambda: True)
            time.sleep(1)
            roots = platform.answers("Catalog", platform.query("Catalog", LOCAL_ID))
            status = {i["DeviceID"]: i.get("Status") for i in _items(roots)}
            assert status[GATE_ID] == "ON" and status[EXIT_ID] == "OFF", status

            (info,) = platform.answers("DeviceInfo", platform.query("DeviceInfo", LOCAL_ID))
            assert info.findtext("Result") == "OK" and info.findtext("Channel") == "3"
            assert info.findtext("DeviceName") == "南通市民政养老服务平台"
            (status_root,) = platform.answers("DeviceStatus", platform.query("DeviceStatus", GATE_ID))
            assert status_root.findtext("Online") == "ONLINE" and status_root.findtext("Record") == "ON"
            (status_root,) = platform.answers("DeviceStatus", platform.query("DeviceStatus", EXIT_ID))
            assert status_root.findtext("Online") == "OFFLINE"

            # Live video over UDP: the camera's H.264 as it is, in PS with a map, our y= echoing the platform's.
            answer, receiver, asked, late, check = _play(platform, GATE_ID, "udp", 3.0, tmp_path, ssrc="0320600042")
            body = answer.body.decode()
            assert "a=sendonly" in body and "a=rtpmap:96 PS/90000" in body and "y=0320600042" in body
            assert {p[3] for p in receiver.packets} == {320600042} and {p[4] for p in receiver.packets} == {96}
            assert receiver.packets[0][6] - asked < 0.3, "the first packet leaves at once, on the cached GOP"
            assert not late, "nothing is sent a second after the BYE"
            assert check.codec == "h264" and (check.width, check.height) == (640, 360), check
            assert check.errors == "" and check.frames >= 50, check
            assert check.stream_types and set(check.stream_types) == {0x1B}
            markers = [p for p in receiver.packets if p[2]]
            assert len(markers) >= check.frames - 1  # one per frame, on its last packet
            assert len({p[1] for p in markers}) == len(markers)

            # Refusals that say why, and the stack goes on.
            answer, _ = platform.invite("32068100001320000099", offer("Play", 40000))
            assert answer.status == 404
            answer, _ = platform.invite(EXIT_ID, offer("Play", 40000))
            assert answer.status == 480 and "disabled" in answer.header("warning")
            answer, _ = platform.invite(
                GATE_ID, offer("Play", 40000).replace("PS/90000", "H265/90000").replace(" 96 98 97", " 96")
            )
            assert answer.status == 488 and "PS/90000" in answer.header("warning")
            bad = platform.request("MESSAGE", LOCAL_ID, b"<Query><CmdType>Catalog</CmdType><SN>1")
            assert bad.status == 400
            unknown = platform.request(
                "MESSAGE",
                "32068100001320000099",
                b"<Query><CmdType>DeviceInfo</CmdType><SN>7</SN><DeviceID>32068100001320000099</DeviceID></Query>",
            )
            assert unknown.status == 404
            assert vms_answers_garbage_with_400(platform)
            assert foreign_request_refused(platform)

            # An INVITE sent again is answered with the same response; one never ACKed ends with our BYE.
            receiver = RtpReceiver("udp")
            sdp = offer("Play", receiver.port, "udp")
            first_answer, dialog = platform.invite(GATE_ID, sdp)
            platform.wait(
                lambda: any(b.header("call-id") == dialog.call_id for b in platform.byes),
                timeout=10,
                what="a BYE for the INVITE never ACKed",
            )
            receiver.close()

            # Alarms: a violation's start and end, each once.
            store = Store.open(service.data_dir / "vms.db")
            try:
                add_violation(store, "gate", "hl-jly", time.time(), kind="covered_lens")
                add_violation(store, "ny-gate", "ny-jly", time.time())  # not this platform's
            finally:
                store.close()
            alarms = platform.wait(
                lambda: len(a := [m for m in platform.messages if b"<CmdType>Alarm" in m.body]) >= 2 and a,
                what="alarms",
            )
            time.sleep(1)
            alarms = [m.xml() for m in platform.messages if b"<CmdType>Alarm" in m.body]
            assert [a.findtext("DeviceID") for a in alarms] == [GATE_ID, GATE_ID]
            assert [a.findtext("AlarmDescription") for a in alarms] == ["镜头遮挡开始", "镜头遮挡结束"]
            assert {a.findtext("AlarmMethod") for a in alarms} == {"5"} and {
                a.findtext("AlarmPriority") for a in alarms
            } == {"2"}
            assert [a.findtext("Info/AlarmTypeParam/EventType") for a in alarms] == ["1", "2"]

            with service.client() as client:
                answer_text = client.get("/api/uplink/platforms").text
                metrics = client.get("/metrics").text
            assert 'vms_uplink_gb28181_registered{platform="nantong"} 1.0' in metrics
            assert re.search(r'vms_uplink_gb28181_video_bytes_total\{platform="nantong"\} [1-9]', metrics), metrics
            gb = json.loads(answer_text)[0]["gb28181"]
            assert gb["registration"]["state"] == "registered" and gb["cameras"] == 3
            assert gb["cameras_without_id"] == ["lobby"] and gb["bytes_sent"] > 100_000
            assert gb["alarms"]["delivered"] == 2
            assert PASSWORD not in answer_text
        finally:
            service.stop()
        unregister = platform.registrations[-1]
        assert unregister.header("expires") == "0" and platform.registered_as is None
        assert PASSWORD not in service.log()


def vms_answers_garbage_with_400(platform: UpperPlatform) -> bool:
    """A request whose Content-Length lies gets a 400 naming why."""
    assert platform.vms is not None
    raw = (
        f"MESSAGE sip:{LOCAL_ID}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{platform.port};branch=z9hG4bKbad1\r\n"
        f"From: <sip:{SERVER_ID}@3206000000>;tag=x\r\nTo: <sip:{LOCAL_ID}@3206000000>\r\nCall-ID: garbage-1\r\n"
        "CSeq: 1 MESSAGE\r\nContent-Length: 500\r\n\r\n<Query/>"
    ).encode()
    platform.send_raw(b"\x00\xff not sip at all\r\n\r\n")
    platform.send_raw(raw)
    answer = platform.wait(lambda: platform._responses.get("garbage-11 MESSAGE"), what="a 400")
    return answer.status == 400 and "Content-Length" in answer.first


def foreign_request_refused(platform: UpperPlatform) -> bool:
    """The same query from another address than the platform's is refused (403)."""
    assert platform.vms is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.2", 0))
        other.settimeout(5)
        other.sendto(
            (
                f"MESSAGE sip:{LOCAL_ID}@127.0.0.1 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.2:{other.getsockname()[1]};branch=z9hG4bKx\r\n"
                f"From: <sip:{SERVER_ID}@3206000000>;tag=y\r\nTo: <sip:{LOCAL_ID}@3206000000>\r\nCall-ID: foreign-1\r\n"
                "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
            ).encode(),
            platform.vms,
        )
        data, _ = other.recvfrom(65536)
    return data.startswith(b"SIP/2.0 403")


def _subscribe(platform: UpperPlatform, kind: str, expires: int = 600) -> Any:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\r\n<Query><CmdType>{kind}</CmdType><SN>77</SN>'
        f"<DeviceID>{LOCAL_ID}</DeviceID></Query>\r\n"
    ).encode()
    answer = platform.request("SUBSCRIBE", LOCAL_ID, body, extra=[("Event", kind), ("Expires", str(expires))])
    assert answer.status == 200 and answer.header("expires") == str(expires), answer.first
    return answer


def _events(platform: UpperPlatform) -> list[tuple[str, str]]:
    return [
        (item.findtext("DeviceID") or "", item.findtext("Event") or "")
        for message in platform.notifies
        if b"<CmdType>Catalog" in message.body
        for item in message.xml().iter("Item")
    ]


def _mansrtsp(text: str) -> bytes:
    return (text.replace("\n", "\r\n") + "\r\n").encode()


def test_cascade_over_tcp_with_recordings_and_subscriptions(cameras: RtspServer, tmp_path: Path) -> None:
    with UpperPlatform(PASSWORD, "tcp", qop=False) as platform:
        config = _config(cameras, platform, charset="UTF-8")
        service = RunningService(tmp_path, config)
        service.start()
        started = time.time()
        try:
            platform.wait(lambda: platform.registered_as == LOCAL_ID, what="registered over TCP")
            assert "qop" not in platform.registrations[-1].header("authorization")

            roots = platform.answers("Catalog", platform.query("Catalog", LOCAL_ID, charset="UTF-8"))
            catalog = [m for m in platform.messages if b"<CmdType>Catalog" in m.body]
            assert all(m.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>') for m in catalog)
            assert "厨房（后厨）".encode() in b"".join(m.body for m in catalog)
            assert {i["Name"] for i in _items(roots)} >= {
                "启东市民政局",
                "汇龙镇",
                "汇龙镇敬老院",
                "大门",
                "厨房（后厨）",
            }

            # Subscribed to the catalog: the current state at once, then what changes.
            _subscribe(platform, "Catalog")
            platform.wait(lambda: len(_events(platform)) >= 6, what="the catalog notified")
            assert set(_events(platform)) >= {(GATE_ID, "ADD"), (KITCHEN_ID, "ADD"), (HOME_ID, "ADD")}
            _subscribe(platform, "Alarm")

            # Live H.265 with the platform listening (we connect), H.264 with the platform connecting to us.
            _, receiver, _, late, check = _play(platform, KITCHEN_ID, "tcp-passive", 3.0, tmp_path)
            assert check.codec == "hevc" and (check.width, check.height) == (640, 360) and check.errors == "", check
            assert set(check.stream_types) == {0x24} and not late
            _, receiver, _, late, check = _play(platform, GATE_ID, "tcp-active", 3.0, tmp_path)
            assert check.codec == "h264" and check.errors == "" and check.frames >= 50 and not late, check

            # The recordings: what the index holds, in pages, and a stretch of it played back.
            time.sleep(max(0.0, started + 12 - time.time()))
            begin = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started - 60))
            end = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() + 60))
            fields = {"StartTime": begin, "EndTime": end, "Type": "all", "Secrecy": "0"}
            records = _items(
                platform.answers("RecordInfo", platform.query("RecordInfo", GATE_ID, fields)), "RecordList"
            )
            assert records and all(r["DeviceID"] == GATE_ID and r["Type"] == "time" for r in records), records
            first = time.mktime(time.strptime(records[0]["StartTime"], "%Y-%m-%dT%H:%M:%S"))
            last = time.mktime(time.strptime(records[-1]["EndTime"], "%Y-%m-%dT%H:%M:%S"))
            assert started - 2 <= first and last - first >= 6, records

            receiver = RtpReceiver("tcp-passive")
            sdp = offer(
                "Playback", receiver.port, "tcp-passive", int(first) + 1, int(first) + 7, "1320600001", channel=GATE_ID
            )
            answer, dialog = platform.invite(GATE_ID, sdp)
            assert answer.status == 200 and "s=Playback" in answer.body.decode(), answer.first
            receiver.start()
            platform.in_dialog(dialog, "ACK")
            time.sleep(1.5)
            assert (
                platform.in_dialog(
                    dialog, "INFO", _mansrtsp("PAUSE RTSP/1.0\nCSeq: 1\nPauseTime: now"), "Application/MANSRTSP"
                ).status
                == 200
            )
            time.sleep(0.5)
            paused_at = len(receiver.packets)
            time.sleep(1.5)
            assert len(receiver.packets) == paused_at, "nothing is sent while paused"
            resume = _mansrtsp("PLAY RTSP/1.0\nCSeq: 2\nRange: npt=now-\nScale: 2.0")
            assert platform.in_dialog(dialog, "INFO", resume, "Application/MANSRTSP").status == 200
            ended = platform.wait(
                lambda: any(b"<NotifyType>121</NotifyType>" in m.body for m in platform.messages),
                timeout=15,
                what="MediaStatus 121",
            )
            assert ended and len(receiver.packets) > paused_at
            assert platform.in_dialog(dialog, "BYE").status == 200
            receiver.close()
            check = check_program_stream(receiver.program_stream(), tmp_path / "playback.ps")
            assert check.codec == "h264" and check.errors == "" and 100 <= check.frames <= 175, check  # 6 s at 25 fps

            # Download at four times real time.
            receiver = RtpReceiver("udp")
            platform.messages.clear()
            sdp = offer(
                "Download", receiver.port, "udp", int(first) + 1, int(first) + 5, "1320600002", speed=4, channel=GATE_ID
            )
            answer, dialog = platform.invite(GATE_ID, sdp)
            assert answer.status == 200 and "s=Download" in answer.body.decode()
            receiver.start()
            asked = time.time()
            platform.in_dialog(dialog, "ACK")
            platform.wait(
                lambda: any(b"<NotifyType>121</NotifyType>" in m.body for m in platform.messages), what="downloaded"
            )
            took = time.time() - asked
            platform.in_dialog(dialog, "BYE")
            receiver.close()
            assert took < 3.0, took
            check = check_program_stream(receiver.program_stream(), tmp_path / "download.ps")
            assert check.errors == "" and 75 <= check.frames <= 125, check

            # An alarm goes as NOTIFY to the alarm subscription.
            store = Store.open(service.data_dir / "vms.db")
            try:
                add_violation(store, "kitchen", "hl-jly", time.time(), kind="video_loss")
            finally:
                store.close()
            platform.wait(
                lambda: sum(b"<CmdType>Alarm" in n.body for n in platform.notifies) >= 2, what="alarm notifies"
            )
            alarm = next(n.xml() for n in platform.notifies if b"<CmdType>Alarm" in n.body)
            assert alarm.findtext("DeviceID") == KITCHEN_ID and alarm.findtext("AlarmMethod") == "6"
            assert alarm.findtext("Info/AlarmType") == "1"

            _upper_platforms_page_shows_the_cascade(service)

            # The configuration changes: a camera leaves, another gets an id.
            config["cameras"] = [c for c in config["cameras"] if c["id"] != "exit"]
            next(c for c in config["cameras"] if c["id"] == "lobby")["gb_id"] = "32068100001320000004"
            service.write_config(config)
            service.reload()
            platform.wait(
                lambda: {(EXIT_ID, "DEL"), ("32068100001320000004", "ADD")} <= set(_events(platform)),
                what="changes notified",
            )
        finally:
            service.stop()
        assert platform.registrations[-1].header("expires") == "0"


def test_a_wrong_password_backs_off_and_a_silent_platform_is_registered_with_again(
    cameras: RtspServer, tmp_path: Path
) -> None:
    with UpperPlatform(PASSWORD, "udp") as platform:
        config = _config(cameras, platform, password="not-the-password")
        service = RunningService(tmp_path, config)
        service.start()
        try:
            time.sleep(4)
            authorised = [r.at for r in platform.registrations if r.header("authorization")]
            assert 2 <= len(authorised) <= 3, authorised  # after 1 s, then 2 s: never a fast loop
            with service.client() as client:
                gb = client.get("/api/uplink/platforms").json()[0]["gb28181"]
            assert gb["registration"]["state"] == "refused" and "password" in gb["registration"]["reason"], gb

            config["uplink"]["platforms"][0]["gb28181"]["password"] = PASSWORD
            service.write_config(config)
            service.reload()
            platform.wait(lambda: platform.registered_as == LOCAL_ID, what="registered with the right password")
            count = len(platform.registrations)
            platform.answer_keepalives = False
            platform.wait(lambda: len(platform.registrations) > count, timeout=15, what="registered again")
            with service.client() as client:
                registration = client.get("/api/uplink/platforms").json()[0]["gb28181"]["registration"]
            assert "keepalives unanswered" in (registration["reason"] or ""), registration
        finally:
            service.stop()


def _upper_platforms_page_shows_the_cascade(service: RunningService) -> None:
    """The 上级平台 page, in Chromium: registered, the cameras cascaded, the one without an id named."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.rig.browser import artifacts_dir, chromium, log_in
    from tests.running_service import ADMIN_PASSWORD

    driver = chromium()
    try:
        log_in(driver, service.base_url + "/ui/#/uplink", "admin", ADMIN_PASSWORD)
        wait = WebDriverWait(driver, 15, poll_frequency=0.2)
        table = wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, ".uplink-platform[data-platform=nantong] .uplink-gb")
        )
        wait.until(lambda d: "已注册" in table.text)
        assert "GB/T 28181 级联" in driver.find_element(By.CSS_SELECTOR, ".uplink-platform").text
        assert LOCAL_ID in table.text and "lobby" in table.text and "127.0.0.1:" in table.text
        driver.save_screenshot(str(artifacts_dir() / "web-ui-uplink-gb28181.png"))
    finally:
        driver.quit()


SIPP = Path(__file__).parent / "rig" / "sipp"


def test_sipp_as_the_upper_platform(cameras: RtspServer, tmp_path: Path) -> None:
    """sipp challenges the REGISTER and checks our digest, takes a keepalive, asks for the catalog, device info
    and records, opens live and recorded video and hangs both up; FFmpeg reads what reached the RTP ports."""
    sipp_port = free_port()
    live, playback = RtpReceiver("udp"), RtpReceiver("udp")
    live.start()
    playback.start()
    stand_in = type("Platform", (), {"port": sipp_port, "transport": "udp"})()
    config = _config(cameras, stand_in, keepalive_s=8, catalog_page_size=20)  # type: ignore[arg-type]
    vms_port = config["uplink"]["platforms"][0]["gb28181"]["local_port"]
    started = int(time.time())
    clock = lambda at: time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(at))  # noqa: E731
    keys = {
        "local_id": LOCAL_ID,
        "password": PASSWORD,
        "server_id": SERVER_ID,
        "camera_id": GATE_ID,
        "record_from": clock(started - 60),
        "record_to": clock(started + 60),
        "playback_from": str(started + 2),
        "playback_to": str(started + 7),
        "live_port": str(live.port),
        "playback_port": str(playback.port),
    }
    log = tmp_path / "sipp-messages.log"
    command = ["sipp", "-sf", str(SIPP / "upper_platform.xml"), "-oocsf", str(SIPP / "answers.xml")]
    command += ["-i", "127.0.0.1", "-p", str(sipp_port), "-t", "u1", "-m", "1", "-timeout", "60s", "-timeout_error"]
    command += ["-trace_msg", "-message_file", str(log), "-trace_err", "-error_file", str(tmp_path / "sipp-errors.log")]
    command += [arg for name, value in keys.items() for arg in ("-key", name, value)]
    command += ["-nostdin", f"127.0.0.1:{vms_port}"]
    service = RunningService(tmp_path, config)
    sipp = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    service.start()
    try:
        rc = sipp.wait(timeout=60)
    finally:
        service.stop()
        live.close()
        playback.close()
    errors = (
        (tmp_path / "sipp-errors.log").read_text(errors="replace") if (tmp_path / "sipp-errors.log").exists() else ""
    )
    assert rc == 0, (
        f"sipp failed ({rc}): {sipp.stderr.read().decode(errors='replace') if sipp.stderr else ''}\n{errors}"
    )
    messages = log.read_bytes()
    assert b'sipp "bad digest"' not in messages and b"Authorization: Digest" in messages
    assert b"<CmdType>Keepalive</CmdType>" in messages  # sent once registered
    assert b"<SumNum>6</SumNum>" in messages and "厨房（后厨）".encode("gb2312") in messages
    assert b"<CmdType>DeviceInfo</CmdType>" in messages and b"<Channel>3</Channel>" in messages
    assert re.search(rb"<CmdType>RecordInfo</CmdType>.*?<SumNum>[1-9]", messages, re.S)
    for receiver, name in ((live, "live"), (playback, "playback")):
        check = check_program_stream(receiver.program_stream(), tmp_path / f"sipp-{name}.ps")
        assert check.codec == "h264" and check.errors == "" and check.frames >= 25, (name, check)

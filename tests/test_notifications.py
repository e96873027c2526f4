"""Notifications from a running service to real HTTP receivers on 127.0.0.1: a camera that loses its video raises
视频丢失, and each notifier gets it in its own format (DingTalk's signature verifies); a receiver that answers 500
gets it again and takes it; a receiver that never answers holds up nobody; secrets stay out of the log and the
API; deliveries are listed for operators and counted in /metrics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import ORGANISATION
from tests.rig.rtsp import free_port
from tests.running_service import RunningService

SECRETS = {
    "webhook": "hook-secret-5f1",
    "wecom": "wecom-key-77a",
    "dingtalk_token": "ding-token-c3e",
    "dingtalk_secret": "SECding-9d2",
    "sms": "sms-key-4b8",
}


@dataclass
class Received:
    at: float
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A tiny HTTP server: records every request; /flaky answers 500 once, /dead never answers in time."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.flaky_calls = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                with receiver.lock:
                    receiver.requests.append(
                        Received(time.time(), parts.path, parse_qs(parts.query), dict(self.headers), body)
                    )
                    if parts.path == "/flaky":
                        receiver.flaky_calls += 1
                status = 200
                if parts.path == "/dead":
                    time.sleep(5)  # longer than the notifier waits
                if parts.path == "/flaky" and receiver.flaky_calls == 1:
                    status = 500
                answer = b'{"errcode":0,"errmsg":"ok"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[RunningService]:
    base = {"severities": ["urgent", "major"], "events": ["violation_started"]}
    url = receiver.url
    config = {
        "organisation": ORGANISATION,
        "notifications": {
            "public_url": "https://vms.example.cn",
            "notifiers": [
                {**base, "id": "hook", "type": "webhook", "url": f"{url}/hook", "secret": SECRETS["webhook"]},
                {**base, "id": "wx", "type": "wecom", "url": f"{url}/wecom?key={SECRETS['wecom']}"},
                {
                    **base,
                    "id": "dd",
                    "type": "dingtalk",
                    "url": f"{url}/dingtalk?access_token={SECRETS['dingtalk_token']}",
                    "secret": SECRETS["dingtalk_secret"],
                    "msgtype": "text",
                },
                {
                    **base,
                    "id": "sms",
                    "type": "sms",
                    "url": f"{url}/sms?mobile={{phone}}&content={{text}}&apikey={{key}}",
                    "phones": ["13800001111"],
                    "key": SECRETS["sms"],
                },
                {**base, "id": "flaky", "type": "webhook", "url": f"{url}/flaky", "backoff_s": [0.5]},
                {**base, "id": "dead", "type": "webhook", "url": f"{url}/dead", "timeout_s": 1, "backoff_s": [60]},
                # Another town's robot, and one for urgent notices only: neither hears of this camera's video loss.
                {**base, "id": "ny-only", "type": "webhook", "url": f"{url}/ny", "units": ["ny"]},
                {"id": "urgent-only", "type": "webhook", "url": f"{url}/urgent", "events": ["violation_started"]},
            ],
        },
        "cameras": [
            {
                "id": "lost",
                "name": "失联摄像机",
                "institution": "hl-jly",
                "role": "gate",
                "source": {"url": f"rtsp://127.0.0.1:{free_port()}/nothing"},
                "detectors": [{"type": "tamper", "params": {"video_loss_s": 1}}],
            }
        ],
    }
    running = RunningService(tmp_path_factory.mktemp("notify"), config)
    running.start()
    try:
        added = running.vms(
            "user", "add", "wang", "--org", "qd", "--role", "viewer", "--password-stdin",
            "--config", str(running.config_path), stdin="wang-password-1\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        yield running
    finally:
        running.stop()


def _wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_each_notifier_gets_the_video_loss_in_its_own_format(service: RunningService, receiver: Receiver) -> None:
    _wait(lambda: all(receiver.at(p) for p in ("/hook", "/wecom", "/dingtalk", "/sms")))
    hook = receiver.at("/hook")[0]
    notice = json.loads(hook.body)
    assert notice["event"] == "violation_started" and notice["severity"] == "major"
    assert notice["title"] == "视频丢失 · 汇龙镇敬老院" and notice["institution"] == "hl-jly"
    assert notice["text"].startswith("机构：汇龙镇 汇龙镇敬老院\n摄像机：失联摄像机\n时间：")
    assert notice["url"] == f"https://vms.example.cn/ui/#/violations?id={notice['ref'].split(':')[1]}"
    signed = hook.headers["X-VMS-Timestamp"].encode() + b"." + hook.body
    expected = hmac.new(SECRETS["webhook"].encode(), signed, hashlib.sha256).hexdigest()
    assert hook.headers["X-VMS-Signature"] == f"sha256={expected}"

    wecom = receiver.at("/wecom")[0]
    assert wecom.query == {"key": [SECRETS["wecom"]]}
    content = json.loads(wecom.body)["markdown"]["content"]
    assert content.startswith('## 视频丢失 · 汇龙镇敬老院\n> 级别：<font color="warning">重要</font>\n> 机构：')
    assert content.endswith(f"[在平台中查看]({notice['url']})")

    ding = receiver.at("/dingtalk")[0]
    timestamp = ding.query["timestamp"][0]
    digest = hmac.new(
        SECRETS["dingtalk_secret"].encode(), f"{timestamp}\n{SECRETS['dingtalk_secret']}".encode(), "sha256"
    )
    assert ding.query["sign"] == [base64.b64encode(digest.digest()).decode()]  # DingTalk's own check passes
    assert ding.query["access_token"] == [SECRETS["dingtalk_token"]]
    assert abs(int(timestamp) / 1000 - ding.at) < 60  # DingTalk refuses a timestamp an hour off
    body = json.loads(ding.body)
    assert body["msgtype"] == "text" and body["text"]["content"].startswith("【重要】视频丢失 · 汇龙镇敬老院\n机构：")

    sms = receiver.at("/sms")[0]
    assert sms.query["mobile"] == ["13800001111"] and sms.query["apikey"] == [SECRETS["sms"]]
    assert sms.query["content"][0].startswith(
        "【重要】视频丢失 · 汇龙镇敬老院：机构：汇龙镇 汇龙镇敬老院 摄像机：失联摄像机"
    )
    assert not receiver.at("/ny") and not receiver.at("/urgent")


def test_a_refusing_receiver_is_retried_and_a_silent_one_holds_up_nobody(
    service: RunningService, receiver: Receiver
) -> None:
    _wait(lambda: len(receiver.at("/flaky")) >= 2)
    first, second = receiver.at("/flaky")[:2]
    assert 0.4 <= second.at - first.at < 5  # the back-off, then the second attempt
    assert {**json.loads(first.body), "sent_at": 0} == {**json.loads(second.body), "sent_at": 0}  # the same notice
    # The silent receiver was asked at the same moment as the others; they did not wait for it.
    dead = receiver.at("/dead")[0]
    assert receiver.at("/hook")[0].at - dead.at < 0.9
    with service.client() as admin:
        deadline = time.monotonic() + 10
        while True:
            deliveries = {d["notifier"]: d for d in admin.get("/api/notifications/deliveries").json()}
            if deliveries.get("dead", {}).get("last_error") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert (deliveries["flaky"]["state"], deliveries["flaky"]["attempts"]) == ("delivered", 2)
        assert (deliveries["dead"]["state"], deliveries["dead"]["attempts"]) == ("pending", 1)
        assert deliveries["dead"]["last_error"] == "no answer within 1 s"
        assert deliveries["sms"]["recipient"] == "138****1111"
        assert {"hook", "wx", "dd", "sms", "flaky", "dead"} == set(deliveries)
        assert all(deliveries[n]["state"] == "delivered" for n in ("hook", "wx", "dd", "sms"))
        metrics = admin.get("/metrics").text
        assert 'vms_notification_deliveries{notifier="flaky",state="delivered"} 1.0' in metrics
        assert 'vms_notification_deliveries{notifier="dead",state="pending"} 1.0' in metrics


def test_secrets_stay_out_of_the_log_and_the_api(service: RunningService) -> None:
    with service.client() as admin:
        answers = [
            admin.get("/api/notifications/deliveries").text,
            admin.get("/metrics").text,
            admin.get("/api/openapi.json").text,
        ]
    text = "\n".join(answers) + service.log()
    assert "notify dead: delivery" in service.log()  # the failure is logged …
    for secret in SECRETS.values():
        assert secret not in text  # … without a secret


def test_only_operators_see_deliveries(service: RunningService) -> None:
    viewer = service.client("wang", "wang-password-1")
    assert viewer.get("/api/notifications/deliveries").status_code == 403
    assert httpx.get(f"{service.base_url}/api/notifications/deliveries").status_code == 401
    with service.client() as admin:
        assert admin.get("/api/notifications/deliveries", params={"state": "lost"}).status_code == 422
        assert admin.get("/api/notifications/deliveries", params={"limit": 0}).status_code == 422
        only = admin.get("/api/notifications/deliveries", params={"notifier": "flaky", "state": "delivered"}).json()
        assert [d["notifier"] for d in only] == ["flaky"]

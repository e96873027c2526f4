"""notify/: what each notifier sends for a notice (exact bodies, signatures that verify), the configuration's
checks, and which notifiers a notice reaches."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from core.config import ConfigError
from core.config.notifications import DingTalkNotifier, SmsNotifier, WebhookNotifier, WeComNotifier
from core.store.database import Database
from core.store.notifications import NotificationRepository
from notify import dingtalk, sms, webhook, wecom
from notify.notice import Notice, case_notice
from notify.outgoing import answer_problem
from notify.service import Notifications
from service.configuration import parse_config

NOTICE = Notice(
    "violation_started",
    "violation:7",
    "人员跌倒 · 汇龙镇敬老院",
    "机构：汇龙镇 汇龙镇敬老院\n摄像机：走廊",
    "urgent",
    "hl-jly",
    "https://vms.example.cn/ui/#/violations?id=7",
)
NOW = 1_764_000_000.25


def test_webhook_sends_the_notice_as_json_signed() -> None:
    config = WebhookNotifier(type="webhook", id="hook", url="https://hooks.example.cn/vms", secret="s3cret")
    out = webhook.build(config, NOTICE, NOW)
    assert (out.method, out.url, out.robot) == ("POST", "https://hooks.example.cn/vms", False)
    assert json.loads(out.body or b"") == {
        "event": "violation_started",
        "ref": "violation:7",
        "title": "人员跌倒 · 汇龙镇敬老院",
        "text": "机构：汇龙镇 汇龙镇敬老院\n摄像机：走廊",
        "severity": "urgent",
        "institution": "hl-jly",
        "url": "https://vms.example.cn/ui/#/violations?id=7",
        "sent_at": 1764000000,
    }
    # What the receiver computes with the shared secret.
    expected = hmac.new(b"s3cret", b"1764000000." + (out.body or b""), hashlib.sha256).hexdigest()
    assert out.headers["X-VMS-Timestamp"] == "1764000000"
    assert out.headers["X-VMS-Signature"] == f"sha256={expected}"
    unsigned = webhook.build(WebhookNotifier(type="webhook", id="h", url="http://127.0.0.1:9/x"), NOTICE, NOW)
    assert "X-VMS-Signature" not in unsigned.headers


def test_wecom_markdown_and_text() -> None:
    config = WeComNotifier(type="wecom", id="wx", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K-123")
    assert config.url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"  # the key is lifted out
    assert config.key.get_secret_value() == "K-123"
    out = wecom.build(config, NOTICE)
    assert out.url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K-123" and out.robot
    assert json.loads(out.body or b"") == {
        "msgtype": "markdown",
        "markdown": {
            "content": "## 人员跌倒 · 汇龙镇敬老院\n"
            '> 级别：<font color="warning">紧急</font>\n'
            "> 机构：汇龙镇 汇龙镇敬老院\n"
            "> 摄像机：走廊\n"
            "[在平台中查看](https://vms.example.cn/ui/#/violations?id=7)"
        },
    }
    text = WeComNotifier(type="wecom", id="wx", key="K", msgtype="text", mention_mobiles=["13800001111"])
    assert json.loads(wecom.build(text, NOTICE).body or b"") == {
        "msgtype": "text",
        "text": {
            "content": "【紧急】人员跌倒 · 汇龙镇敬老院\n机构：汇龙镇 汇龙镇敬老院\n摄像机：走廊\n"
            "https://vms.example.cn/ui/#/violations?id=7",
            "mentioned_mobile_list": ["13800001111"],
        },
    }


def test_dingtalk_markdown_with_a_signature_that_verifies() -> None:
    config = DingTalkNotifier(
        type="dingtalk",
        id="dd",
        url="https://oapi.dingtalk.com/robot/send?access_token=T-9",
        secret="SEC-abc",
        at_mobiles=["13800001111"],
    )
    out = dingtalk.build(config, NOTICE, NOW)
    query = parse_qs(urlsplit(out.url).query)
    assert query["access_token"] == ["T-9"] and query["timestamp"] == ["1764000000250"]
    # DingTalk's own check: base64(HMAC-SHA256(secret, "<timestamp>\n<secret>")), URL-decoded from the query.
    digest = hmac.new(b"SEC-abc", b"1764000000250\nSEC-abc", hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(digest).decode()]
    assert json.loads(out.body or b"") == {
        "msgtype": "markdown",
        "markdown": {
            "title": "【紧急】人员跌倒 · 汇龙镇敬老院",
            "text": "### 【紧急】人员跌倒 · 汇龙镇敬老院\n\n- 机构：汇龙镇 汇龙镇敬老院\n\n- 摄像机：走廊\n\n"
            "[在平台中查看](https://vms.example.cn/ui/#/violations?id=7)\n\n@13800001111",
        },
        "at": {"atMobiles": ["13800001111"], "isAtAll": False},
    }
    unsigned = dingtalk.build(DingTalkNotifier(type="dingtalk", id="d", access_token="T"), NOTICE, NOW)
    assert set(parse_qs(urlsplit(unsigned.url).query)) == {"access_token"}


def test_sms_fills_the_template_url_encoded_and_cut_to_length() -> None:
    config = SmsNotifier(
        type="sms",
        id="sms",
        url="https://gw.example.cn/send?to={phone}&msg={text}&apikey={key}",
        phones=["+8613800001111"],
        key="k&y",
        max_chars=20,
    )
    out = sms.build(config, NOTICE, "+8613800001111")
    query = parse_qs(urlsplit(out.url).query)
    assert query["to"] == ["+8613800001111"] and query["apikey"] == ["k&y"]
    assert query["msg"] == ["【紧急】人员跌倒 · 汇龙镇敬老院：机…"]  # 20 characters; no room for the link
    assert out.method == "GET" and out.body is None
    roomy = SmsNotifier(type="sms", id="s", url="https://gw/s?p={phone}&t={text}", phones=["13800001111"])
    assert sms.text(NOTICE, roomy.max_chars).endswith("摄像机：走廊 https://vms.example.cn/ui/#/violations?id=7")


def test_robot_answers_are_judged_by_their_errcode() -> None:
    assert answer_problem(200, b'{"errcode":0,"errmsg":"ok"}', robot=True) is None
    assert answer_problem(200, b'{"errcode":310000,"errmsg":"sign not match"}', robot=True) == (
        "refused by the robot: errcode 310000: sign not match"
    )
    assert answer_problem(500, b"", robot=False) == "HTTP 500"
    assert answer_problem(204, b"", robot=False) is None


def _config(notifiers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "organisation": {
            "id": "qd",
            "name": "启东市民政局",
            "towns": [
                {"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院"}]},
                {"id": "ny", "name": "南阳镇", "institutions": [{"id": "ny-jly", "name": "南阳镇中心敬老院"}]},
            ],
        },
        "notifications": {"notifiers": notifiers},
    }


def test_bad_notifier_settings_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            _config(
                [
                    {"id": "a", "type": "sms", "url": "https://gw/send?p={phone}&t={txt}", "phones": ["138"]},
                    {"id": "a", "type": "wecom"},
                    {"id": "b", "type": "dingtalk", "access_token": "t", "units": ["nowhere"]},
                    {"id": "c", "type": "webhook", "url": "ftp://x", "severities": ["fatal"]},
                ]
            )
        )
    problems = {(p.path, p.message.split(":")[0]) for p in caught.value.problems}
    paths = {path for path, _ in problems}
    assert "notifications.notifiers[0].url" in paths  # {txt}
    assert "notifications.notifiers[0].phones[0]" in paths
    assert "notifications.notifiers[1].key" in paths
    assert ("notifications.notifiers[1].id", "duplicate id 'a'") in problems
    assert ("notifications.notifiers[2].units[0]", "unknown organisation unit 'nowhere'") in problems
    assert {"notifications.notifiers[3].url", "notifications.notifiers[3].severities[0]"} <= paths
    assert "s3cret" not in str(caught.value)


def test_a_notice_reaches_the_notifiers_of_its_unit_severity_and_event(tmp_path: Path) -> None:
    config = parse_config(
        _config(
            [
                {"id": "town-hl", "type": "webhook", "url": "http://127.0.0.1:9/a", "units": ["hl"],
                 "events": ["violation_started", "urgent_case_opened"]},
                {"id": "town-ny", "type": "webhook", "url": "http://127.0.0.1:9/b", "units": ["ny"],
                 "events": ["violation_started"]},
                {"id": "cases-only", "type": "webhook", "url": "http://127.0.0.1:9/c"},
                {"id": "minor-too", "type": "sms", "url": "http://127.0.0.1:9/s?p={phone}&t={text}",
                 "phones": ["13800001111", "13900002222"], "severities": ["urgent", "minor"],
                 "events": ["violation_started"]},
            ]
        )
    )  # fmt: skip
    db = Database(tmp_path / "vms.db")
    db.migrate()
    repository = NotificationRepository(db)
    from core.organisation import OrgTree

    tree = OrgTree(config)
    notifications = Notifications(repository, lambda: config.notifications, lambda: tree.contains)
    assert [n.id for n in notifications.receivers(NOTICE)] == ["town-hl", "minor-too"]
    assert notifications.notify(NOTICE) == 3  # one webhook, two phones
    assert notifications.notify(NOTICE) == 0  # raised twice, told once
    case = case_notice(
        "urgent_case_opened",
        case_id=3,
        kind_label="人员跌倒",
        severity="urgent",
        institution_id="hl-jly",
        institution_name="汇龙镇敬老院",
        deadline="2026-12-03 09:00",
    )
    assert [n.id for n in notifications.receivers(case)] == ["town-hl", "cases-only"]
    assert {(d.notifier_id, d.recipient) for d in repository.find()} == {
        ("town-hl", ""),
        ("minor-too", "13800001111"),
        ("minor-too", "13900002222"),
    }

"""WeChat Work (企业微信) group robot: `{"msgtype": "markdown", "markdown": {"content": …}}`, or text with the
members to @ by mobile number; the robot's key goes in the query (`?key=`)."""

from __future__ import annotations

from core.config.notifications import WeComNotifier
from notify.notice import SEVERITY_ZH, Notice
from notify.outgoing import Outgoing, json_body, with_query

# WeCom's markdown knows three font colours: warning (orange), info (green), comment (grey).
_COLOUR = {"urgent": "warning", "major": "warning", "minor": "comment"}


def markdown(notice: Notice) -> str:
    severity = SEVERITY_ZH.get(notice.severity, notice.severity)
    lines = [f"## {notice.title}", f'> 级别：<font color="{_COLOUR.get(notice.severity, "comment")}">{severity}</font>']
    lines += [f"> {line}" for line in notice.text.splitlines() if line.strip()]
    if notice.url:
        lines.append(f"[在平台中查看]({notice.url})")
    return "\n".join(lines)


def plain(notice: Notice) -> str:
    severity = SEVERITY_ZH.get(notice.severity, notice.severity)
    return "\n".join([f"【{severity}】{notice.title}", notice.text, *([notice.url] if notice.url else [])])


def build(config: WeComNotifier, notice: Notice) -> Outgoing:
    if config.msgtype == "markdown":
        payload: dict[str, object] = {"msgtype": "markdown", "markdown": {"content": markdown(notice)}}
    else:
        text: dict[str, object] = {"content": plain(notice)}
        if config.mention_mobiles:
            text["mentioned_mobile_list"] = list(config.mention_mobiles)
        payload = {"msgtype": "text", "text": text}
    url = with_query(config.url, [("key", config.key.get_secret_value())])
    return Outgoing("POST", url, {"Content-Type": "application/json; charset=utf-8"}, json_body(payload), robot=True)

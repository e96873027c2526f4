"""What each audited action is called, for auditors: the web UI and the CSV export read it from here (served at
GET /api/audit/actions), so a new action needs one line here and shows as its code until it has one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActionLabel:
    zh: str
    en: str


ACTIONS: dict[str, ActionLabel] = {
    "login": ActionLabel("登录", "log-in"),
    "login_failed": ActionLabel("登录失败", "failed log-in"),
    "login_refused": ActionLabel("登录被拒绝", "log-in refused"),
    "login_locked": ActionLabel("账号锁定", "account locked"),
    "logout": ActionLabel("退出登录", "log-out"),
    "live_view": ActionLabel("实时查看开始", "live view started"),
    "live_view.end": ActionLabel("实时查看结束", "live view ended"),
    "snapshot": ActionLabel("抓拍", "snapshot"),
    "recordings.playback": ActionLabel("录像回放", "playback"),
    "recordings.download": ActionLabel("录像下载", "recording download"),
    "export.create": ActionLabel("录像导出", "clip export"),
    "export.download": ActionLabel("导出文件下载", "export download"),
    "violation.clip": ActionLabel("查看违规片段", "violation clip"),
    "violation.snapshot.shared": ActionLabel("上级平台取截图", "snapshot by signed link"),
    "violation.clip.shared": ActionLabel("上级平台取片段", "clip by signed link"),
    "spot_check_start": ActionLabel("远程抽查开始", "spot check started"),
    "spot_check_evidence": ActionLabel("抽查取证", "spot check evidence"),
    "spot_check_finish": ActionLabel("远程抽查结束", "spot check finished"),
    "uplink.retry": ActionLabel("重发上级平台消息", "uplink message resent"),
    "uplink.push.start": ActionLabel("开始推流", "stream push started"),
    "uplink.push.stop": ActionLabel("停止推流", "stream push stopped"),
    "config.reload": ActionLabel("配置变更", "configuration reload"),
    "camera.worker": ActionLabel("摄像机换工作进程", "camera moved to another worker"),
    "user.created": ActionLabel("新建用户", "user created"),
    "user.changed": ActionLabel("修改用户", "user changed"),
    "user.password_changed": ActionLabel("修改密码", "password changed"),
    "user.password_reset": ActionLabel("重置密码", "password reset"),
    "api_token.created": ActionLabel("创建 API 令牌", "API token created"),
    "api_token.revoked": ActionLabel("吊销 API 令牌", "API token revoked"),
    "case.open": ActionLabel("立为隐患", "case opened"),
    "case.assign": ActionLabel("指派隐患", "case assigned"),
    "case.comment": ActionLabel("隐患备注", "case comment"),
    "case.evidence": ActionLabel("上传整改材料", "case evidence"),
    "report_accept": ActionLabel("举报受理", "public report accepted"),
    "report_reject": ActionLabel("举报驳回", "public report rejected"),
    "report_reward": ActionLabel("举报奖励", "public report rewarded"),
    "audit.read": ActionLabel("查阅审计日志", "audit log read"),
    "audit.export": ActionLabel("导出审计日志", "audit log exported"),
    "audit.verify": ActionLabel("校验审计日志", "audit log verified"),
}

# Families whose actions are added elsewhere (cases, users): `case.verified` reads as 隐患处置 until it has a line.
FAMILIES: dict[str, ActionLabel] = {
    "case": ActionLabel("隐患处置", "case"),
    "user": ActionLabel("用户管理", "user management"),
    "inspection": ActionLabel("巡查", "inspection"),
    "report": ActionLabel("隐患举报", "public report"),
}


def action_label(action: str) -> ActionLabel:
    known = ACTIONS.get(action) or FAMILIES.get(action.split(".", 1)[0]) or FAMILIES.get(action.split("_", 1)[0])
    return known or ActionLabel(action, action)

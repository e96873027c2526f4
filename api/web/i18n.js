// Interface text: Chinese (zh-CN) first, English switchable; the choice is kept in localStorage.

const TEXT = {
  "zh-CN": {
    "app.title": "民政服务机构视频监管平台",
    "nav.live": "实时监控", "nav.spotCheck": "远程抽查", "nav.playback": "录像回放", "nav.violations": "违规事件",
    "nav.uplink": "上级平台",
    "uplink.title": "上级平台", "uplink.none": "未配置上级平台", "uplink.bureauOnly": "仅局级账号可查看上级平台",
    "uplink.endpoint": "事件推送地址", "uplink.pending": "待推送", "uplink.oldest": "最早", "uplink.delivered": "已推送",
    "uplink.lastDelivered": "最近推送", "uplink.parked": "被拒收", "uplink.lastError": "最近错误",
    "uplink.events": "事件推送", "uplink.notForwarded": "未启用", "uplink.retry": "重新推送",
    "uplink.pushes": "视频推流", "uplink.push.camera": "摄像机", "uplink.push.url": "推流地址", "uplink.push.mode": "方式",
    "uplink.push.state": "状态", "uplink.push.sent": "已发送", "uplink.push.always": "常开", "uplink.push.on_demand": "按需",
    "uplink.push.waiting": "等待视频", "uplink.push.connecting": "连接中", "uplink.push.pushing": "推流中",
    "uplink.push.failing": "连接失败", "uplink.push.refused": "无法推送", "uplink.push.stopped": "已停止",
    "uplink.gb": "GB/T 28181 级联", "uplink.gb.server": "上级 SIP 服务器", "uplink.gb.localId": "本平台编码",
    "uplink.gb.state": "注册状态", "uplink.gb.registering": "注册中", "uplink.gb.registered": "已注册",
    "uplink.gb.refused": "被拒绝", "uplink.gb.unreachable": "无法连接", "uplink.gb.stopped": "已停止",
    "uplink.gb.keepalive": "最近心跳", "uplink.gb.cameras": "级联摄像机", "uplink.gb.withoutId": "无国标编码（未级联）",
    "uplink.gb.sessions": "视频会话", "uplink.gb.sent": "已发送视频", "uplink.gb.alarms": "待上报告警",
    "uplink.gb.error": "未运行",
    "violations.allTypes": "全部类型", "violations.allStates": "全部状态", "violations.active": "进行中",
    "violations.ended": "已结束", "violations.time": "时间", "violations.institution": "机构", "violations.camera": "摄像机",
    "violations.type": "类型", "violations.state": "状态", "violations.snapshot": "截图", "violations.clip": "录像片段",
    "violations.download": "下载片段", "violations.none": "暂无违规事件",
    "severity.urgent": "紧急", "severity.major": "重要", "severity.minor": "一般",
    "violations.clip.waiting": "事件进行中", "violations.clip.pending": "等待剪辑", "violations.clip.requested": "正在剪辑",
    "violations.clip.unavailable": "无录像",
    "auth.username": "用户名", "auth.password": "密码", "auth.login": "登录", "auth.logout": "退出",
    "auth.failed": "用户名或密码错误",
    "tree.title": "组织机构",
    "grid.layout": "画面分割", "grid.hint": "点击左侧摄像机在选中的窗口播放", "grid.empty": "空闲窗口",
    "tile.close": "关闭", "tile.snapshot": "截图",
    "state.online": "在线", "state.connecting": "连接中", "state.stalled": "卡顿", "state.offline": "离线",
    "state.stopped": "停用", "state.unknown": "未知",
    "player.connecting": "正在连接…", "player.webrtc": "WebRTC", "player.fmp4": "WebSocket 备用通道", "player.mjpeg": "MJPEG（服务器解码）",
    "player.failed": "无法播放",
    "role.gate": "大门", "role.duty_room": "值班室", "role.evacuation_route": "疏散通道", "role.kitchen": "厨房",
    "role.other": "其他",
    "spot.title": "远程视频抽查", "spot.pick": "请选择要抽查的机构", "spot.start": "开始抽查",
    "spot.camera": "第 {n} / {total} 路", "spot.prev": "上一路", "spot.next": "下一路",
    "spot.capture": "截图取证", "spot.captured": "已取证", "spot.result": "抽查结果",
    "spot.pass": "正常", "spot.issues": "发现问题", "spot.remark": "备注", "spot.finish": "完成抽查",
    "spot.finished": "抽查已记录", "spot.history": "抽查记录", "spot.none": "暂无抽查记录",
    "spot.by": "抽查人", "spot.at": "时间", "spot.evidence": "取证截图", "spot.noCameras": "该机构没有摄像机",
    "spot.inProgress": "进行中",
    "playback.camera": "摄像机", "playback.start": "开始时间", "playback.period": "时长", "playback.query": "查询",
    "playback.15m": "15 分钟", "playback.1h": "1 小时", "playback.6h": "6 小时", "playback.24h": "24 小时",
    "playback.timelineHint": "绿色为有录像，红色为中断；点击跳转", "playback.gap": "录像中断",
    "playback.nothing": "该时段没有录像", "playback.unsupported": "浏览器无法播放此编码，请导出后观看",
    "playback.export": "导出 1 分钟片段", "playback.exporting": "正在导出", "playback.download": "下载片段",
    "playback.exportFailed": "导出失败",
    "error.generic": "操作失败",
  },
  en: {
    "app.title": "Civil-Affairs Institution Video Supervision",
    "nav.live": "Live", "nav.spotCheck": "Spot checks", "nav.playback": "Playback", "nav.violations": "Violations",
    "nav.uplink": "Upper platforms",
    "uplink.title": "Upper platforms", "uplink.none": "No upper platform is configured",
    "uplink.bureauOnly": "Only bureau-level accounts see the upper platforms",
    "uplink.endpoint": "Event endpoint", "uplink.pending": "Waiting", "uplink.oldest": "oldest", "uplink.delivered": "Delivered",
    "uplink.lastDelivered": "Last delivered", "uplink.parked": "Refused", "uplink.lastError": "Last error",
    "uplink.events": "Event forwarding", "uplink.notForwarded": "off", "uplink.retry": "Send again",
    "uplink.pushes": "Stream push", "uplink.push.camera": "Camera", "uplink.push.url": "Destination", "uplink.push.mode": "Mode",
    "uplink.push.state": "State", "uplink.push.sent": "Sent", "uplink.push.always": "always", "uplink.push.on_demand": "on demand",
    "uplink.push.waiting": "waiting for video", "uplink.push.connecting": "connecting", "uplink.push.pushing": "pushing",
    "uplink.push.failing": "failing", "uplink.push.refused": "cannot push", "uplink.push.stopped": "stopped",
    "uplink.gb": "GB/T 28181 cascade", "uplink.gb.server": "Upper SIP server", "uplink.gb.localId": "Our platform id",
    "uplink.gb.state": "Registration", "uplink.gb.registering": "registering", "uplink.gb.registered": "registered",
    "uplink.gb.refused": "refused", "uplink.gb.unreachable": "unreachable", "uplink.gb.stopped": "stopped",
    "uplink.gb.keepalive": "Last keepalive", "uplink.gb.cameras": "Cameras cascaded", "uplink.gb.withoutId": "Without a GB id (not cascaded)",
    "uplink.gb.sessions": "Video sessions", "uplink.gb.sent": "Video sent", "uplink.gb.alarms": "Alarms waiting",
    "uplink.gb.error": "Not running",
    "violations.allTypes": "All types", "violations.allStates": "All states", "violations.active": "Ongoing",
    "violations.ended": "Ended", "violations.time": "Time", "violations.institution": "Institution", "violations.camera": "Camera",
    "violations.type": "Type", "violations.state": "State", "violations.snapshot": "Snapshot", "violations.clip": "Clip",
    "violations.download": "Download clip", "violations.none": "No violations",
    "severity.urgent": "Urgent", "severity.major": "Major", "severity.minor": "Minor",
    "violations.clip.waiting": "Still ongoing", "violations.clip.pending": "Waiting to cut", "violations.clip.requested": "Cutting",
    "violations.clip.unavailable": "Not recorded",
    "auth.username": "Username", "auth.password": "Password", "auth.login": "Log in", "auth.logout": "Log out",
    "auth.failed": "Wrong username or password",
    "tree.title": "Organisation",
    "grid.layout": "Layout", "grid.hint": "Click a camera on the left to play it in the selected tile",
    "grid.empty": "Empty tile",
    "tile.close": "Close", "tile.snapshot": "Snapshot",
    "state.online": "online", "state.connecting": "connecting", "state.stalled": "stalled", "state.offline": "offline",
    "state.stopped": "stopped", "state.unknown": "unknown",
    "player.connecting": "Connecting…", "player.webrtc": "WebRTC", "player.fmp4": "WebSocket fallback", "player.mjpeg": "Motion JPEG (decoded by the server)",
    "player.failed": "Cannot play",
    "role.gate": "Gate", "role.duty_room": "Duty room", "role.evacuation_route": "Evacuation route",
    "role.kitchen": "Kitchen", "role.other": "Other",
    "spot.title": "Remote spot check", "spot.pick": "Choose an institution to check", "spot.start": "Start spot check",
    "spot.camera": "Camera {n} of {total}", "spot.prev": "Previous", "spot.next": "Next",
    "spot.capture": "Take evidence", "spot.captured": "Evidence taken", "spot.result": "Result",
    "spot.pass": "Pass", "spot.issues": "Issues found", "spot.remark": "Remark", "spot.finish": "Finish spot check",
    "spot.finished": "Spot check recorded", "spot.history": "Spot checks", "spot.none": "No spot checks yet",
    "spot.by": "Inspector", "spot.at": "Time", "spot.evidence": "Evidence", "spot.noCameras": "This institution has no cameras",
    "spot.inProgress": "in progress",
    "playback.camera": "Camera", "playback.start": "Start", "playback.period": "Length", "playback.query": "Show",
    "playback.15m": "15 min", "playback.1h": "1 hour", "playback.6h": "6 hours", "playback.24h": "24 hours",
    "playback.timelineHint": "green: recorded, red: gap; click to jump", "playback.gap": "Gap",
    "playback.nothing": "Nothing was recorded in this period",
    "playback.unsupported": "This browser cannot play this codec; export the clip instead",
    "playback.export": "Export 1 min clip", "playback.exporting": "Exporting", "playback.download": "Download clip",
    "playback.exportFailed": "Export failed",
    "error.generic": "Something went wrong",
  },
};

// The kinds of violation come from the service (GET /api/violation-types): each detector declares its own
// labels, so the page holds no copy of them.
let violationKinds = [];

export function registerViolationTypes(types) {
  violationKinds = types.map((type) => type.type);
  for (const type of types) {
    for (const [language, label] of Object.entries(type.label)) {
      if (TEXT[language]) TEXT[language][`violation.${type.type}`] = label;
    }
  }
}

export function violationTypes() { return violationKinds; }

const listeners = new Set();
let current = localStorage.getItem("vms.lang") === "en" ? "en" : "zh-CN";

export function lang() { return current; }

export function t(key, values = {}) {
  const text = TEXT[current][key] ?? TEXT["zh-CN"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function setLang(next) {
  current = next === "en" ? "en" : "zh-CN";
  localStorage.setItem("vms.lang", current);
  applyStatic(document);
  for (const listener of listeners) listener(current);
}

export function onLangChange(listener) { listeners.add(listener); }

// Elements with data-i18n get their text from the dictionary.
export function applyStatic(root) {
  document.documentElement.lang = current;
  document.title = t("app.title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll(".lang")) el.textContent = current === "en" ? "中文" : "English";
}

export function formatTime(seconds) {
  return new Date(seconds * 1000).toLocaleString(current, { hour12: false });
}

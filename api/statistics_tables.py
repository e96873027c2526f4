"""Compliance statistics as tables with Chinese headers: what the CSV, the workbook and the printed report show,
built once so the three say the same."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.cases import HAZARD_KINDS, CaseState
from core.statistics import Statistics, UnitFigures, local_time
from detectors.registry import label as violation_label

Cell = str | int | float | None

UNIT_KINDS = {"bureau": "民政局", "town": "镇", "park": "园区", "subdistrict": "街道", "institution": "机构"}
ROLES = {"gate": "大门", "duty_room": "值班室", "evacuation_route": "疏散通道", "kitchen": "厨房", "other": "其他"}
STATES = {
    CaseState.OPEN: "待处理",
    CaseState.ACKNOWLEDGED: "已确认",
    CaseState.RECTIFYING: "整改中",
    CaseState.RECTIFIED: "待验收",
    CaseState.VERIFIED: "已验收",
    CaseState.DISMISSED: "误报撤销",
}


@dataclass(frozen=True)
class Table:
    sheet: str  # the workbook's sheet name (≤ 31 characters)
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    percent: frozenset[int] = frozenset()  # columns holding rates (fractions, shown as %)
    notes: list[str] = field(default_factory=list)


def kind_label(kind: str) -> str:
    """A case's kind: a detector's violation kind, or a hazard an inspector recorded."""
    return HAZARD_KINDS[kind][0] if kind in HAZARD_KINDS else violation_label(kind)


def title(stats: Statistics) -> str:
    return f"{stats.unit.name}视频监管合规统计（{stats.period.label}）"


def _rows(stats: Statistics) -> list[UnitFigures]:
    """The child units, then the unit itself as the total (an institution has no children: itself alone)."""
    return [*stats.children, stats.unit]


def _name(stats: Statistics, row: UnitFigures) -> str:
    return f"合计（{row.name}）" if row is stats.unit and stats.children else row.name


SUMMARY_HEADERS = [
    "单位", "类别", "机构数", "摄像机数", "应装摄像机", "已装摄像机", "安装率", "安装齐全机构", "在线率",
    "录像时长(小时)", "应录时长(小时)", "录像完整率", "隐患数", "未关闭", "超期", "已验收", "平均整改用时(小时)",
    "违规事件", "智能分析隐患", "误报撤销", "误报率", "应巡查(月)", "已巡查", "逾期未巡查", "镇街应巡查(季)",
    "镇街已巡查", "镇街逾期未巡查",
]  # fmt: skip
SUMMARY_PERCENT = frozenset({6, 8, 11, 20})


def summary(stats: Statistics) -> Table:
    rows: list[list[Cell]] = [
        [
            _name(stats, r),
            UNIT_KINDS.get(r.kind, r.kind),
            r.institutions,
            r.cameras,
            r.cameras_required,
            r.cameras_installed,
            r.installation_rate,
            r.institutions_complete,
            r.online_rate,
            r.recorded_hours,
            r.expected_hours,
            r.recording_completeness,
            r.cases,
            r.cases_open,
            r.cases_overdue,
            r.cases_verified,
            r.rectify_hours_mean,
            r.violations,
            r.violation_cases,
            r.false_alarms,
            r.false_alarm_rate,
            r.inspections_due,
            r.inspections_done,
            r.inspections_overdue,
            r.town_inspections_due,
            r.town_inspections_done,
            r.town_inspections_overdue,
        ]  # fmt: skip
        for r in _rows(stats)
    ]
    notes = [
        f"统计期间：{stats.period.label}（{stats.period.first_day} 至 {stats.period.last_day}，北京时间）；"
        f"生成时间：{local_time(stats.generated_at)}",
        "安装率：每个机构应装大门、值班室、疏散通道摄像机，有食堂的另装厨房摄像机。",
        "在线率：摄像机每分钟状态采样中在线的比例。",
        "录像完整率：录像索引中的时长 / 应录时长（自摄像机接入起，且只计录像保留期内）。",
        "误报率：误报撤销的隐患 / 智能分析产生的隐患。",
    ]
    return Table("概况", title(stats), SUMMARY_HEADERS, rows, SUMMARY_PERCENT, notes)


def cases_by_state(stats: Statistics) -> Table:
    headers = ["单位", *STATES.values(), "合计", "超期"]
    rows: list[list[Cell]] = [
        [_name(stats, r), *(r.cases_by_state.get(s.value, 0) for s in STATES), r.cases, r.cases_overdue]
        for r in _rows(stats)
    ]
    return Table("隐患状态", "隐患按状态（统计期内立案，当前状态）", headers, rows)


def _by_kind(stats: Statistics, counts: Sequence[dict[str, int]], sheet: str, heading: str) -> Table:
    units = _rows(stats)
    kinds = list(dict.fromkeys(k for c in counts[-1:] for k in c))
    headers = ["类型", *(_name(stats, r) for r in units)]
    rows: list[list[Cell]] = [[kind_label(k), *(c.get(k, 0) for c in counts)] for k in kinds]
    return Table(sheet, heading, headers, rows)


def cases_by_kind(stats: Statistics) -> Table:
    counts = [r.cases_by_kind for r in _rows(stats)]
    return _by_kind(stats, counts, "隐患类型", "隐患按类型（统计期内立案）")


def violations_by_kind(stats: Statistics) -> Table:
    counts = [r.violations_by_kind for r in _rows(stats)]
    return _by_kind(stats, counts, "违规事件", "违规事件按类型（统计期内发生）")


def cameras(stats: Statistics) -> Table:
    headers = ["镇街", "机构", "摄像机", "用途", "启用", "在线率", "录像时长(小时)", "应录时长(小时)", "录像完整率",
               "违规事件", "误报撤销"]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            c.town,
            c.institution,
            c.name,
            ROLES.get(c.role, c.role),
            "是" if c.enabled else "否",
            c.online_rate,
            c.recorded_hours,
            c.expected_hours,
            c.recording_completeness,
            c.violations,
            c.false_alarms,
        ]  # fmt: skip
        for c in stats.cameras
    ]
    return Table("摄像机", "摄像机在线与录像", headers, rows, frozenset({5, 8}))


def missing(stats: Statistics) -> Table:
    rows: list[list[Cell]] = [[m.institution, ROLES.get(m.role, m.role)] for m in stats.unit.missing]
    return Table("缺装摄像机", "未安装的必装摄像机", ["机构", "缺少的摄像机"], rows)


def tables(stats: Statistics) -> list[Table]:
    return [
        summary(stats), cases_by_state(stats), cases_by_kind(stats), violations_by_kind(stats), cameras(stats),
        missing(stats),
    ]  # fmt: skip


def percent(value: Cell) -> str:
    """A rate as people read it (75.0%), or a dash where there is nothing to measure."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"

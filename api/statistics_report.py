"""The printable report (监管月报): one HTML page with a print style sheet, which a browser prints or saves as
PDF. No script and no inline style (the UI's Content-Security-Policy allows neither); its charts are SVG drawn
here with plain attributes, so they print sharp and need no chart library."""

from __future__ import annotations

from html import escape

from api.statistics_tables import (
    Table,
    cases_by_kind,
    cases_by_state,
    missing,
    percent,
    summary,
    title,
    violations_by_kind,
)
from core.statistics import Statistics, UnitFigures, local_time

# The columns of the summary a printed page has room for.
_PRINTED = ["单位", "摄像机数", "安装率", "在线率", "录像完整率", "隐患数", "未关闭", "超期", "平均整改用时(小时)",
            "违规事件", "误报率", "应巡查(月)", "已巡查"]  # fmt: skip
_RATES = (("installation_rate", "安装率", "#2f6fb5"), ("online_rate", "在线率", "#3a9a5b"),
          ("recording_completeness", "录像完整率", "#d08a1e"))  # fmt: skip


def report(stats: Statistics) -> str:
    unit = stats.unit
    heading = escape(title(stats))
    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{heading}</title>",
        '<link rel="stylesheet" href="/ui/statistics-report.css"></head><body class="report">',
        f"<h1>{heading}</h1>",
        f'<p class="meta">统计期间：{escape(stats.period.label)}（{stats.period.first_day} 至 {stats.period.last_day}，'
        f"北京时间）　生成时间：{local_time(stats.generated_at)}</p>",
        '<p class="noprint">用浏览器的“打印”（Ctrl+P）打印本报告或另存为 PDF。</p>',
        "<h2>一、总体情况</h2>",
        _overview(unit),
    ]
    if stats.children:
        parts += ["<h2>二、各单位对比</h2>", _chart(stats.children), _table(summary(stats), _PRINTED)]
    parts += [
        "<h2>三、隐患</h2>",
        _table(cases_by_state(stats)),
        _table(cases_by_kind(stats)),
        "<h2>四、违规事件</h2>",
        _table(violations_by_kind(stats)),
        "<h2>五、未安装的必装摄像机</h2>",
        _table(missing(stats)) if unit.missing else "<p>各机构必装摄像机均已安装。</p>",
        '<section class="notes"><h2>说明</h2><ul>',
        *(f"<li>{escape(note)}</li>" for note in summary(stats).notes[1:]),
        "</ul></section>",
        '<p class="sign">填报单位：__________　审核人：__________　日期：__________</p>',
        "</body></html>",
    ]
    return "\n".join(parts)


def _overview(u: UnitFigures) -> str:
    hours = "—" if u.rectify_hours_mean is None else f"{u.rectify_hours_mean:g} 小时"
    items = [
        ("机构", f"{u.institutions} 个"),
        ("摄像机", f"{u.cameras} 路"),
        ("安装率", f"{percent(u.installation_rate)}（应装 {u.cameras_required}，已装 {u.cameras_installed}）"),
        ("在线率", percent(u.online_rate)),
        ("录像完整率", f"{percent(u.recording_completeness)}（{u.recorded_hours:g} / {u.expected_hours:g} 小时）"),
        ("隐患", f"{u.cases} 起，未关闭 {u.cases_open}，超期 {u.cases_overdue}，已验收 {u.cases_verified}"),
        ("平均整改用时", hours),
        ("违规事件", f"{u.violations} 起"),
        ("误报率", f"{percent(u.false_alarm_rate)}（{u.false_alarms} / {u.violation_cases}）"),
        ("机构巡查", f"应 {u.inspections_due}，已 {u.inspections_done}，逾期 {u.inspections_overdue}"),
        ("镇街巡查", f"应 {u.town_inspections_due}，已 {u.town_inspections_done}，逾期 {u.town_inspections_overdue}"),
    ]
    cells = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in items)
    return f'<dl class="figures">{cells}</dl>'


def _table(table: Table, columns: list[str] | None = None) -> str:
    picked = [table.headers.index(c) for c in columns] if columns else list(range(len(table.headers)))
    head = "".join(f"<th>{escape(table.headers[i])}</th>" for i in picked)
    body = []
    for row in table.rows:
        cells = []
        for i in picked:
            value = row[i]
            text = (
                percent(value)
                if i in table.percent
                else ("—" if value is None else f"{value:g}" if isinstance(value, float) else str(value))
            )
            cells.append(f"<td>{escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<table><caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _chart(rows: list[UnitFigures]) -> str:
    """Grouped bars of the three rates per unit, 0–100 %."""
    bar, gap, left, top, height = 24, 36, 40, 28, 180
    width = max(360, left + len(rows) * (3 * bar + gap) + gap)  # room for the legend however few the units
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {top + height + 40}" width="{width}" height="{top + height + 40}"'
        ' role="img" aria-label="安装率、在线率、录像完整率">'
    ]
    for pct in (0, 50, 100):
        y = top + height - height * pct / 100
        out.append(f'<line x1="{left}" x2="{width}" y1="{y}" y2="{y}" stroke="#ccc"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4}" text-anchor="end" font-size="10">{pct}%</text>')
    for n, row in enumerate(rows):
        x0 = left + gap + n * (3 * bar + gap)
        for k, (name, _, colour) in enumerate(_RATES):
            value = getattr(row, name)
            h = height * (value or 0)
            out.append(
                f'<rect x="{x0 + k * bar}" y="{top + height - h}" width="{bar - 2}" height="{h}" fill="{colour}">'
                f"<title>{escape(row.name)} {escape(_RATES[k][1])} {percent(value)}</title></rect>"
            )
        out.append(
            f'<text x="{x0 + 1.5 * bar}" y="{top + height + 14}" text-anchor="middle" font-size="11">'
            f"{escape(row.name)}</text>"
        )
    for k, (_, label, colour) in enumerate(_RATES):
        out.append(f'<rect x="{left + k * 90}" y="4" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{left + k * 90 + 14}" y="13" font-size="11">{label}</text>')
    out.append("</svg>")
    return "".join(out)

"""What a notifier is told: a `Notice`, built by whoever raises it (the service for violations, the case desk for
cases) from plain values, so this package knows nothing of violations or cases."""

from __future__ import annotations

from dataclasses import dataclass

from core.config.notifications import Event, Severity

SEVERITY_ZH: dict[str, str] = {"urgent": "紧急", "major": "重要", "minor": "一般"}


@dataclass(frozen=True, slots=True)
class Notice:
    event: Event
    ref: str  # the thing it is about, e.g. "violation:12", "case:7": each notifier is told once per event of it
    title: str  # one line: 人员跌倒 · 汇龙镇敬老院
    text: str  # a few lines of detail
    severity: Severity
    institution: str | None  # the institution's id: notifiers receive the notices of their units' subtrees
    url: str | None = None  # where the web UI shows it


def case_notice(
    event: Event,
    *,
    case_id: int,
    kind_label: str,
    severity: Severity,
    institution_id: str,
    institution_name: str,
    deadline: str,
    detail: str = "",
    public_url: str | None = None,
) -> Notice:
    """The notice of a case opened (urgent_case_opened) or past its deadline (case_overdue), for the case desk."""
    opened = event == "urgent_case_opened"
    title = f"{'新隐患' if opened else '隐患逾期未整改'}：{kind_label} · {institution_name}"
    lines = [f"机构：{institution_name}", f"隐患：{kind_label}（{SEVERITY_ZH.get(severity, severity)}）"]
    lines.append(f"整改期限：{deadline}")
    if detail:
        lines.append(detail)
    url = f"{public_url}/ui/#/cases?id={case_id}" if public_url else None
    return Notice(event, f"case:{case_id}", title, "\n".join(lines), severity, institution_id, url)

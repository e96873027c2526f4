"""service/case_notices.py: an urgent case opened and any case overdue reach the notifiers that take them; a case
that is not urgent is not announced when it opens."""

from __future__ import annotations

from pathlib import Path

from core.organisation import OrgTree
from core.store.cases import Case
from core.store.database import Database
from core.store.notifications import NotificationRepository
from notify.service import Notifications
from service.case_notices import CaseNotices
from service.configuration import parse_config


def _case(case_id: int, severity: str, kind: str = "fall") -> Case:
    return Case(
        id=case_id, institution_id="hl-jly", camera_id="hl-corridor", kind=kind, zone=None, severity=severity,
        description=None, source="violation", source_id="12", state="open", assignee_id=None, assignee=None,
        opened_at=1_764_000_000.0, opened_by=None, deadline_at=1_764_086_400.0, rectifying_at=None, closed_at=None,
        dismiss_reason=None, overdue_at=None, escalated_at=None, escalated_to="hl", updated_at=1_764_000_000.0,
        violations=1,
    )  # fmt: skip


def test_cases_reach_the_notifiers(tmp_path: Path) -> None:
    config = parse_config(
        {
            "organisation": {
                "id": "qd",
                "name": "启东市民政局",
                "towns": [{"id": "hl", "name": "汇龙镇", "institutions": [{"id": "hl-jly", "name": "汇龙镇敬老院"}]}],
            },
            "notifications": {
                "public_url": "https://vms.example.cn",
                "notifiers": [
                    {"id": "all", "type": "webhook", "url": "http://127.0.0.1:9/a", "severities": ["urgent", "major"]}
                ],
            },
        }
    )
    db = Database(tmp_path / "vms.db")
    db.migrate()
    repository = NotificationRepository(db)
    tree = OrgTree(config)
    notifications = Notifications(repository, lambda: config.notifications, lambda: tree.contains)
    listener = CaseNotices(notifications, lambda: tree, lambda: config.notifications.public_url)
    listener.opened(_case(1, "urgent"))
    listener.opened(_case(2, "major"))  # not urgent: told only once overdue
    listener.overdue(_case(2, "major", kind="gas_alarm_missing"))
    told = {(d.event, d.ref): d for d in repository.find()}
    assert set(told) == {("urgent_case_opened", "case:1"), ("case_overdue", "case:2")}
    opened = told[("urgent_case_opened", "case:1")]
    assert opened.title == "新隐患：人员跌倒 · 汇龙镇敬老院"
    assert opened.url == "https://vms.example.cn/ui/#/cases?id=1"
    overdue = told[("case_overdue", "case:2")]
    assert overdue.title == "隐患逾期未整改：燃气报警器缺失或故障 · 汇龙镇敬老院"
    assert "已上报：汇龙镇" in overdue.text and "整改期限：" in overdue.text

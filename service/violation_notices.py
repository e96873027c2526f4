"""Violations starting, told to the notifiers (event `violation_started`, with the kind's severity): the link
between the detectors' live feed and the notifications, neither of which knows the other.

The feed is the live one the UI reads (a violation's start is published once it is stored); notices are raised
in a thread, as they write to the store. Which violations reach whom is the notifiers' configuration: by
default none take `violation_started` (cases raise `urgent_case_opened` instead), a notifier that lists it gets
the starts of the severities it lists (urgent by default).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from core.organisation import OrgTree
from core.store.violations import ViolationRecord
from detectors.registry import KINDS
from detectors.violations.feed import ViolationFeed
from notify.notice import Notice
from notify.service import Notifications

log = logging.getLogger(__name__)


def violation_notice(
    record: ViolationRecord, tree: OrgTree, camera_name: str | None, public_url: str | None
) -> Notice | None:
    kind = KINDS.get(record.type)
    if kind is None:
        return None
    institution = tree.units.get(record.institution_id)
    where = institution.name if institution else record.institution_id
    town = tree.town_of(record.institution_id)
    started = dt.datetime.fromtimestamp(record.started_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    lines = [
        f"机构：{(town.name + ' ') if town else ''}{where}",
        f"摄像机：{camera_name or record.camera_id}" + (f"（{record.zone}）" if record.zone else ""),
        f"时间：{started}",
    ]
    url = f"{public_url}/ui/#/violations?id={record.id}" if public_url else None
    return Notice(
        "violation_started",
        f"violation:{record.id}",
        f"{kind.zh} · {where}",
        "\n".join(lines),
        kind.severity,
        record.institution_id,
        url,
    )


class ViolationNotices:
    """Listens to the violation feed while the service runs."""

    def __init__(
        self,
        feed: ViolationFeed,
        notifications: Notifications,
        tree: Callable[[], OrgTree],
        camera_name: Callable[[str], str | None],
        public_url: Callable[[], str | None],
    ) -> None:
        self._feed = feed
        self._notifications = notifications
        self._tree = tree
        self._camera_name = camera_name
        self._public_url = public_url
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="violation-notices")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        async with self._feed.listen() as queue:
            while True:
                item = await queue.get()
                if item.phase != "started":
                    continue  # a reopened violation was told when it first started
                record = item.violation
                notice = violation_notice(record, self._tree(), self._camera_name(record.camera_id), self._public_url())
                if notice is None:
                    continue
                try:
                    await asyncio.to_thread(self._notifications.notify, notice)
                except Exception:
                    log.exception("notifications: violation %d could not be queued", record.id)

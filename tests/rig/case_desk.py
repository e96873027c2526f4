"""A case desk (service/cases.CaseDesk) over a store, for the fast tier: one institution, a listener that keeps
what it was told, deadlines as given."""

from __future__ import annotations

from pathlib import Path

from core.config.cases import CasesConfig, DeadlineHours
from core.organisation import OrgTree
from core.store import Store
from detectors.violations.feed import ViolationFeed
from recordings.evidence import EvidenceClips
from service.cases import CaseDesk
from service.configuration import parse_config

ONE_INSTITUTION = OrgTree(
    parse_config(
        {
            "organisation": {
                "id": "qd",
                "name": "局",
                "towns": [{"id": "hl", "name": "镇", "institutions": [{"id": "hl-jly", "name": "院"}]}],
            }
        }
    )
)


class Told:
    """A case listener that keeps (what, case id) of each call."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def opened(self, case: object) -> None:
        self.seen.append(("opened", case.id))  # type: ignore[attr-defined]

    def overdue(self, case: object) -> None:
        self.seen.append(("overdue", case.id))  # type: ignore[attr-defined]


def case_desk(
    store: Store, tmp_path: Path, severity: str = "urgent", hours: float | None = None
) -> tuple[CaseDesk, Told]:
    """A desk whose every kind has `severity`; `hours`: one deadline for every severity (None: the defaults)."""
    clips = EvidenceClips(store.recordings, store.violations, lambda: tmp_path, tmp_path, lambda: 3600.0)
    config = (
        CasesConfig()
        if hours is None
        else CasesConfig(deadline_hours=DeadlineHours(urgent=hours, major=hours, minor=hours))
    )
    desk = CaseDesk(store, lambda: config, lambda: ONE_INSTITUTION, lambda kind: severity, clips, ViolationFeed())
    told = Told()
    desk.add_listener(told)
    return desk, told

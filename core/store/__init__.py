"""The store: a repository layer over SQLite (WAL) with schema migrations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.store.api_tokens import ApiTokenRepository
from core.store.audit import AuditRepository
from core.store.cameras import CameraRepository
from core.store.cases import CaseRepository
from core.store.database import Database
from core.store.exports import ExportRepository
from core.store.health import HealthRepository
from core.store.inspections import InspectionRepository
from core.store.login_throttle import LoginThrottle
from core.store.notifications import NotificationRepository
from core.store.organisation import OrgRepository
from core.store.recordings import RecordingRepository
from core.store.reports import ReportRepository
from core.store.spot_checks import SpotCheckRepository
from core.store.statistics import StatisticsRepository
from core.store.uplink import UplinkRepository
from core.store.users import SessionRepository, UserRepository
from core.store.violations import ViolationRepository


@dataclass(frozen=True)
class Store:
    """The repositories the service uses, over one database."""

    db: Database
    org: OrgRepository
    cameras: CameraRepository
    health: HealthRepository
    users: UserRepository
    sessions: SessionRepository
    api_tokens: ApiTokenRepository
    login_throttle: LoginThrottle
    audit: AuditRepository
    notifications: NotificationRepository
    recordings: RecordingRepository
    exports: ExportRepository
    violations: ViolationRepository
    spot_checks: SpotCheckRepository
    uplink: UplinkRepository
    cases: CaseRepository
    inspections: InspectionRepository
    reports: ReportRepository
    statistics: StatisticsRepository

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating if needed) and migrate the database at `path`."""
        db = Database(path)
        db.migrate()
        return cls(
            db=db,
            org=OrgRepository(db),
            cameras=CameraRepository(db),
            health=HealthRepository(db),
            users=UserRepository(db),
            sessions=SessionRepository(db),
            api_tokens=ApiTokenRepository(db),
            login_throttle=LoginThrottle(db),
            audit=AuditRepository(db),
            notifications=NotificationRepository(db),
            recordings=RecordingRepository(db),
            exports=ExportRepository(db),
            violations=ViolationRepository(db),
            spot_checks=SpotCheckRepository(db),
            uplink=UplinkRepository(db),
            cases=CaseRepository(db),
            inspections=InspectionRepository(db),
            reports=ReportRepository(db),
            statistics=StatisticsRepository(db),
        )

    def close(self) -> None:
        self.db.close()


__all__ = ["Database", "Store"]

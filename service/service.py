"""The running service: configuration, store, camera supervisor and health history, started and stopped together."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from core.config import Config, ConfigError
from core.organisation import OrgTree
from core.redaction import RedactingFilter
from core.roles import Role
from core.signed_urls import UrlSigner
from core.store import Store
from core.store.login_throttle import LoginPolicy
from core.store.reports import ReportPolicy
from detectors.registry import KINDS, declare_kinds
from detectors.violations.feed import FeedItem, ViolationFeed
from notify.service import Notifications
from recordings.service import RecordingService
from service.camera_runtime import CameraRuntime
from service.case_notices import CaseNotices
from service.cases import CaseDesk
from service.config_audit import Requester, audit_reload, describe, refused
from service.config_secrets import config_secrets
from service.configuration import load_config
from service.health_history import HealthHistory
from service.local_cameras import LocalCameras
from service.public_reports import ReportDesk
from service.supervisor import Changes
from service.violation_notices import ViolationNotices
from service.workers.pool import WorkerPool, worker_count
from streams.live.snapshot import SnapshotCache
from streams.live.viewers import LiveViewers
from uplink.service import UplinkService

log = logging.getLogger(__name__)

ADMIN_PASSWORD_ENV = "VMS_ADMIN_PASSWORD"


@dataclass(frozen=True)
class Directory:
    """The configuration and the organisation index built from it, swapped together on reload."""

    config: Config
    tree: OrgTree

    @classmethod
    def of(cls, config: Config) -> Directory:
        return cls(config, OrgTree(config))

    @cached_property
    def camera_names(self) -> dict[str, str]:
        """Camera id → name, built once per configuration: a page of 100 rows looks each one up."""
        return {camera.id: camera.name for camera in self.config.cameras}


class Service:
    """Everything the API reads from. Built from a validated Config; `reload` applies a changed file."""

    def __init__(
        self, config: Config, config_path: Path | None = None, log_filter: RedactingFilter | None = None
    ) -> None:
        self.directory = Directory.of(config)
        self.config_path = config_path
        declare_kinds(config.cameras)  # the violation types the configuration names, for the store and the API
        self.store = Store.open(config.storage.database_path)
        login = config.server.login
        self.store.login_throttle.policy = LoginPolicy(
            account_failures=login.lock_after,
            account_window_s=login.within_minutes * 60,
            lock_s=login.lock_minutes * 60,
            client_failures=login.address_failures,
            client_window_s=login.address_minutes * 60,
        )
        # Detectors run beside every camera; violations go to the store and to live listeners, and their
        # video is held and cut into evidence clips by the recordings side, which says when a clip is cut.
        self.violation_feed = ViolationFeed()
        self.recordings = RecordingService(config, self.store, clip_settled=self._clip_settled)
        # The cameras' pipelines (source, recorder, detectors, always-on pushes): in worker processes, one per
        # core by default, or in this process.
        processes = worker_count(config.workers)
        self.cameras: CameraRuntime = (
            WorkerPool(config, processes, self.violation_feed, self._clip_settled, self.store)
            if processes
            else LocalCameras(config, self.store, self.violation_feed, self.recordings.evidence)
        )
        self.history = HealthHistory(self.store.health, self.cameras.snapshots)
        self.live = LiveViewers(self.cameras, lambda: self.config.live)
        self.snapshots = SnapshotCache()
        # Upper platforms: violations forwarded, with links to their evidence that carry their own permission.
        self.urls = UrlSigner.from_file(config.storage.data_dir / "url-signing.key")
        self.uplink = UplinkService(
            self.store,
            lambda: self.directory,
            KINDS.get,
            self.urls,
            self.cameras.push_statuses,
            self.cameras,
            self.recordings,
        )
        # Cases (隐患): each violation opens one or joins its open one; closing a case lets its video go.
        self.cases = CaseDesk(
            self.store,
            lambda: self.config.cases,
            lambda: self.tree,
            _severity,
            self.recordings.evidence,
            self.violation_feed,
        )
        # Public hazard reports (隐患举报): accepting one opens a case through the case desk.
        self.reports = ReportDesk(self.store, self.cases)
        reports = config.public_reports
        self.store.reports.policy = ReportPolicy(per_client=reports.per_address, window_s=reports.within_minutes * 60)
        # Notifications: notices (urgent violations starting; cases, through `notifications.notify`) delivered
        # to the configured webhooks, group robots and SMS gateways, each message stored and retried.
        self.notifications = Notifications(self.store.notifications, lambda: self.config.notifications, self._contains)
        self.violation_notices = ViolationNotices(
            self.violation_feed,
            self.notifications,
            lambda: self.tree,
            self._camera_name,
            lambda: self.config.notifications.public_url,
        )
        self.cases.add_listener(
            CaseNotices(self.notifications, lambda: self.tree, lambda: self.config.notifications.public_url)
        )
        self._log_filter = log_filter
        self._register_secrets(config)

    @property
    def config(self) -> Config:
        return self.directory.config

    @property
    def tree(self) -> OrgTree:
        return self.directory.tree

    async def start(self) -> None:
        await asyncio.to_thread(self._sync_store, self.directory)
        await asyncio.to_thread(self._ensure_admin)
        await asyncio.to_thread(self.store.violations.close_all_active, time.time(), "service restarted")
        await self.recordings.start()
        await self.notifications.start()
        self.violation_notices.start()  # before the cameras: no violation starts unheard
        await self.cameras.apply(self.config)
        await self.uplink.apply()
        self.history.start()
        self.cases.start()
        log.info("service: %d camera(s) configured", len(self.config.cameras))

    async def stop(self) -> None:
        await self.cases.stop()
        await self.live.close_all()
        await self.uplink.stop()
        final = await self.cameras.stop()
        await self.recordings.stop()
        await self.history.stop(final)
        await self.violation_notices.stop()
        await self.notifications.stop()
        self.store.close()

    async def reload(self, by: Requester | None = None) -> Changes | None:
        """Re-read the configuration file; a bad file is reported and the running configuration kept. Either way
        the audit log says so, with `by` (None: the SIGHUP)."""
        if self.config_path is None:
            log.warning("reload: the service runs on embedded defaults; nothing to reload")
            return None
        try:
            config = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as error:
            log.error("reload refused, running configuration kept: %s", error)
            outcome = refused([p.path for p in error.problems])
            await asyncio.to_thread(audit_reload, self.store.audit, self.config_path, by, outcome)
            return None
        for section in ("server", "storage", "workers"):
            if getattr(config, section) != getattr(self.config, section):
                log.warning("reload: changes to '%s' take effect at the next restart", section)
        self._register_secrets(config)
        if config.recordings_dir != self.config.recordings_dir:
            log.warning("reload: a new recordings directory takes effect at the next restart")
        recording = config.recording.model_copy(update={"directory": self.config.recording.directory})
        config = config.model_copy(
            update={
                "server": self.config.server,
                "storage": self.config.storage,
                "workers": self.config.workers,
                "recording": recording,
            }
        )
        declare_kinds(config.cameras)
        directory = Directory.of(config)
        await asyncio.to_thread(self._sync_store, directory)
        self.directory = directory  # one assignment: readers see the old or the new, never a mix
        self.recordings.reconfigure(config)
        await self.uplink.apply()
        changes = await self.cameras.apply(config)
        await asyncio.to_thread(audit_reload, self.store.audit, self.config_path, by, f"applied: {describe(changes)}")
        return changes

    def reload_in_background(self) -> None:
        """For a signal handler: reload, and log whatever goes wrong rather than lose it."""
        task = asyncio.ensure_future(self.reload())
        task.add_done_callback(_log_failure)

    def _contains(self) -> Callable[[str, str], bool]:
        return self.tree.contains

    def _camera_name(self, camera_id: str) -> str | None:
        return next((camera.name for camera in self.config.cameras if camera.id == camera_id), None)

    def _clip_settled(self, violation_id: int) -> None:
        record = self.store.violations.get(violation_id)
        if record is not None:
            self.violation_feed.publish(FeedItem("updated", record))

    def _sync_store(self, directory: Directory) -> None:
        self.store.org.sync(directory.tree)
        self.store.cameras.sync(directory.config.cameras)

    def _register_secrets(self, config: Config) -> None:
        """Every secret of the configuration, as written and URL-decoded, masked in every log line."""
        if self._log_filter is not None:
            self._log_filter.add_secrets(config_secrets(config))

    def _ensure_admin(self) -> None:
        """A fresh store gets one administrator at the root, so a newcomer can log in at once."""
        if self.store.users.count():
            return
        password = os.environ.get(ADMIN_PASSWORD_ENV) or secrets.token_urlsafe(12)
        self.store.users.create("admin", password, self.tree.root_id, role=Role.ADMIN, display_name="管理员")
        if ADMIN_PASSWORD_ENV in os.environ:
            log.info("created user 'admin' with the password from %s", ADMIN_PASSWORD_ENV)
            return
        secret_file = self.config.storage.data_dir / "initial-admin-password.txt"
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        log.warning("created user 'admin'; its initial password is in %s", secret_file)


def _severity(kind: str) -> str:
    """A violation kind's severity, which sets its case's deadline (a kind no longer declared: major)."""
    known = KINDS.get(kind)
    return known.severity if known else "major"


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("reload failed", exc_info=task.exception())

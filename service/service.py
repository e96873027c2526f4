"""The running service: configuration, store, camera supervisor and health history, started and stopped together."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pydantic import SecretStr

from core.config import Config, ConfigError
from core.organisation import OrgTree
from core.redaction import RedactingFilter
from core.signed_urls import UrlSigner
from core.store import Store
from detectors.pipeline.factory import DetectionFactory
from detectors.registry import KINDS, declare_kinds
from detectors.violations.feed import FeedItem, ViolationFeed
from detectors.violations.recorder import ViolationRecorder
from recordings.service import RecordingService
from service.configuration import load_config
from service.health_history import HealthHistory
from service.supervisor import Changes, Supervisor
from streams.live.snapshot import SnapshotCache
from streams.live.viewers import LiveViewers
from uplink.push import PushFactory
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


class Service:
    """Everything the API reads from. Built from a validated Config; `reload` applies a changed file."""

    def __init__(
        self, config: Config, config_path: Path | None = None, log_filter: RedactingFilter | None = None
    ) -> None:
        self.directory = Directory.of(config)
        self.config_path = config_path
        declare_kinds(config.cameras)  # the violation types the configuration names, for the store and the API
        self.store = Store.open(config.storage.database_path)
        # Detectors run beside every camera; violations go to the store and to live listeners, and their
        # video is held and cut into evidence clips by the recordings side, which says when a clip is cut.
        self.violation_feed = ViolationFeed()
        self.recordings = RecordingService(config, self.store, clip_settled=self._clip_settled)
        self.detection = DetectionFactory(
            ViolationRecorder(self.store.violations, self.violation_feed, clips=self.recordings.evidence)
        )
        # Always-on pushes to upper platforms ride on the camera's one connection, like the recorder.
        self.pushes = PushFactory(lambda: self.config.uplink.platforms)
        self.supervisor = Supervisor(config.ingest, consumers=[self.recordings.recorders, self.detection, self.pushes])
        self.history = HealthHistory(self.store.health, self.supervisor.snapshots)
        self.live = LiveViewers(self.supervisor, lambda: self.config.live)
        self.snapshots = SnapshotCache()
        # Upper platforms: violations forwarded, with links to their evidence that carry their own permission.
        self.urls = UrlSigner.from_file(config.storage.data_dir / "url-signing.key")
        self.uplink = UplinkService(
            self.store, lambda: self.directory, KINDS.get, self.urls, self.pushes, self.supervisor, self.recordings
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
        await self.supervisor.apply(self.config.cameras)
        await self.uplink.apply()
        self.history.start()
        log.info("service: %d camera(s) configured", len(self.config.cameras))

    async def stop(self) -> None:
        await self.live.close_all()
        await self.uplink.stop()
        final = await self.supervisor.stop_all()
        await self.recordings.stop()
        await self.history.stop(final)
        self.store.close()

    async def reload(self) -> Changes | None:
        """Re-read the configuration file; a bad file is reported and the running configuration kept."""
        if self.config_path is None:
            log.warning("reload: the service runs on embedded defaults; nothing to reload")
            return None
        try:
            config = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as error:
            log.error("reload refused, running configuration kept: %s", error)
            return None
        for section in ("server", "storage"):
            if getattr(config, section) != getattr(self.config, section):
                log.warning("reload: changes to '%s' take effect at the next restart", section)
        self._register_secrets(config)
        if config.recordings_dir != self.config.recordings_dir:
            log.warning("reload: a new recordings directory takes effect at the next restart")
        recording = config.recording.model_copy(update={"directory": self.config.recording.directory})
        config = config.model_copy(
            update={"server": self.config.server, "storage": self.config.storage, "recording": recording}
        )
        declare_kinds(config.cameras)
        directory = Directory.of(config)
        await asyncio.to_thread(self._sync_store, directory)
        self.directory = directory  # one assignment: readers see the old or the new, never a mix
        self.supervisor.reconfigure(config.ingest)
        self.recordings.reconfigure(config)
        await self.uplink.apply()
        return await self.supervisor.apply(config.cameras)

    def reload_in_background(self) -> None:
        """For a signal handler: reload, and log whatever goes wrong rather than lose it."""
        task = asyncio.ensure_future(self.reload())
        task.add_done_callback(_log_failure)

    def _clip_settled(self, violation_id: int) -> None:
        record = self.store.violations.get(violation_id)
        if record is not None:
            self.violation_feed.publish(FeedItem("updated", record))

    def _sync_store(self, directory: Directory) -> None:
        self.store.org.sync(directory.tree)
        self.store.cameras.sync(directory.config.cameras)

    def _register_secrets(self, config: Config) -> None:
        """Every secret of the configuration, as written and URL-decoded, masked in every log line."""
        if self._log_filter is None:
            return
        found: list[SecretStr | None] = []
        for cam in config.cameras:
            found += [cam.source.password, *cam.source.query_secrets.values()]
        for platform in config.uplink.platforms:
            found += [platform.events.secret if platform.events else None]
            found += [secret for push in platform.push for secret in (push.password, push.stream_key)]
            found += [platform.gb28181.password if platform.gb28181 else None]
        self._log_filter.add_secrets(
            text
            for secret in found
            if secret is not None
            for text in {secret.get_secret_value(), unquote(secret.get_secret_value())}
        )

    def _ensure_admin(self) -> None:
        """A fresh store gets one administrator at the root, so a newcomer can log in at once."""
        if self.store.users.count():
            return
        password = os.environ.get(ADMIN_PASSWORD_ENV) or secrets.token_urlsafe(12)
        self.store.users.create("admin", password, self.tree.root_id, role="admin", display_name="管理员")
        if ADMIN_PASSWORD_ENV in os.environ:
            log.info("created user 'admin' with the password from %s", ADMIN_PASSWORD_ENV)
            return
        secret_file = self.config.storage.data_dir / "initial-admin-password.txt"
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        log.warning("created user 'admin'; its initial password is in %s", secret_file)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("reload failed", exc_info=task.exception())

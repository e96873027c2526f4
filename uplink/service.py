"""The uplink side of the service: per upper platform a forwarder that takes events and a GB/T 28181 cascade,
the on-demand pushes, and the health of all; each rebuilt on a reload where its platform's settings changed.
(The always-on pushes are consumers of each camera stream, through `PushFactory`, where its pipeline runs.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.config.uplink import PlatformConfig, StreamPushConfig
from core.signed_urls import UrlSigner
from core.store import Store
from core.store.uplink import DeliveryStats
from uplink.forwarder import EventForwarder
from uplink.gb28181.agent import CascadeAgent, CascadeStatus
from uplink.messages import Catalogue, KindLabels
from uplink.push import PushStatus, StreamPusher
from uplink.sources import CameraStreams, Recordings


class PushRefused(Exception):
    """An on-demand push that cannot be started; the message says why."""


@dataclass(frozen=True)
class PlatformHealth:
    id: str
    name: str
    events_url: str | None
    events: DeliveryStats | None
    last_attempt_at: float | None
    pushes: list[PushStatus]
    gb28181: CascadeStatus | None
    gb28181_error: str | None  # why the cascade is not running, where it cannot


class UplinkService:
    def __init__(
        self,
        store: Store,
        catalogue: Callable[[], Catalogue],
        kind: Callable[[str], KindLabels | None],
        urls: UrlSigner,
        push_statuses: Callable[[], list[PushStatus]],
        streams: CameraStreams,
        recordings: Recordings,
    ) -> None:
        self._store = store
        self._catalogue = catalogue
        self._kind = kind
        self._urls = urls
        self._push_statuses = push_statuses  # the always-on pushes'
        self._streams = streams
        self._recordings = recordings
        # Stable for this installation (its data), unlike the event ids that start again with a new database.
        self.installation = urls.identity()
        self._forwarders: dict[str, EventForwarder] = {}
        self._on_demand: dict[tuple[str, str], StreamPusher] = {}
        self._cascades: dict[str, CascadeAgent] = {}

    @property
    def platforms(self) -> list[PlatformConfig]:
        return list(self._catalogue().config.uplink.platforms)

    async def apply(self) -> None:
        """Bring the forwarders and on-demand pushes in line with the configured platforms."""
        wanted = {p.id: p for p in self.platforms if p.events is not None}
        for platform_id in list(self._forwarders):
            current = self._forwarders[platform_id]
            if wanted.get(platform_id) != current.platform:
                await current.stop()
                del self._forwarders[platform_id]
        for platform_id, platform in wanted.items():
            if platform_id not in self._forwarders:
                forwarder = EventForwarder(
                    platform, self._store, self._catalogue, self._kind, self._urls, self.installation
                )
                forwarder.start()
                self._forwarders[platform_id] = forwarder
        for key, pusher in list(self._on_demand.items()):
            if self._push(*key) != pusher.push:
                pusher.stop()  # its configuration went, or changed
                del self._on_demand[key]
        await self._apply_cascades()

    async def _apply_cascades(self) -> None:
        wanted = {p.id: p for p in self.platforms if p.gb28181 is not None}
        for platform_id in list(self._cascades):
            if wanted.get(platform_id) != self._cascades[platform_id].platform:
                await self._cascades.pop(platform_id).stop()
        for platform_id, platform in wanted.items():
            if platform_id not in self._cascades:
                agent = CascadeAgent(
                    platform, self._store, self._catalogue, self._kind, self._streams, self._recordings
                )
                agent.start()
                self._cascades[platform_id] = agent

    async def stop(self) -> None:
        await asyncio.gather(
            *(f.stop() for f in self._forwarders.values()), *(c.stop() for c in self._cascades.values())
        )
        self._forwarders.clear()
        self._cascades.clear()
        for pusher in self._on_demand.values():
            pusher.stop()
        self._on_demand.clear()

    def _push(self, platform_id: str, camera_id: str) -> StreamPushConfig | None:
        """The camera's on-demand push to the platform (else its first push, to say why it cannot start)."""
        platform = next((p for p in self.platforms if p.id == platform_id), None)
        pushes = [push for push in platform.push if push.camera == camera_id] if platform else []
        return next((push for push in pushes if push.mode == "on_demand"), pushes[0] if pushes else None)

    def start_push(self, platform_id: str, camera_id: str) -> PushStatus:
        """Start an on-demand push (again, where its camera reconnected meanwhile); PushRefused says why not."""
        push = self._push(platform_id, camera_id)
        if push is None:
            raise PushRefused(f"platform {platform_id!r} has no push of camera {camera_id!r}")
        if push.mode != "on_demand":
            raise PushRefused(f"the push of camera {camera_id!r} to {platform_id!r} is always on")
        stream = self._streams.stream(camera_id)
        if stream is None:
            raise PushRefused(f"camera {camera_id!r} is disabled or not running")
        current = self._on_demand.get((platform_id, camera_id))
        if current is not None and current.running and current.hub is stream.hub:
            return current.status()
        if current is not None:
            current.stop()
        pusher = StreamPusher(stream.hub, platform_id, push)
        pusher.start()
        self._on_demand[(platform_id, camera_id)] = pusher
        return pusher.status()

    def stop_push(self, platform_id: str, camera_id: str) -> bool:
        pusher = self._on_demand.pop((platform_id, camera_id), None)
        if pusher is not None:
            pusher.stop()
        return pusher is not None

    def health(self) -> list[PlatformHealth]:
        """Blocking (store reads): call from a worker thread."""
        out = []
        always = self._push_statuses()
        for platform in self.platforms:
            forwarder = self._forwarders.get(platform.id)
            pushes = [s for s in always if s.platform_id == platform.id]
            pushes += [p.status() for (pid, _), p in list(self._on_demand.items()) if pid == platform.id]
            cascade = self._cascades.get(platform.id)
            out.append(
                PlatformHealth(
                    id=platform.id,
                    name=platform.name,
                    events_url=platform.events.url if platform.events else None,
                    events=self._store.uplink.stats(platform.id) if platform.events else None,
                    last_attempt_at=forwarder.last_attempt_at if forwarder else None,
                    pushes=sorted(pushes, key=lambda s: s.camera_id),
                    gb28181=cascade.status() if cascade and cascade.error is None else None,
                    gb28181_error=cascade.error if cascade else None,
                )
            )
        return out


def oldest_age_s(stats: DeliveryStats | None) -> float | None:
    if stats is None or stats.oldest_pending_at is None:
        return None
    return max(0.0, time.time() - stats.oldest_pending_at)

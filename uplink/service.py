"""The uplink side of the service: a forwarder per upper platform that takes events, started, stopped and
rebuilt on a reload where its platform's settings changed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.config.uplink import PlatformConfig
from core.signed_urls import UrlSigner
from core.store import Store
from core.store.uplink import DeliveryStats
from uplink.forwarder import EventForwarder
from uplink.messages import Catalogue, KindLabels


@dataclass(frozen=True)
class PlatformHealth:
    id: str
    name: str
    events_url: str | None
    events: DeliveryStats | None
    last_attempt_at: float | None


class UplinkService:
    def __init__(
        self,
        store: Store,
        catalogue: Callable[[], Catalogue],
        kind: Callable[[str], KindLabels | None],
        urls: UrlSigner,
    ) -> None:
        self._store = store
        self._catalogue = catalogue
        self._kind = kind
        self._urls = urls
        # Stable for this installation (its data), unlike the event ids that start again with a new database.
        self.installation = urls.identity()
        self._forwarders: dict[str, EventForwarder] = {}

    @property
    def platforms(self) -> list[PlatformConfig]:
        return list(self._catalogue().config.uplink.platforms)

    async def apply(self) -> None:
        """Bring the forwarders in line with the configured platforms."""
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

    async def stop(self) -> None:
        await asyncio.gather(*(f.stop() for f in self._forwarders.values()))
        self._forwarders.clear()

    def health(self) -> list[PlatformHealth]:
        """Blocking (store reads): call from a worker thread."""
        out = []
        for platform in self.platforms:
            forwarder = self._forwarders.get(platform.id)
            out.append(
                PlatformHealth(
                    id=platform.id,
                    name=platform.name,
                    events_url=platform.events.url if platform.events else None,
                    events=self._store.uplink.stats(platform.id) if platform.events else None,
                    last_attempt_at=forwarder.last_attempt_at if forwarder else None,
                )
            )
        return out


def oldest_age_s(stats: DeliveryStats | None) -> float | None:
    if stats is None or stats.oldest_pending_at is None:
        return None
    return max(0.0, time.time() - stats.oldest_pending_at)

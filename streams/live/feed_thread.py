"""The worker behind a fallback live view: a daemon thread reading its own dropping subscription of a hub."""

from __future__ import annotations

import threading

from streams.hub import Hub
from streams.subscription import OverflowPolicy


class FeedThread:
    """Subclasses implement `_run`, reading `_subscription` until `_stop` is set; `stop` works from any thread."""

    def __init__(self, hub: Hub, name: str, queue_packets: int) -> None:
        self.hub = hub
        self._subscription = hub.subscribe(name, queue_packets, OverflowPolicy.DROP)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.hub.unsubscribe(self._subscription)

    def _run(self) -> None:
        raise NotImplementedError

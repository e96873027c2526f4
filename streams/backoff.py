"""Capped reconnect back-off."""

from __future__ import annotations

from collections.abc import Sequence


class Backoff:
    """Yields the configured delays in turn, then repeats the last one; `reset` after a good connection."""

    def __init__(self, delays: Sequence[float]) -> None:
        if not delays:
            raise ValueError("at least one delay is needed")
        self._delays = tuple(delays)
        self._attempt = 0

    def next_delay(self) -> float:
        delay = self._delays[min(self._attempt, len(self._delays) - 1)]
        self._attempt += 1
        return delay

    def reset(self) -> None:
        self._attempt = 0

    @property
    def attempt(self) -> int:
        return self._attempt

"""When a camera's reader may rest: reading a connection in bursts instead of a wake-up per frame.

A source thread that waits for every frame wakes 25 times a second per camera, and each wake-up runs its Python
with cold caches and the interpreter lock to win among every other camera of the process: that, not the work
itself, made a worker's per-packet Python cost several times what it costs alone (docs/performance.md,
"Recording"). While no consumer needs a packet at once (no live viewer: a recorder writes once a fragment closes,
detectors judge over seconds), the reader may instead rest a while once it has caught up with the camera and then
take everything that arrived meanwhile in one go. Over TCP the kernel's receive buffer holds the burst (the rest
is kept to a fraction of what it holds: docs/performance.md, "Recording"); every packet keeps the time it was read
at (the consumers' clocks take the earliest of a burst's, see `Recorder._follow_clock`).

"Caught up" is read off the camera's own clock: a packet read as soon as it arrived is, of those of the last several
seconds, the one whose arrival is least late against its timestamp; one read out of a backlog is as late as the
backlog is long. A reader that falls behind therefore never rests until it has caught up again.
"""

from __future__ import annotations

import math
from collections.abc import Callable

_PACED_AFTER_S = 5.0  # a connection's first seconds are read at once: the probe's burst, the first key frame
_CAUGHT_UP_S = 0.05  # a packet this close to the least late one counts as read when it arrived
_WINDOW_S = 10.0  # the least lateness is taken over the last one to two such windows (clock drift, camera restarts)


class ReadPacer:
    """For one connection: after each packet, how long its reader may rest before reading on."""

    def __init__(self, limit_s: float, tolerated_s: Callable[[], float], connected_at: float) -> None:
        """`limit_s`: the longest rest (0: never rest); `tolerated_s`: the longest delay the consumers allow now
        (the hub's, asked only when a rest is due); `connected_at`: monotonic time of the connection's start."""
        self._limit_s = limit_s
        self._tolerated_s = tolerated_s
        self._from = connected_at + _PACED_AFTER_S if limit_s > 0 else math.inf
        self._least = math.inf  # the least lateness in the current window
        self._earlier_least = math.inf  # and in the window before it
        self._window_ends = 0.0

    def rest_after(self, read_at: float, media_time: float) -> float:
        """Seconds to rest after a packet read at monotonic `read_at`, stamped `media_time` seconds by the camera.

        Called for every timestamped packet: a comparison until pacing starts, a few more operations after."""
        if read_at < self._from:
            return 0.0
        lateness = read_at - media_time  # plus an unknown constant: the offset between the two clocks
        if read_at >= self._window_ends:
            self._earlier_least, self._least, self._window_ends = self._least, lateness, read_at + _WINDOW_S
        elif lateness < self._least:
            self._least = lateness
        if lateness - min(self._least, self._earlier_least) >= _CAUGHT_UP_S:
            return 0.0  # reading a backlog: go on
        return max(0.0, min(self._limit_s, self._tolerated_s()))

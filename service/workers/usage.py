"""A process's CPU and memory, read from /proc by its supervisor: a worker that hangs is measured all the same."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Usage:
    cpu_percent: float  # of one core, since the previous sample
    rss_bytes: int


class UsageSampler:
    """CPU since the previous sample of the same process, and its resident memory now."""

    def __init__(self) -> None:
        self._last: tuple[int, float, float] | None = None  # pid, CPU seconds, wall clock

    def sample(self, pid: int) -> Usage | None:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{pid}/statm", "rb") as statm:
                rss_pages = int(statm.read().split()[1])
        except (OSError, IndexError, ValueError):
            return None
        cpu_s = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)
        now = time.monotonic()
        percent = 0.0
        if self._last is not None and self._last[0] == pid and now > self._last[2]:
            percent = 100.0 * (cpu_s - self._last[1]) / (now - self._last[2])
        self._last = (pid, cpu_s, now)
        return Usage(round(percent, 1), rss_pages * _PAGE)

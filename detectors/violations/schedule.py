"""Arming schedules: the weekly time windows in which a detector raises violations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.config.models import ArmingWindowConfig

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class ArmingSchedule:
    """Armed inside any window; no windows means always armed. Local time of the service's host."""

    def __init__(self, windows: Sequence[ArmingWindowConfig] = ()) -> None:
        self._windows = [(frozenset(w.days), _minutes(w.start), _minutes(w.end)) for w in windows]

    @property
    def always(self) -> bool:
        return not self._windows

    def armed(self, at: float) -> bool:
        if not self._windows:
            return True
        moment = datetime.fromtimestamp(at)
        minute = moment.hour * 60 + moment.minute
        today = _DAYS[moment.weekday()]
        yesterday = _DAYS[(moment - timedelta(days=1)).weekday()]
        for days, start, end in self._windows:
            if start <= end:
                if today in days and start <= minute < end:
                    return True
            elif (today in days and minute >= start) or (yesterday in days and minute < end):
                return True  # a window past midnight belongs to the day it starts
        return False


ALWAYS = ArmingSchedule()

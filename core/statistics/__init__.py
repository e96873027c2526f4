"""Compliance statistics (统计与报表): figures per organisation unit and period, computed from the store."""

from core.statistics.compute import compute
from core.statistics.figures import CameraFigures, MissingCamera, Statistics, UnitFigures
from core.statistics.period import CHINA, Period, PeriodError, local_time, month_of, parse_period

__all__ = [
    "CHINA",
    "CameraFigures",
    "MissingCamera",
    "Period",
    "PeriodError",
    "Statistics",
    "UnitFigures",
    "compute",
    "local_time",
    "month_of",
    "parse_period",
]

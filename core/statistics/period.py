"""The periods statistics are asked for: a month, a quarter, a year or a range of days, on China's calendar.

A month begins at midnight in Beijing, not in UTC: a case opened at 07:00 on 1 December (23:00 UTC the day
before) belongs to December. China keeps no daylight saving, so a fixed UTC+8 is the whole calendar and no
time-zone database is needed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
# Far enough to cover any history the service has and any plan ahead; further is a typo.
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_RANGE_DAYS = 366 * 2

PeriodKind = Literal["month", "quarter", "year", "range"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """A period that cannot be read, with what is wrong (the API answers 400 with it)."""


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # as asked: 2026-11, 2026-Q4, 2026, 2026-11-01..2026-11-15
    kind: PeriodKind
    first_day: dt.date
    last_day: dt.date  # inclusive

    @property
    def start(self) -> float:
        """Unix seconds of the first day's midnight in Beijing."""
        return _midnight(self.first_day)

    @property
    def end(self) -> float:
        """Unix seconds of the midnight after the last day (exclusive)."""
        return _midnight(self.last_day + dt.timedelta(days=1))

    @property
    def label(self) -> str:
        """How the reports name it, in Chinese."""
        if self.kind == "month":
            return f"{self.first_day.year}年{self.first_day.month}月"
        if self.kind == "quarter":
            return f"{self.first_day.year}年第{(self.first_day.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{self.first_day.year}年"
        return f"{self.first_day.isoformat()} 至 {self.last_day.isoformat()}"

    def months(self) -> list[str]:
        """The months it touches ('2026-11'): a town's inspection of each institution is due once in each."""
        found, day = [], self.first_day.replace(day=1)
        while day <= self.last_day:
            found.append(f"{day.year}-{day.month:02d}")
            day = _next_month(day)
        return found

    def quarters(self) -> list[str]:
        """The quarters it touches ('2026-Q4'): the bureau's inspection of each town is due once in each."""
        return list(dict.fromkeys(f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}" for m in self.months()))


def parse_period(text: str) -> Period:
    """'2026-11', '2026-Q4', '2026' or '2026-11-01..2026-11-15' (both days included)."""
    text = text.strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"period {text!r}: there is no month {month}")
        first = _date(year, month, 1, text)
        return Period(text, "month", first, _next_month(first) - dt.timedelta(days=1))
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        first = _date(year, 3 * quarter - 2, 1, text)
        last = _next_month(_next_month(_next_month(first))) - dt.timedelta(days=1)
        return Period(text, "quarter", first, last)
    if match := _YEAR.match(text):
        year = int(match[1])
        return Period(text, "year", _date(year, 1, 1, text), _date(year, 12, 31, text))
    if match := _RANGE.match(text):
        first, last = _day(match[1], text), _day(match[2], text)
        if last < first:
            raise PeriodError(f"period {text!r}: the last day is before the first")
        if (last - first).days >= MAX_RANGE_DAYS:
            raise PeriodError(f"period {text!r}: at most {MAX_RANGE_DAYS} days")
        return Period(text, "range", first, last)
    raise PeriodError(
        f"period {text!r}: give a month (2026-11), a quarter (2026-Q4), a year (2026) or days (2026-11-01..2026-11-15)"
    )


def month_of(at: float) -> str:
    """The month (in Beijing) a moment falls in: the default period."""
    day = dt.datetime.fromtimestamp(at, CHINA)
    return f"{day.year}-{day.month:02d}"


def local_time(at: float) -> str:
    """A moment as Beijing time, as the reports print it."""
    return dt.datetime.fromtimestamp(at, CHINA).strftime("%Y-%m-%d %H:%M")


def _midnight(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day, tzinfo=CHINA).timestamp()


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _date(year: int, month: int, day: int, text: str) -> dt.date:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(f"period {text!r}: the year must lie between {FIRST_YEAR} and {LAST_YEAR}")
    return dt.date(year, month, day)


def _day(value: str, text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"period {text!r}: {value} is not a day of the calendar") from None
    return _date(day.year, day.month, day.day, text)

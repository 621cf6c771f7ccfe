"""ISO-8601 weeks and how their days fall into calendar months.

A ``year_week`` is an int ``YYYYWW`` naming an ISO week (Monday to Sunday). A week that spans two
months gives ``n/7`` of its sales to the month that holds ``n`` of its seven days, each day counted
in its *own* calendar month and year: 2020-W53 (28 Dec 2020 – 3 Jan 2021) splits 4/7 into 202012
and 3/7 into 202101.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import lru_cache

FIRST_YEAR = 1900
LAST_YEAR = 2199


class InvalidYearWeek(ValueError):
    """A ``year_week`` that is not a real ISO-8601 week."""


def iso_weeks_in_year(year: int) -> int:
    """52 or 53: the number of ISO weeks in ``year`` (28 December always lies in its last week)."""
    return dt.date(year, 12, 28).isocalendar().week


def check_year_week(year_week: int) -> None:
    """Raise :class:`InvalidYearWeek` with a readable reason unless ``year_week`` is a real ISO week."""
    year, week = divmod(year_week, 100)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidYearWeek(f"year_week {year_week}: year {year} is outside {FIRST_YEAR}–{LAST_YEAR} (format YYYYWW)")
    if week < 1:
        raise InvalidYearWeek(f"year_week {year_week}: week {week} does not exist, ISO weeks start at 1")
    weeks = iso_weeks_in_year(year)
    if week > weeks:
        raise InvalidYearWeek(f"year_week {year_week}: {year} has only {weeks} ISO weeks")


def week_start(year_week: int) -> dt.date:
    """The Monday that starts ISO week ``year_week``."""
    check_year_week(year_week)
    year, week = divmod(year_week, 100)
    return dt.date.fromisocalendar(year, week, 1)


@lru_cache(maxsize=16384)
def days_per_month(year_week: int) -> tuple[tuple[int, int], ...]:
    """``((year_month, days), …)`` for the one or two calendar months holding the week's 7 days, in order.

    >>> days_per_month(202005)
    ((202001, 5), (202002, 2))
    """
    monday = week_start(year_week)
    counts = Counter()
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        counts[day.year * 100 + day.month] += 1
    return tuple(sorted(counts.items()))


@lru_cache(maxsize=4096)
def weeks_overlapping_month(year_month: int) -> tuple[int, ...]:
    """The ISO weeks (``YYYYWW``) holding at least one day of calendar month ``year_month``, in order.

    >>> weeks_overlapping_month(202002)
    (202005, 202006, 202007, 202008, 202009)
    """
    year, month = divmod(year_month, 100)
    first = dt.date(year, month, 1)
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    monday = first - dt.timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        iso = monday.isocalendar()
        weeks.append(iso.year * 100 + iso.week)
        monday += dt.timedelta(days=7)
    return tuple(weeks)

"""Which months a monthly training job trains and tests on, and what to say when some are missing.

A month is a ``pd.Timestamp`` at the first day of the month; users write it ``YYYY-MM``. By default
the job tests on one month and trains on the ``window`` months just before it (as target months;
features still read all earlier history). Strict by default: every planned month must be in the
data. With ``skip_missing`` the job goes on when the test month is present and at least
:data:`MIN_TRAINING_MONTHS` training months are, training on those.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

MIN_TRAINING_MONTHS = 2
DEFAULT_WINDOW = 3
_MONTH_PATTERN = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


class MonthFormatError(ValueError):
    """A month written other than ``YYYY-MM``, or an impossible plan (training after testing)."""


class MissingMonthsError(ValueError):
    """Planned months absent from the data; the message lists them, the available months and the options."""

    def __init__(self, message: str, missing: Sequence[pd.Timestamp], available: Sequence[pd.Timestamp]) -> None:
        super().__init__(message)
        self.missing = list(missing)
        self.available = list(available)


def parse_month(text: str) -> pd.Timestamp:
    """``"2023-04"`` → ``Timestamp("2023-04-01")``; anything else raises :class:`MonthFormatError`."""
    match = _MONTH_PATTERN.match(str(text))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise MonthFormatError(f"month {text!r} is not of the form YYYY-MM (e.g. 2023-04)")
    import pandas as pd

    return pd.Timestamp(year=int(match.group(1)), month=int(match.group(2)), day=1)


def parse_months(text: str) -> list[pd.Timestamp]:
    """``"2023-01,2023-02"`` → two months, sorted and without repeats."""
    parts = [part for part in str(text).split(",") if part.strip()]
    if not parts:
        raise MonthFormatError(f"no month in {text!r}; write them as YYYY-MM,YYYY-MM")
    return sorted({parse_month(part) for part in parts})


def format_month(month: pd.Timestamp) -> str:
    """``Timestamp("2023-04-01")`` → ``"2023-04"``."""
    return f"{month.year:04d}-{month.month:02d}"


def month_start(value) -> pd.Timestamp:
    """The first day of the month holding ``value`` (a date, a timestamp or a ``YYYY-MM-DD`` string)."""
    import pandas as pd

    stamp = pd.Timestamp(value)
    if stamp.day == 1 and stamp == stamp.normalize():
        return stamp  # already a month start: the common case, called for every month of a history
    return pd.Timestamp(year=stamp.year, month=stamp.month, day=1)


def shift_month(month: pd.Timestamp, months: int) -> pd.Timestamp:
    """``month`` moved by ``months`` calendar months (negative goes back)."""
    import pandas as pd

    return month_start(month) + pd.DateOffset(months=months)


def month_range(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    """Every month from ``first`` to ``last`` inclusive (empty when ``last`` is before ``first``)."""
    import pandas as pd

    return list(pd.date_range(month_start(first), month_start(last), freq="MS"))


def describe_months(months: Iterable[pd.Timestamp]) -> str:
    """Months as compact ranges: ``"2020-01..2022-12, 2023-02"`` (``"none"`` when empty)."""
    return describe_month_texts(format_month(month) for month in months)


def describe_month_texts(texts: Iterable[str]) -> str:
    """:func:`describe_months` for ``YYYY-MM`` texts, without pandas (``salescast history`` stays fast)."""
    numbers = sorted({int(text[:4]) * 12 + int(text[5:7]) - 1 for text in texts if text.strip()})
    if not numbers:
        return "none"
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] + 1 == number:
            runs[-1][1] = number
        else:
            runs.append([number, number])

    def text(number: int) -> str:
        return f"{number // 12:04d}-{number % 12 + 1:02d}"

    return ", ".join(text(start) if start == end else f"{text(start)}..{text(end)}" for start, end in runs)


@dataclass(frozen=True)
class MonthPlan:
    """The months one job run uses: ``train_months`` as target months, ``test_month`` to evaluate on."""

    test_month: pd.Timestamp
    train_months: list[pd.Timestamp]
    skipped_months: list[pd.Timestamp] = field(default_factory=list)

    def as_params(self) -> dict[str, str]:
        """The plan as MLflow parameters."""
        return {
            "test_month": format_month(self.test_month),
            "train_months": ",".join(format_month(month) for month in self.train_months),
            "skipped_months": ",".join(format_month(month) for month in self.skipped_months),
        }


def plan_months(
    available: Iterable[pd.Timestamp],
    *,
    test_month: pd.Timestamp | None = None,
    train_months: Sequence[pd.Timestamp] | None = None,
    window: int = DEFAULT_WINDOW,
    skip_missing: bool = False,
    incomplete: Iterable[pd.Timestamp] = (),
) -> MonthPlan:
    """Choose the test and training months and check them against the ``available`` (complete) months.

    ``test_month`` defaults to the last available month. ``train_months`` defaults to the ``window``
    months before the test month. Strict: any planned month missing raises :class:`MissingMonthsError`;
    a month with only part of its data (``incomplete``) counts as missing and is named so. With
    ``skip_missing`` missing training months are dropped as long as the test month and at least two
    training months remain.
    """
    present = sorted({month_start(month) for month in available})
    partial = sorted({month_start(month) for month in incomplete})
    if not present and partial:
        raise MissingMonthsError(
            f"no complete month yet (partly ingested: {describe_months(partial)}); ingest the rest of their weeks",
            missing=partial,
            available=[],
        )
    if not present:
        raise MissingMonthsError(
            "no monthly sales at all: ingest data (POST /post_sales or `salescast import-sales`) "
            "or point the pipeline config at a sales file",
            missing=[],
            available=[],
        )
    if window < 1:
        raise MonthFormatError(f"--window must be at least 1 (got {window})")
    if test_month is None:
        test_month = present[-1]
    test_month = month_start(test_month)
    if train_months:
        planned_training = sorted({month_start(month) for month in train_months})
        late = [month for month in planned_training if month >= test_month]
        if late:
            raise MonthFormatError(
                f"training months {describe_months(late)} are not before the test month "
                f"{format_month(test_month)}: a model must not be trained on the month it is tested on, or later"
            )
    else:
        planned_training = [shift_month(test_month, -offset) for offset in range(window, 0, -1)]
    present_set = set(present)
    missing = [month for month in [*planned_training, test_month] if month not in present_set]
    if not missing:
        return MonthPlan(test_month=test_month, train_months=planned_training)
    kept_training = [month for month in planned_training if month in present_set]
    if skip_missing and test_month in present_set and len(kept_training) >= MIN_TRAINING_MONTHS:
        return MonthPlan(test_month=test_month, train_months=kept_training, skipped_months=missing)
    raise MissingMonthsError(
        _missing_message(test_month, planned_training, missing, present, kept_training, skip_missing, incomplete),
        missing=missing,
        available=present,
    )


def _missing_message(
    test_month: pd.Timestamp,
    planned_training: list[pd.Timestamp],
    missing: list[pd.Timestamp],
    present: list[pd.Timestamp],
    kept_training: list[pd.Timestamp],
    skip_missing: bool,
    incomplete: Iterable[pd.Timestamp],
) -> str:
    """The strict / --skip-missing error: what is missing, what exists, and the three ways out."""
    partial = sorted(set(missing) & {month_start(month) for month in incomplete})
    lines = [
        f"missing months for test month {format_month(test_month)} "
        f"(training months {describe_months(planned_training)}): {describe_months(missing)}",
    ]
    if partial:
        lines.append(f"of which incomplete (some days not ingested yet): {describe_months(partial)}")
    lines.append(f"available months: {describe_months(present)}")
    if skip_missing:
        if test_month not in set(present):
            reason = f"the test month {format_month(test_month)} itself is missing"
        else:
            reason = f"only {len(kept_training)} training month(s) remain and at least {MIN_TRAINING_MONTHS} are needed"
        lines.append(f"--skip-missing cannot help: {reason}")
    lines += [
        "options:",
        f"  - ingest the data for {describe_months(missing)} (POST /post_sales or `salescast import-sales`)",
    ]
    if not skip_missing:
        lines.append(
            f"  - rerun with --skip-missing to train on the months present "
            f"(needs the test month and at least {MIN_TRAINING_MONTHS} training months)"
        )
    lines.append(f"  - pick another --test-month (latest complete month: {format_month(present[-1])})")
    return "\n".join(lines)


def latest_complete_month(months: Iterable[pd.Timestamp], complete: Iterable[pd.Timestamp] | None = None):
    """The last month that is both present and, when ``complete`` is given, known to be complete."""
    present = {month_start(month) for month in months}
    if complete is not None:
        present &= {month_start(month) for month in complete}
    return max(present) if present else None


def complete_months_from_weeks(year_weeks) -> list[pd.Timestamp]:
    """Months all of whose days fall in one of ``year_weeks`` (ISO weeks, ``YYYYWW``)."""
    import pandas as pd

    from salescast.ingest.calendar import days_per_month

    covered: dict[int, int] = {}
    for week in year_weeks:
        for year_month, days in days_per_month(int(week)):
            covered[year_month] = covered.get(year_month, 0) + days
    complete = [
        pd.Timestamp(year=ym // 100, month=ym % 100, day=1)
        for ym, days in covered.items()
        if days >= calendar.monthrange(ym // 100, ym % 100)[1]
    ]
    return sorted(complete)

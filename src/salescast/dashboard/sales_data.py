"""The sales the dashboard shows, read through :class:`~salescast.ingest.store.SalesStore`.

Weekly rows carry the store's outlier flag; monthly rows come from the store's two monthly layers
(with and without outlier weeks), so the dashboard never re-implements the proration or the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salescast.ingest.calendar import days_per_month, week_start
from salescast.ingest.store import SalesStore, open_store
from salescast.settings import Settings

WEEKLY_COLUMNS = ["year_week", "week_start", "vegetable", "sales", "is_outlier"]
MONTHLY_COLUMNS = ["year_month", "month", "vegetable", "sales"]


class SalesDatabaseMissing(FileNotFoundError):
    """The configured SQLite database file does not exist (nothing was ever posted or imported there)."""


def open_sales_store(settings: Settings) -> SalesStore:
    """The settings' store with its schema current; a missing SQLite file raises instead of being created.

    Creating an empty database would hide a wrong ``--database-url`` behind an empty dashboard.
    """
    from sqlalchemy import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).expanduser().exists():
        raise SalesDatabaseMissing(f"no sales database at {url.database}")
    store = open_store(settings)
    store.migrate()
    return store


def weekly_sales_frame(store: SalesStore) -> pd.DataFrame:
    """Cleaned weekly sales with ``week_start`` (the ISO week's Monday) and the outlier flag."""
    rows = store.weekly_sales(with_outlier_flag=True)
    frame = pd.DataFrame(rows, columns=["year_week", "vegetable", "sales", "is_outlier"])
    frame = frame.astype({"year_week": "int64", "vegetable": "str", "sales": "float64", "is_outlier": "bool"})
    starts = {week: pd.Timestamp(week_start(week)) for week in frame["year_week"].unique()}
    frame["week_start"] = frame["year_week"].map(starts).astype("datetime64[ns]")
    return frame[WEEKLY_COLUMNS]


def monthly_sales_frame(store: SalesStore, *, remove_outliers: bool = False) -> pd.DataFrame:
    """Monthly sales with ``month`` as a timestamp; ``remove_outliers`` reads the layer without outlier weeks."""
    frame = store.monthly_sales(remove_outliers=remove_outliers)
    frame["month"] = pd.to_datetime(frame["year_month"].astype(str), format="%Y%m")
    return frame[MONTHLY_COLUMNS]


def partial_months(weekly: pd.DataFrame) -> list[pd.Timestamp]:
    """Months with sales that are not yet fully covered by ingested weeks (the first and the current one).

    Their monthly sales are real but partial: a chart that drops at its ends is usually this.
    """
    from salescast.lifecycle.months import complete_months_from_weeks

    weeks = weekly["year_week"].unique()
    complete = set(complete_months_from_weeks(weeks))
    touched = {
        pd.Timestamp(year=month // 100, month=month % 100, day=1)
        for week in weeks
        for month, _ in days_per_month(int(week))
    }
    return sorted(touched - complete)


def unknown_names_frame(store: SalesStore) -> pd.DataFrame:
    """Names that resolved to no vegetable (``name``, ``rows``, ``total_sales``), most sales first."""
    return pd.DataFrame(store.unknown_vegetables(), columns=["name", "rows", "total_sales"])


def vegetables_by_sales(weekly: pd.DataFrame) -> list[str]:
    """Vegetables ordered by total weekly sales, largest first (ties by name)."""
    totals = weekly.groupby("vegetable")["sales"].sum().reset_index()
    totals = totals.sort_values(["sales", "vegetable"], ascending=[False, True])
    return totals["vegetable"].tolist()


@dataclass(frozen=True)
class SalesOverview:
    """The headline numbers of the Sales page."""

    vegetables: int
    weeks: int
    first_week: int | None
    last_week: int | None
    outlier_weeks: int
    unknown_names: int


def sales_overview(weekly: pd.DataFrame, unknown: pd.DataFrame) -> SalesOverview:
    """Counts over the whole weekly layer (not only the selected vegetables)."""
    weeks = weekly["year_week"]
    return SalesOverview(
        vegetables=int(weekly["vegetable"].nunique()),
        weeks=int(weeks.nunique()),
        first_week=int(weeks.min()) if len(weeks) else None,
        last_week=int(weeks.max()) if len(weeks) else None,
        outlier_weeks=int(weekly["is_outlier"].sum()),
        unknown_names=len(unknown),
    )


def select_weekly(weekly: pd.DataFrame, vegetables: list[str], *, remove_outliers: bool = False) -> pd.DataFrame:
    """The weekly rows of ``vegetables``, without the flagged weeks when ``remove_outliers``."""
    chosen = weekly[weekly["vegetable"].isin(vegetables)]
    if remove_outliers:
        chosen = chosen[~chosen["is_outlier"]]
    return chosen.reset_index(drop=True)


def outlier_weeks_frame(weekly: pd.DataFrame, vegetables: list[str]) -> pd.DataFrame:
    """The flagged weeks of ``vegetables`` with the vegetable's mean weekly sales, for comparison."""
    chosen = weekly[weekly["vegetable"].isin(vegetables)]
    means = weekly.groupby("vegetable")["sales"].mean().rename("mean_weekly_sales")
    flagged = chosen[chosen["is_outlier"]].join(means, on="vegetable")
    flagged = flagged.assign(week_start=flagged["week_start"].dt.date)
    return flagged[["year_week", "week_start", "vegetable", "sales", "mean_weekly_sales"]].reset_index(drop=True)

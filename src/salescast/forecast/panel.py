"""The complete (item × month) grid every feature is computed on.

Sales are long and ragged (items start at different months, months can be missing). Features are computed
on a dense matrix — one row per item, one column per calendar month — where a month without a sales row
is NaN. A lag is then a shift along the month axis, so a gap gives a missing lag, never a shifted
neighbour, and every row depends only on its own item: running the same feature on any subset of items
(e.g. a Spark partition by item) gives the same values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salescast.forecast.catalog import Catalog

FISCAL_YEAR_START_MONTH = 7  # fiscal year Y runs July Y-1 … June Y


def month_number(dates) -> np.ndarray:
    """Months since year 0 (``year * 12 + month - 1``) of datetime-like values, as int64."""
    index = pd.DatetimeIndex(dates)
    return (index.year.to_numpy().astype(np.int64) * 12 + index.month.to_numpy() - 1).astype(np.int64)


def fiscal_year(number) -> np.ndarray:
    """The fiscal year of month numbers: July 2022 … June 2023 is fiscal year 2023."""
    number = np.asarray(number, dtype=np.int64)
    return number // 12 + (number % 12 + 1 >= FISCAL_YEAR_START_MONTH)


def month_start(number) -> pd.DatetimeIndex:
    """The month-start timestamps of month numbers (inverse of :func:`month_number`)."""
    number = np.asarray(number, dtype=np.int64)
    years = (number // 12 - 1970).astype("datetime64[Y]")
    return pd.DatetimeIndex(
        years.astype("datetime64[M]") + (number % 12).astype("timedelta64[M]"), dtype="datetime64[ns]"
    )


@dataclass(frozen=True)
class Panel:
    """Sources on a dense grid: ``items`` rows × ``n_months`` consecutive calendar months from ``first_month``.

    ``sales`` is NaN where there is no sales row; ``marketing`` is 0 where there is no row; ``price`` is the
    price in force (carried forward from the last known price, NaN before the first) and has one more
    column than the grid — the month after it — so that a change announced for next month is visible;
    ``refill`` sums the daily refills of each month (NaN rows for items the stock file does not
    list, NaN columns after the stock file's last month: refills not known yet); ``objective`` repeats
    each fiscal year's objective over its months (NaN without one); ``exogenous`` maps each column of the
    generic exogenous table to its matrix (NaN without a row). Sources absent from the catalog are ``None``.
    """

    items: pd.Index
    first_month: int
    n_months: int
    sales: np.ndarray
    marketing: np.ndarray | None
    price: np.ndarray | None
    refill: np.ndarray | None
    objective: np.ndarray | None
    exogenous: dict[str, np.ndarray] | None = None

    @property
    def month_numbers(self) -> np.ndarray:
        return np.arange(self.first_month, self.first_month + self.n_months, dtype=np.int64)

    @property
    def calendar_month(self) -> np.ndarray:
        """1…12 for each grid column."""
        return self.month_numbers % 12 + 1

    @property
    def fiscal_year(self) -> np.ndarray:
        """The fiscal year of each grid column (July 2022 … June 2023 is fiscal year 2023)."""
        return fiscal_year(self.month_numbers)


def _dense(
    frame: pd.DataFrame, column: str, items: pd.Index, first: int, width: int, fill: float, months=None
) -> np.ndarray:
    matrix = np.full((len(items), width), fill, dtype=np.float64)
    rows = items.get_indexer(frame["item_id"])
    cols = (month_number(frame["dates"]) if months is None else months) - first
    keep = (rows >= 0) & (cols >= 0) & (cols < width)
    if column == "refill":  # several days fall in one month
        np.add.at(matrix, (rows[keep], cols[keep]), frame[column].to_numpy()[keep])
    else:
        matrix[rows[keep], cols[keep]] = frame[column].to_numpy()[keep]
    return matrix


def build_panel(catalog: Catalog, last_month: pd.Timestamp | None = None, items: Sequence | None = None) -> Panel:
    """The grid from the first month of sales (or of stock, if earlier) to ``last_month`` (default: last sales month).

    ``items`` adds items that have no sales (their rows are all NaN); the grid always holds every sales item.
    """
    sales = catalog.sales
    sales_months = month_number(sales["dates"])
    first = int(sales_months.min())
    if catalog.stock is not None and len(catalog.stock):
        first = min(first, int(month_number(catalog.stock["dates"]).min()))
    if catalog.first_month is not None:
        first = min(first, int(month_number([catalog.first_month])[0]))
    last = int(sales_months.max()) if last_month is None else max(int(month_number([last_month])[0]), first)
    width = last - first + 1
    item_values = pd.Index(catalog.items())
    if items is not None:
        extra = pd.Index(list(items)).difference(item_values)
        if len(extra):
            item_values = item_values.append(extra)
    item_index = item_values
    sales_matrix = _dense(sales, "sales", item_index, first, width, np.nan, months=sales_months)
    marketing = None
    if catalog.marketing is not None:
        marketing = _dense(catalog.marketing, "marketing", item_index, first, width, 0.0)
    price = None
    if catalog.price is not None:
        # Carry the last known price forward (a price stays in force until changed), starting from any earlier row.
        price_frame = catalog.price
        price_first = min(first, int(month_number(price_frame["dates"]).min()))
        full = _dense(price_frame, "price", item_index, price_first, last + 2 - price_first, np.nan)
        full = pd.DataFrame(full).ffill(axis=1).to_numpy()
        price = full[:, first - price_first :]
    refill = None
    if catalog.stock is not None:
        refill = _dense(catalog.stock, "refill", item_index, first, width, 0.0)
        refill[~item_index.isin(catalog.stock["item_id"].unique())] = np.nan  # not tracked: stock unknown
        if len(catalog.stock):  # months after the file's last one: refills unknown, not zero
            refill[:, int(month_number(catalog.stock["dates"]).max()) - first + 1 :] = np.nan
    objective = None
    if catalog.objectives is not None:
        table = catalog.objectives.pivot(index="item_id", columns="fiscal_year", values="objective")
        table = table.reindex(index=item_index)
        fiscal_years = Panel(item_index, first, width, sales_matrix, None, None, None, None).fiscal_year
        objective = table.reindex(columns=np.unique(fiscal_years)).to_numpy(dtype=np.float64)
        objective = objective[:, np.searchsorted(np.unique(fiscal_years), fiscal_years)]
    exogenous = None
    if catalog.exogenous is not None:
        exogenous = {
            column: _dense(catalog.exogenous, column, item_index, first, width, np.nan)
            for column in catalog.exogenous_columns
        }
    return Panel(item_index, first, width, sales_matrix, marketing, price, refill, objective, exogenous)

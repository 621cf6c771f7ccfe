"""The data catalog: the configured sources (CSV paths or DataFrames) read into validated DataFrames.

Every source goes through the same validation whether it comes from a file or a frame (:func:`load_catalog`)
or from frames (:func:`catalog_from_frames`). The non-obvious rules:

* monthly sources (sales, marketing, price, exogenous) date a row by its month: ``YYYY-MM``, the first day of
  the month, or its last day (monthly data is often dated at month end); any other day is an error;
* ``item_id`` keeps its form: integers stay integers, and a column with any id that is not a plain integer
  (``"000"``, ``"A-1"``, ``"tomato"``) is kept as strings, exactly as written; the other sources are converted
  to the sales type;
* ``exogenous`` is a generic table of numeric columns known in advance (promotions, holidays, plans), keyed by
  (dates, item_id); each column becomes a model column of the pooled models;
* a duplicate key — (dates, item_id) in sales, marketing and price, (fiscal_year, item_id) in objectives —
  is an error, never silently summed or dropped; stock refills on the same day are summed (two deliveries).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

SOURCES: dict[str, tuple[str, ...]] = {
    "sales": ("dates", "item_id", "sales"),
    "marketing": ("dates", "item_id", "marketing"),
    "price": ("dates", "item_id", "price"),
    "stock": ("dates", "item_id", "refill"),
    "objectives": ("fiscal_year", "item_id", "objective"),
    "exogenous": ("dates", "item_id"),  # plus any numeric columns
}
MONTHLY_SOURCES = ("sales", "marketing", "price", "exogenous")
EXOGENOUS_SOURCES = ("marketing", "price", "stock", "objectives", "exogenous")


class DataValidationError(ValueError):
    """A data source is unusable; the message names the source, the column, the rows and what to do."""


@dataclass(frozen=True)
class Catalog:
    """The validated sources. ``sales`` is sorted by (item_id, dates) with unique (dates, item_id)."""

    sales: pd.DataFrame
    marketing: pd.DataFrame | None = None
    price: pd.DataFrame | None = None
    stock: pd.DataFrame | None = None
    objectives: pd.DataFrame | None = None
    exogenous: pd.DataFrame | None = None
    # The grid starts no later than this month: a subset of items (one Spark group) keeps the whole catalog's
    # calendar, so that the months asked of it are the same as for the whole catalog.
    first_month: pd.Timestamp | None = None

    @property
    def exogenous_columns(self) -> list[str]:
        """The generic exogenous table's value columns (empty without one)."""
        if self.exogenous is None:
            return []
        return [column for column in self.exogenous.columns if column not in ("dates", "item_id")]

    def months(self) -> list[pd.Timestamp]:
        """The sorted unique months present in sales."""
        return [pd.Timestamp(month) for month in np.sort(self.sales["dates"].unique())]

    def items(self) -> list:
        """The sorted unique items present in sales."""
        return sorted(self.sales["item_id"].unique().tolist())


SHOWN_ROWS = 5


def _show_rows(frame: pd.DataFrame, mask, limit: int = SHOWN_ROWS) -> str:
    return show_rows_text(frame.loc[np.asarray(mask)].head(limit), int(np.asarray(mask).sum()))


def show_rows_text(rows: pd.DataFrame, total: int) -> str:
    """The first offending rows of an error message, and how many more there are."""
    lines = rows.to_string(index=True, max_colwidth=40)
    more = total - len(rows)
    return lines + (f"\n… and {more} more" if more > 0 else "")


def check_columns(name: str, columns: list[str]) -> list[str]:
    """The value columns of an exogenous table (empty for the other sources); a missing column raises.

    Shared by the pandas catalog and the Spark engine, so that both say the same.
    """
    expected = SOURCES[name]
    missing = [column for column in expected if column not in columns]
    if missing:
        raise DataValidationError(
            f"{name}: missing column(s) {missing}; expected a header with {list(expected)}, found {list(columns)}"
        )
    if name != "exogenous":
        return []
    values = [column for column in columns if column not in expected]
    if not values:
        raise DataValidationError(
            "exogenous: no value column; give dates, item_id and at least one numeric column known in advance "
            "(e.g. promotion, holiday)"
        )
    return values


def not_numeric_message(not_numeric: list[str]) -> str:
    return (
        f"exogenous: column(s) {not_numeric} are not numeric; every column besides dates and item_id must "
        "hold numbers (encode a category as 0/1 columns)"
    )


def _require_columns(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    values = check_columns(name, list(frame.columns))
    expected = SOURCES[name]
    if name != "exogenous":
        return frame.loc[:, list(expected)].copy()
    not_numeric = [column for column in values if frame[column].dtype.kind not in "biuf"]
    if not_numeric:
        raise DataValidationError(not_numeric_message(not_numeric))
    return frame.loc[:, [*expected, *values]].copy()


MONTH_FORMATS = "YYYY-MM, YYYY-MM-01 (month start) or the month's last day (month end)"


def _parse_dates(name: str, frame: pd.DataFrame, monthly: bool) -> pd.Series:
    raw = frame["dates"]
    if raw.dtype.kind == "M":
        parsed = raw
    elif isinstance(raw.dtype, pd.PeriodDtype):
        parsed = raw.dt.to_timestamp()
    else:
        # ISO 8601 only: "01/02/2020" is January in one country and February in another, so it is an error
        text = raw.astype("string").str.strip()
        year_month = text.str.fullmatch(r"\d{4}-\d{1,2}").fillna(False)
        parsed = pd.to_datetime(text.where(~year_month, text + "-01"), errors="coerce", format="ISO8601")
    bad = parsed.isna()
    if bad.any():
        raise DataValidationError(f"{not_dates_message(name, int(bad.sum()), monthly)}:\n{_show_rows(frame, bad)}")
    parsed = pd.Series(pd.DatetimeIndex(parsed).tz_localize(None).astype("datetime64[ns]"), index=frame.index)
    if not monthly:
        return parsed.dt.normalize()
    month_start = parsed.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
    month_end = parsed.dt.normalize() == (month_start + pd.offsets.MonthEnd(0))
    not_month = ~((parsed == month_start) | month_end)
    if not_month.any():
        raise DataValidationError(f"{not_month_message(name, int(not_month.sum()))}:\n{_show_rows(frame, not_month)}")
    return month_start


def not_dates_message(name: str, count: int, monthly: bool) -> str:
    expected = MONTH_FORMATS if monthly else "YYYY-MM-DD"
    expected += "; day-first or month-first dates such as 01/02/2020 are ambiguous: write them as ISO dates"
    return f"{name}: column 'dates' has {count} value(s) that are not dates (expected {expected})"


def not_month_message(name: str, count: int) -> str:
    return (
        f"{name}: data is monthly, so every 'dates' must name a month ({MONTH_FORMATS}); "
        f"{count} row(s) fall inside a month — aggregate them to months first"
    )


def not_finite_message(name: str, column: str, count: int) -> str:
    return (
        f"{name}: column '{column}' must be a finite number on every row; {count} row(s) are "
        "empty or not numbers (a missing month is a missing row, not an empty value)"
    )


def below_minimum_message(name: str, column: str, minimum: float, count: int) -> str:
    return f"{name}: column '{column}' must be ≥ {minimum:g}; {count} row(s) are not"


def duplicate_key_message(name: str, count: int, key: list[str]) -> str:
    return (
        f"{name}: {count} rows share a ({', '.join(key)}) key; each key must appear once. "
        "Sum or deduplicate them before forecasting"
    )


EMPTY_SALES_MESSAGE = "sales: the file has no rows; give at least one (dates, item_id, sales) row"


def _parse_numeric(name: str, frame: pd.DataFrame, column: str, minimum: float | None) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    bad = values.isna() | ~np.isfinite(values.to_numpy())
    if bad.any():
        raise DataValidationError(f"{not_finite_message(name, column, int(bad.sum()))}:\n{_show_rows(frame, bad)}")
    if minimum is not None:
        below = values < minimum
        if below.any():
            raise DataValidationError(
                f"{below_minimum_message(name, column, minimum, int(below.sum()))}:\n{_show_rows(frame, below)}"
            )
    return values


def _parse_item_ids(name: str, frame: pd.DataFrame, like: pd.Series | None) -> pd.Series:
    ids = frame["item_id"]
    if ids.isna().any():
        raise DataValidationError(f"{empty_item_message(name)}:\n{_show_rows(frame, ids.isna())}")
    if like is None:
        if ids.dtype.kind in "iu":
            return ids.astype("int64")
        if ids.dtype.kind == "f":
            if (ids != ids.round()).any():
                raise DataValidationError(f"{name}: column 'item_id' has non-integer numbers; use ints or names")
            return ids.astype("int64")
        text = ids.astype(str)
        if text.str.fullmatch(r"-?[1-9]\d{0,17}|0").all():  # plain integers written as text: the same ids
            return text.astype("int64")
        return text
    if like.dtype.kind in "iu":
        converted = pd.to_numeric(ids, errors="coerce")
        bad = converted.isna() | (converted != converted.round())
        if bad.any():
            raise DataValidationError(
                f"{name}: item_id must be integers like in the sales file; these rows are not:\n"
                f"{_show_rows(frame, bad)}"
            )
        return converted.astype("int64")
    return ids.astype(str)


def empty_item_message(name: str) -> str:
    return f"{name}: column 'item_id' is empty on some rows"


def _reject_duplicates(name: str, frame: pd.DataFrame, key: list[str]) -> None:
    duplicated = frame.duplicated(key, keep=False)
    if duplicated.any():
        raise DataValidationError(
            f"{duplicate_key_message(name, int(duplicated.sum()), key)}:\n"
            f"{_show_rows(frame.sort_values(key), duplicated)}"
        )


def _validate(name: str, frame: pd.DataFrame, sales_ids: pd.Series | None) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    clean = _require_columns(name, frame)
    if clean.empty and name == "sales":
        raise DataValidationError(EMPTY_SALES_MESSAGE)
    clean["item_id"] = _parse_item_ids(name, clean, sales_ids)
    if name == "objectives":
        years = pd.to_numeric(clean["fiscal_year"], errors="coerce")
        bad = years.isna() | (years != years.round())
        if bad.any():
            raise DataValidationError(f"objectives: 'fiscal_year' must be an integer year:\n{_show_rows(clean, bad)}")
        clean["fiscal_year"] = years.astype("int64")
        clean["objective"] = _parse_numeric(name, clean, "objective", minimum=0)
        _reject_duplicates(name, clean, ["fiscal_year", "item_id"])
        return clean.sort_values(["item_id", "fiscal_year"], ignore_index=True)
    clean["dates"] = _parse_dates(name, clean, monthly=name in MONTHLY_SOURCES)
    if name == "exogenous":
        for column in clean.columns[2:]:
            clean[column] = _parse_numeric(name, clean, column, minimum=None)
        _reject_duplicates(name, clean, ["dates", "item_id"])
        return clean.sort_values(["item_id", "dates"], ignore_index=True)
    value_column = SOURCES[name][2]
    minimum = {"sales": 0.0, "marketing": 0.0, "price": None, "refill": 0.0}[value_column]
    clean[value_column] = _parse_numeric(name, clean, value_column, minimum)
    if name == "price":
        not_positive = clean["price"] <= 0
        if not_positive.any():
            raise DataValidationError(f"price: prices must be > 0:\n{_show_rows(clean, not_positive)}")
    if name == "stock":
        clean = clean.groupby(["item_id", "dates"], as_index=False, sort=True)["refill"].sum()
    else:
        _reject_duplicates(name, clean, ["dates", "item_id"])
    return clean.sort_values(["item_id", "dates"], ignore_index=True)


def catalog_from_frames(
    sales: pd.DataFrame,
    marketing: pd.DataFrame | None = None,
    price: pd.DataFrame | None = None,
    stock: pd.DataFrame | None = None,
    objectives: pd.DataFrame | None = None,
    exogenous: pd.DataFrame | None = None,
) -> Catalog:
    """Validate frames into a :class:`Catalog`; monthly ``dates`` may be month strings or Timestamps.

    Raises :class:`DataValidationError` naming the source, column and offending rows.
    """
    clean_sales = _validate("sales", sales, None)
    given = {"marketing": marketing, "price": price, "stock": stock, "objectives": objectives, "exogenous": exogenous}
    others = {
        name: None if frame is None else _validate(name, frame, clean_sales["item_id"]) for name, frame in given.items()
    }
    return Catalog(sales=clean_sales, **others)


def _read_csv(name: str, path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataValidationError(f"{name}: file {path} does not exist; fix the path under config 'data'")
    if path.is_dir():
        raise DataValidationError(f"{name}: {path} is a folder; give the CSV file's path")
    try:
        # item ids are read as text so that "000" stays "000"; plain integers become ints again in validation
        return pd.read_csv(path, dtype={"item_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataValidationError(f"{name}: cannot read {path} as CSV with a header: {error}") from error


def load_catalog(data: Mapping[str, str | Path | pd.DataFrame], base_dir: Path | None = None) -> Catalog:
    """Read the configured sources (``"sales"`` required) into a validated :class:`Catalog`.

    Each source is a CSV path or a pandas DataFrame. Relative paths are resolved against ``base_dir``
    (default: the current directory). Unknown source names raise :class:`DataValidationError` listing the
    known ones.
    """
    if not isinstance(data, Mapping):
        raise DataValidationError(f"'data' must map source names to CSV paths or DataFrames, got {type(data).__name__}")
    unknown = sorted(set(data) - set(SOURCES))
    if unknown:
        raise DataValidationError(f"unknown data source(s) {unknown}; known sources are {list(SOURCES)}")
    if "sales" not in data:
        raise DataValidationError("'data' needs a 'sales' entry: the path of the monthly sales CSV")
    base = Path.cwd() if base_dir is None else Path(base_dir)
    frames = {}
    for name, location in data.items():
        if location is None:
            continue
        if isinstance(location, pd.DataFrame):
            frames[name] = location
            continue
        path = Path(location)
        frames[name] = _read_csv(name, path if path.is_absolute() else base / path)
        logger.info("read %s: %d rows from %s", name, len(frames[name]), path)
    return catalog_from_frames(**frames)

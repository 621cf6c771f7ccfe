"""The pandera contract a monthly sales frame must meet before any model is trained on it.

Required columns ``dates`` (datetime, first day of a month), ``item_id`` (integer or string, never
null) and ``sales`` (float, never null, ≥ 0); one row per ``(dates, item_id)``. All failures are
collected (lazy validation) so one message tells everything that is wrong.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandas.api.types import is_integer_dtype, is_object_dtype, is_string_dtype

MAX_CASES_SHOWN = 5


class SalesValidationError(ValueError):
    """The sales data breaks the schema; the message lists each broken rule with example rows."""


def _item_id_type(series: pd.Series) -> bool:
    return is_integer_dtype(series) or is_string_dtype(series) or is_object_dtype(series)


MONTHLY_SALES_SCHEMA = pa.DataFrameSchema(
    {
        "dates": pa.Column(
            "datetime64[ns]",
            checks=pa.Check(lambda dates: dates.dt.day == 1, element_wise=False, error="dates must be month starts"),
            nullable=False,
            coerce=True,
        ),
        "item_id": pa.Column(
            checks=pa.Check(_item_id_type, element_wise=False, error="item_id must be integers or strings"),
            nullable=False,
        ),
        "sales": pa.Column(float, checks=pa.Check.ge(0, error="sales must be >= 0"), nullable=False, coerce=True),
    },
    unique=["dates", "item_id"],
    strict=False,
    name="monthly sales",
)


def validate_monthly_sales(sales: pd.DataFrame, *, source: str = "sales") -> pd.DataFrame:
    """Return ``sales`` validated (dates as datetime64, sales as float) or raise :class:`SalesValidationError`."""
    try:
        return MONTHLY_SALES_SCHEMA.validate(sales, lazy=True)
    except pa.errors.SchemaErrors as errors:
        raise SalesValidationError(_describe(errors, source)) from None


def _describe(errors: pa.errors.SchemaErrors, source: str) -> str:
    """One line per broken rule: which column, what rule, how many rows, a few failing rows or values."""
    cases = errors.failure_cases
    lines = [f"{source} failed validation; fix the data and rerun:"]
    duplicates = cases[cases["check"] == "multiple_fields_uniqueness"]
    if len(duplicates):
        rows = sorted({int(index) for index in duplicates["index"].dropna()})
        lines.append(
            f"  - duplicate (dates, item_id): {len(rows)} row(s) share a month and item, "
            f"e.g. rows {rows[:MAX_CASES_SHOWN]}"
        )
    for (column, check), group in cases.drop(duplicates.index).groupby(["column", "check"], dropna=False, sort=False):
        if check == "column_in_dataframe":
            lines.append(f"  - missing required column {group['failure_case'].iloc[0]!r}")
            continue
        values = ", ".join(str(value) for value in group["failure_case"].head(MAX_CASES_SHOWN))
        rows = [int(index) for index in group["index"].head(MAX_CASES_SHOWN) if not pd.isna(index)]
        detail = f" at rows {rows}" if rows else ""
        lines.append(f"  - column {column!r}: {check} — {len(group)} row(s){detail}: {values}")
    return "\n".join(lines)

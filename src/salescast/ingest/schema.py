"""Validation of posted sales rows, and the shapes the ingestion API answers with.

Validation is row by row: one bad row never blocks the others. Each rejected row keeps its index in
the batch and every reason it was rejected, so the sender can fix them all at once.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from salescast.ingest.calendar import InvalidYearWeek, check_year_week

MAX_NAME_LENGTH = 200


class SalesRow(NamedTuple):
    """A valid row of the feed: the key is ``(year_week, vegetable)`` exactly as sent."""

    index: int
    year_week: int
    vegetable: str
    sales: float


class RejectedRow(BaseModel):
    index: int = Field(description="Position of the row in the posted list (0-based).")
    reasons: list[str] = Field(description="Everything wrong with the row.")


class PostSalesResult(BaseModel):
    inserted: int = Field(description="New keys stored.")
    updated: int = Field(description="Existing keys whose sales changed (last write wins).")
    unchanged: int = Field(description="Existing keys posted again with the same sales.")
    rejected: int = Field(description="Rows not stored; see `errors`.")
    errors: list[RejectedRow] = Field(default_factory=list)


class SalesRowIn(BaseModel):
    """Documentation of one posted row (validation itself is row-level, see :func:`validate_sales_rows`)."""

    year_week: int = Field(examples=[202005], description="ISO week as YYYYWW.")
    vegetable: str = Field(examples=["Tomate"], description="Name in English, French or Spanish.")
    sales: float = Field(examples=[70], ge=0, description="Units sold that week.")


class AliasIn(BaseModel):
    alias: str = Field(min_length=1, examples=["tomatto"], description="The name as it arrives in the feed.")
    vegetable: str = Field(min_length=1, examples=["tomato"], description="The vegetable it means.")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _year_week_reasons(value: Any) -> list[str]:
    if value is None:
        return ["year_week: missing"]
    if _is_number(value) and float(value).is_integer():
        try:
            check_year_week(int(value))
        except InvalidYearWeek as error:
            return [str(error)]
        return []
    return [f"year_week: expected an integer YYYYWW, got {value!r}"]


def _vegetable_reasons(value: Any) -> list[str]:
    if value is None:
        return ["vegetable: missing"]
    if not isinstance(value, str):
        return [f"vegetable: expected a string, got {type(value).__name__} {value!r}"]
    if not value.strip():
        return ["vegetable: empty or blank"]
    if len(value) > MAX_NAME_LENGTH:
        return [f"vegetable: longer than {MAX_NAME_LENGTH} characters"]
    return []


def _sales_reasons(value: Any) -> list[str]:
    if value is None:
        return ["sales: missing"]
    if not _is_number(value):
        return [f"sales: expected a number, got {value!r}"]
    if not math.isfinite(value):
        return [f"sales: must be finite, got {value!r}"]
    if value < 0:
        return [f"sales: must be ≥ 0, got {value!r}"]
    return []


def validate_sales_rows(rows: list[Any]) -> tuple[list[SalesRow], list[RejectedRow]]:
    """Split a posted batch into valid rows and rejected rows with their reasons.

    A row is a JSON object with ``year_week`` (an integer naming a real ISO week), ``vegetable``
    (a non-blank string) and ``sales`` (a finite number ≥ 0). Integral floats such as ``202005.0``
    are accepted as weeks; booleans are never numbers.
    """
    valid: list[SalesRow] = []
    rejected: list[RejectedRow] = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            rejected.append(RejectedRow(index=index, reasons=[f"row: expected an object, got {type(row).__name__}"]))
            continue
        year_week, vegetable, sales = row.get("year_week"), row.get("vegetable"), row.get("sales")
        reasons = _year_week_reasons(year_week) + _vegetable_reasons(vegetable) + _sales_reasons(sales)
        if reasons:
            rejected.append(RejectedRow(index=index, reasons=reasons))
        else:
            valid.append(SalesRow(index, int(year_week), vegetable, float(sales)))
    return valid, rejected

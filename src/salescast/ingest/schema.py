"""Validation of posted sales rows, and the shapes the ingestion API answers with.

Validation is row by row: one bad row never blocks the others. Each rejected row keeps its index in
the batch and every reason it was rejected, so the sender can fix them all at once.
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from salescast.ingest.calendar import InvalidYearWeek, check_year_week

MAX_NAME_LENGTH = 200
DEFAULT_MAX_SALES = 1e12
# Characters no name may hold: C0/C1 controls (NUL included: PostgreSQL cannot store it, SQLite would),
# line and paragraph separators, and lone surrogates (not encodable, so not storable, in UTF-8).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# The same rule as a JSON Schema pattern, for the documentation and for API fuzzers: no forbidden
# character, and at least one letter or digit (``[^\W_]``: what ``str.isalnum`` accepts).
_ALLOWED_CHARACTER = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
NAME_PATTERN = rf"^{_ALLOWED_CHARACTER}*[^\W_]{_ALLOWED_CHARACTER}*$"


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


class RawSalesRow(BaseModel):
    year_week: int
    vegetable: str = Field(description="The name exactly as sent.")
    sales: float


class WeeklySalesRow(BaseModel):
    year_week: int
    vegetable: str = Field(description="Canonical English name.")
    sales: float = Field(description="Sum of the week's raw rows resolving to this vegetable.")
    is_outlier: bool | None = Field(default=None, description="Only with `with_outlier_flag=true`.")


class MonthlySalesRow(BaseModel):
    year_month: int = Field(examples=[202001], description="YYYYMM.")
    vegetable: str
    sales: float = Field(description="Weeks prorated by their days in the month.")


class UnknownVegetable(BaseModel):
    name: str = Field(description="The name as sent.")
    rows: int
    total_sales: float


class AliasResult(BaseModel):
    alias: str = Field(description="The alias' normalized key.")
    vegetable: str = Field(description="The canonical vegetable it maps to.")
    known_vegetable: bool = Field(description="False when the alias created a vegetable the lexicon does not know.")
    rows_remapped: int = Field(description="Stored raw rows that moved to the vegetable.")


class StatusResult(BaseModel):
    status: str
    detail: str


class SalesRowIn(BaseModel):
    """One posted row as a sender should write it. Rows are validated one by one (see
    :func:`validate_sales_rows`): a row breaking these rules is rejected and reported, not the body."""

    year_week: int = Field(
        examples=[202005], description="ISO week as YYYYWW: a real ISO-8601 week of a year in 1900–2199."
    )
    vegetable: str = Field(
        examples=["Tomate"],
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        pattern=NAME_PATTERN,
        description="Name in English, French or Spanish: at least one letter or digit, no control character.",
    )
    sales: float = Field(
        examples=[70],
        ge=0,
        le=DEFAULT_MAX_SALES,
        description="Units sold that week: a finite number ≥ 0, at most SALESCAST_MAX_SALES (default 1e12).",
    )


def _name_field(description: str, example: str):
    return Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        pattern=NAME_PATTERN,
        examples=[example],
        description=f"{description} At most {MAX_NAME_LENGTH} characters, at least one letter or digit, "
        "no control character.",
    )


class AliasIn(BaseModel):
    # Python's re, as name_problem: `\w` is str.isalnum there (pydantic's default engine differs on ½).
    model_config = ConfigDict(regex_engine="python-re")

    alias: str = _name_field("The name as it arrives in the feed.", "tomatto")
    vegetable: str = _name_field("The vegetable it means, in any language (a new name creates a vegetable).", "tomato")

    @field_validator("alias", "vegetable", mode="before")
    @classmethod
    def _a_storable_name(cls, value: Any) -> Any:
        # Lone surrogates (which the pattern cannot name) and a clear message for everything else.
        if isinstance(value, str) and (problem := name_problem(value)):
            raise ValueError(problem)
        return value


class NumberOutOfRange:
    """A JSON number beyond the range of a float (``1e309``): kept as text so its row can be rejected."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class InvalidJson(ValueError):
    """The body is not JSON at all."""


def _float_or_out_of_range(text: str) -> float | NumberOutOfRange:
    value = float(text)
    return value if math.isfinite(value) else NumberOutOfRange(text)


def _int_or_out_of_range(text: str) -> int | float | NumberOutOfRange:
    # As orjson does: integers beyond 64 bits become floats (and Python refuses > 4,300 digits anyway).
    return int(text) if len(text) <= 19 else _float_or_out_of_range(text)


def _refuse_constant(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


def parse_json_body(body: bytes) -> Any:
    """The JSON value of a request body; raises :class:`InvalidJson` when it is not JSON.

    orjson first (fast). It refuses numbers beyond a float's range (``1e309``), which would make the
    whole body unusable for one bad number; such bodies are read again by the standard library, the
    number kept as a :class:`NumberOutOfRange` that rejects its own row only. ``NaN`` and ``Infinity``
    are not JSON and stay refused.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        first_error = error
    try:
        return json.loads(
            body,
            parse_float=_float_or_out_of_range,
            parse_int=_int_or_out_of_range,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError):
        raise InvalidJson(f"body is not valid JSON: {first_error}") from None


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a vegetable name (blank, too long, control characters, no letter or digit), or None."""
    if not value.strip():
        return "empty or blank"
    if len(value) > MAX_NAME_LENGTH:
        return f"longer than {MAX_NAME_LENGTH} characters"
    forbidden = sorted({char for char in value if unicodedata.category(char) in _FORBIDDEN_CATEGORIES})
    if forbidden:
        codes = ", ".join(f"U+{ord(char):04X}" for char in forbidden[:5])
        return f"holds control or unprintable characters ({codes})"
    if not any(char.isalnum() for char in value):
        return "holds no letter or digit"
    return None


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: a message never echoes a huge value back."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _year_week_reasons(value: Any) -> list[str]:
    if value is None:
        return ["year_week: missing"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if _is_number(value) and isinstance(value, int):
        try:
            check_year_week(value)
        except InvalidYearWeek as error:
            return [str(error)]
        return []
    return [f"year_week: expected an integer YYYYWW, got {_shown(value)}"]


def _vegetable_reasons(value: Any) -> list[str]:
    if value is None:
        return ["vegetable: missing"]
    if not isinstance(value, str):
        return [f"vegetable: expected a string, got {type(value).__name__} {_shown(value)}"]
    problem = name_problem(value)
    return [f"vegetable: {problem}"] if problem else []


def _sales_reasons(value: Any, max_sales: float) -> list[str]:
    if value is None:
        return ["sales: missing"]
    if isinstance(value, NumberOutOfRange):
        return [f"sales: {value.text} is out of range (at most {max_sales:g})"]
    if not _is_number(value):
        return [f"sales: expected a number, got {_shown(value)}"]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"sales: must be finite, got {value!r}"]
    if value < 0:
        return [f"sales: must be ≥ 0, got {value!r}"]
    if value > max_sales:
        return [f"sales: {_shown(value)} is larger than the maximum {max_sales:g} (SALESCAST_MAX_SALES)"]
    return []


def validate_sales_rows(
    rows: list[Any], max_sales: float = DEFAULT_MAX_SALES
) -> tuple[list[SalesRow], list[RejectedRow]]:
    """Split a posted batch into valid rows and rejected rows with their reasons.

    A row is a JSON object with ``year_week`` (an integer naming a real ISO week), ``vegetable``
    (a string of at most 200 characters with a letter or digit and no control character) and
    ``sales`` (a finite number from 0 to ``max_sales``). Integral floats such as ``202005.0`` are
    accepted as weeks; booleans are never numbers. ``max_sales`` keeps every sum the storage
    computes (weekly, monthly, variance) far from a float's overflow, on every backend.
    """
    valid: list[SalesRow] = []
    rejected: list[RejectedRow] = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            rejected.append(RejectedRow(index=index, reasons=[f"row: expected an object, got {type(row).__name__}"]))
            continue
        year_week, vegetable, sales = row.get("year_week"), row.get("vegetable"), row.get("sales")
        reasons = _year_week_reasons(year_week) + _vegetable_reasons(vegetable) + _sales_reasons(sales, max_sales)
        if reasons:
            rejected.append(RejectedRow(index=index, reasons=reasons))
        else:
            valid.append(SalesRow(index, int(year_week), vegetable, float(sales)))
    return valid, rejected

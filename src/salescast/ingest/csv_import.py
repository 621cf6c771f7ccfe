"""Bulk import of a weekly sales CSV through the same validation and storage as ``POST /post_sales``.

The summary accounts for every line of the file::

    rows = inserted + updated + unchanged + rejected + duplicates + summed

* **duplicates**: rows whose key — ``(year_week, vegetable exactly as written)`` — appears again later in
  the file; the last row wins, as within one posted batch;
* **summed**: with ``sum_over`` (e.g. a ``store`` column), the rows of one key in different stores are
  added up into one, and each row beyond the first of its key counts here.

A column other than ``year_week``, ``vegetable`` and ``sales`` is an error unless ``sum_over`` names it:
silently ignored, two stores' rows of one week would overwrite each other.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRED_COLUMNS = ("year_week", "vegetable", "sales")
HEADER_LINE = 1  # rows are reported by their line in the file: the header is line 1
_INTEGER = re.compile(r"^[+-]?\d+$")


class CsvFormatError(ValueError):
    """The file is not a usable sales CSV (missing or unexpected columns, not text, …)."""


@dataclass(frozen=True)
class CsvRow:
    """One data row: its line in the file, the posted fields, and the values of the ``sum_over`` columns."""

    line: int
    fields: dict[str, Any]
    group: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    """What happened to every row of the file (see the module docstring for how they add up)."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    summed: int = 0
    rejected_lines: list[tuple[int, list[str]]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            name: getattr(self, name)
            for name in ("rows", "inserted", "updated", "unchanged", "rejected", "duplicates", "summed")
        }

    def adds_up(self) -> bool:
        parts = self.inserted + self.updated + self.unchanged + self.rejected + self.duplicates + self.summed
        return parts == self.rows


def _number_or_text(text: str, *, integer: bool) -> Any:
    """A CSV cell as the JSON value a sender would have posted: a number when it reads as one."""
    text = text.strip()
    if not text:
        return None
    if integer:
        return int(text) if _INTEGER.match(text) else text
    try:
        return float(text)
    except ValueError:
        return text


def read_sales_csv(path: Path) -> list[dict]:
    """Rows of ``path`` as ``{"year_week", "vegetable", "sales"}`` dicts, left unvalidated (what a sender posts)."""
    return [row.fields for row in read_sales_rows(path)]


def read_sales_rows(path: Path, sum_over: Sequence[str] = ()) -> list[CsvRow]:
    """Rows of ``path``, left unvalidated; raises :class:`CsvFormatError` for a header we cannot use.

    Cells that read as numbers become numbers; anything else stays text, so that validation can
    reject it with the same reasons the API gives. Blank cells become missing values.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            _check_header(path, header, sum_over)
            return [
                CsvRow(
                    line=HEADER_LINE + number,
                    fields={
                        "year_week": _number_or_text(row["year_week"] or "", integer=True),
                        "vegetable": row["vegetable"],
                        "sales": _number_or_text(row["sales"] or "", integer=False),
                    },
                    group=tuple((row[column] or "").strip() for column in sum_over),
                )
                for number, row in enumerate(reader, start=1)
            ]
    except UnicodeDecodeError as error:
        raise CsvFormatError(f"{path}: not UTF-8 text ({error})") from None


def _check_header(path: Path, header: list[str], sum_over: Sequence[str]) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise CsvFormatError(
            f"{path}: missing column(s) {', '.join(missing)}; the header must be year_week,vegetable,sales "
            f"(found: {', '.join(header) or 'nothing'})"
        )
    unknown_sum = [column for column in sum_over if column not in header or column in REQUIRED_COLUMNS]
    if unknown_sum:
        raise CsvFormatError(
            f"{path}: --sum-over names {', '.join(unknown_sum)}, which is not an extra column of the file "
            f"(its columns: {', '.join(header)})"
        )
    extra = [column for column in header if column not in REQUIRED_COLUMNS and column not in sum_over]
    if extra:
        hint = " ".join(f"--sum-over {column}" for column in extra)
        raise CsvFormatError(
            f"{path}: unexpected column(s) {', '.join(extra)}; the header must be year_week,vegetable,sales. "
            f"Rows that differ only in {'these columns' if len(extra) > 1 else 'this column'} would overwrite "
            f"each other (the last one wins): to add them up (e.g. the stores of one week), pass {hint}; "
            "otherwise remove the column(s)"
        )


def merge_rows(valid: Sequence[tuple[Any, tuple[str, ...]]]) -> tuple[list[dict[str, Any]], int, int]:
    """(one row per key, duplicates, summed) from validated ``(SalesRow, sum_over values)`` pairs, in file order.

    Within a key and group the last row wins; the groups of a key (its stores) are added up.
    """
    by_group: dict[tuple, float] = {}
    for row, group in valid:
        by_group[(row.year_week, row.vegetable, group)] = row.sales  # the last row wins
    totals: dict[tuple, list[float]] = {}
    for (year_week, vegetable, _), sales in by_group.items():
        totals.setdefault((year_week, vegetable), []).append(sales)
    merged = [
        {"year_week": year_week, "vegetable": vegetable, "sales": math.fsum(values)}
        for (year_week, vegetable), values in totals.items()
    ]
    return merged, len(valid) - len(by_group), len(by_group) - len(totals)


def import_sales_rows(
    service,
    rows: Sequence[CsvRow],
    *,
    batch_size: int = 1000,
    on_rows: Callable[[int], None] = lambda rows: None,
) -> ImportSummary:
    """Validate every row, merge duplicates (and ``sum_over`` groups), store the rest in batches of ``batch_size``.

    ``service`` is an :class:`~salescast.ingest.service.IngestService`; ``on_rows`` is told how many rows of
    the file each step accounts for (for a progress bar).
    """
    from salescast.ingest.schema import validate_sales_rows

    valid, rejected = validate_sales_rows([row.fields for row in rows])
    summary = ImportSummary(rows=len(rows), rejected=len(rejected))
    summary.rejected_lines = [(rows[error.index].line, error.reasons) for error in rejected]
    merged, summary.duplicates, summary.summed = merge_rows([(row, rows[row.index].group) for row in valid])
    on_rows(len(rows) - len(merged))  # rejected and merged rows need no write
    for start in range(0, len(merged), batch_size):
        batch = merged[start : start + batch_size]
        result = service.post_sales(batch)
        summary.inserted += result.inserted
        summary.updated += result.updated
        summary.unchanged += result.unchanged
        summary.rejected += result.rejected  # none: the rows were validated above
        on_rows(len(batch))
    return summary

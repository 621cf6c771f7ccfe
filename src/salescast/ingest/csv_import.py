"""Reading a weekly sales CSV into the same row objects the HTTP API receives."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

REQUIRED_COLUMNS = ("year_week", "vegetable", "sales")
_INTEGER = re.compile(r"^[+-]?\d+$")


class CsvFormatError(ValueError):
    """The file is not a usable sales CSV (missing header columns, not text, …)."""


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
    """Rows of ``path`` as ``{"year_week", "vegetable", "sales"}`` dicts, left unvalidated.

    Cells that read as numbers become numbers; anything else stays text, so that validation can
    reject it with the same reasons the API gives. Blank cells become missing values.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
            if missing:
                raise CsvFormatError(
                    f"{path}: missing column(s) {', '.join(missing)}; the header must be year_week,vegetable,sales "
                    f"(found: {', '.join(reader.fieldnames or []) or 'nothing'})"
                )
            return [
                {
                    "year_week": _number_or_text(row["year_week"] or "", integer=True),
                    "vegetable": row["vegetable"],
                    "sales": _number_or_text(row["sales"] or "", integer=False),
                }
                for row in reader
            ]
    except UnicodeDecodeError as error:
        raise CsvFormatError(f"{path}: not UTF-8 text ({error})") from None

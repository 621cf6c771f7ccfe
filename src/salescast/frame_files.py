"""Tables written for the user as CSV or Parquet, chosen by the file's extension."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FORMATS = {".csv": "CSV", ".parquet": "Parquet"}


class OutputFormatError(ValueError):
    """The output path names a format we do not write; the message lists the ones we do."""


def check_output_path(path: Path) -> Path:
    """``path`` if its extension is ``.csv`` or ``.parquet`` and it is not a folder; else :class:`OutputFormatError`."""
    path = Path(path)
    if path.is_dir():
        raise OutputFormatError(f"{path} is a folder; give a file name ending in .csv or .parquet")
    if path.suffix.lower() not in FORMATS:
        raise OutputFormatError(f"cannot tell the format of {path}: give a file name ending in .csv or .parquet")
    return path


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` (without its index) to ``path`` as CSV or Parquet; creates the folder."""
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def read_frame(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`write_frame`."""
    import pandas as pd

    path = check_output_path(path)
    return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)

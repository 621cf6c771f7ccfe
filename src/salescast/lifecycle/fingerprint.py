"""What a training run has seen: the catalog cut at the test month, and its fingerprint.

The fingerprint is what makes the monthly job idempotent: SHA-256 over every row of every table the
job can see (all rows up to the end of the test month) plus the model config and the month plan.
Rows after the test month never enter it, so new months arriving do not change a past month's run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pandas as pd

from salescast.lifecycle.months import MonthPlan, shift_month
from salescast.lifecycle.sources import PipelineConfig


def catalog_until(catalog, month: pd.Timestamp):
    """The catalog without any row after the end of ``month`` (objectives: fiscal years up to its year)."""
    end = shift_month(month, 1)
    changes: dict[str, Any] = {"sales": catalog.sales[catalog.sales["dates"] < end].reset_index(drop=True)}
    for name in ("marketing", "price", "stock"):
        table = getattr(catalog, name)
        if table is not None:
            changes[name] = table[table["dates"] < end].reset_index(drop=True)
    if catalog.objectives is not None:
        changes["objectives"] = catalog.objectives[catalog.objectives["fiscal_year"] <= month.year]
    return dataclasses.replace(catalog, **changes)


def fingerprint(catalog, config: PipelineConfig, plan: MonthPlan) -> str:
    """SHA-256 of every row of every table of ``catalog`` plus the model config and the month plan."""
    digest = hashlib.sha256()
    for name in ("sales", "marketing", "price", "stock", "objectives"):
        table = getattr(catalog, name)
        digest.update(name.encode())
        if table is None:
            digest.update(b"<none>")
            continue
        ordered = table.sort_values(list(table.columns), ignore_index=True)
        digest.update(",".join(map(str, ordered.columns)).encode())
        digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    settings = {"config": config.as_params(), "plan": plan.as_params()}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()

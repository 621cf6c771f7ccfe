"""Data and prediction drift of the champion: its training window against the monitored month.

The compared samples are the rows (item, month) with actual sales: **reference** = the months the
champion was trained on (its ``train_months`` tag), **current** = the monitored month. For each model
feature column, for the target (``sales``) and for the champion's predictions, the two samples are
compared with :func:`~salescast.monitoring.drift.compare_distributions`.

Values in sales units (the target, the predictions and every sales-unit feature such as the lags) are
first divided by the item's mean sales over the reference window. Items differ by orders of magnitude
(potatoes ~3,000 a week, artichokes ~40), so the raw cross-section is dominated by which item is which
and a shift of every item by half would hide inside it; relative to its own level, each item
contributes the same. Unitless features (growth, price ratios, marketing) are compared as they are.
Items without sales in the reference window have no level and are left out of the scaled columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salescast.monitoring.drift import DriftResult, DriftThresholds, compare_distributions

TARGET = "sales"
PREDICTION = "prediction"


def drift_frame(forecaster, catalog, reference_months: Sequence[pd.Timestamp], month: pd.Timestamp):
    """(rows, feature columns, sales-unit columns): one row per (month, item) with sales, features, prediction."""
    months = sorted({*reference_months, month})
    # The design carries which columns are in sales units; the feature frame alone does not.
    design = forecaster._design(catalog, months)
    frame = design.frame
    features = [column for column in frame.columns if column not in ("dates", "item_id", TARGET)]
    predictions = forecaster.predict(catalog, months)
    frame = frame.merge(predictions, on=["dates", "item_id"], how="left").dropna(subset=[TARGET])
    return frame, features, set(design.sales_unit_columns) | {TARGET, PREDICTION}


def drift_samples(
    forecaster, catalog, reference_months: Sequence[pd.Timestamp], month: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(reference, current, feature columns): the compared rows, sales-unit columns divided by the item's level.

    Each sample has ``dates``, ``item_id``, the feature columns, ``sales`` and ``prediction``. Every value of an
    item depends only on that item's rows, so a subset of items (a Spark group) gives those items' rows.
    """
    frame, features, sales_units = drift_frame(forecaster, catalog, reference_months, month)
    reference = frame[frame["dates"].isin(list(reference_months))]
    current = frame[frame["dates"] == month]
    level = reference.groupby("item_id")[TARGET].mean()
    level = level[level > 0]
    columns = [*features, TARGET, PREDICTION]

    def scaled(sample: pd.DataFrame) -> pd.DataFrame:
        out = sample[["dates", "item_id", *columns]].copy()
        divisor = sample["item_id"].map(level).to_numpy(dtype=np.float64)
        for column in columns:
            if column in sales_units:
                out[column] = sample[column].to_numpy(dtype=np.float64) / divisor
        return out

    return scaled(reference), scaled(current), features


def drift_kinds(features: Sequence[str]) -> dict[str, str]:
    """The compared columns in report order (features, then the target and the prediction) and their kinds."""
    return {**dict.fromkeys(features, "feature"), TARGET: "target", PREDICTION: "prediction"}


def data_drift(
    forecaster,
    catalog,
    reference_months: Sequence[pd.Timestamp],
    month: pd.Timestamp,
    thresholds: DriftThresholds = DriftThresholds(),
) -> tuple[list[DriftResult], pd.DataFrame, pd.DataFrame]:
    """One :class:`DriftResult` per feature column, then the target and the prediction; plus the scaled samples.

    The returned reference and current frames hold the compared (scaled) values, for the charts.
    """
    reference, current, features = drift_samples(forecaster, catalog, reference_months, month)
    results = [
        compare_distributions(column, kind, reference[column], current[column], thresholds)
        for column, kind in drift_kinds(features).items()
    ]
    return results, reference, current

"""The MLflow pyfunc wrapper a registered version holds: a fitted ``Forecaster`` and how to call it.

Input: a monthly sales history — columns ``dates`` (month start), ``item_id``, ``sales``, and
``marketing`` / ``price`` when the model uses them. Output: one row per item for the month to forecast,
``dates``, ``item_id``, ``prediction``. The month is ``params={"month": "YYYY-MM"}``, by default the
month after the last one in the history (one month ahead, what serving needs). The fitted forecaster
itself is ``load_model(uri).unwrap_python_model().forecaster``, for callers that hold a full catalog.
"""

from __future__ import annotations

import pandas as pd
from mlflow.pyfunc import PythonModel

HISTORY_COLUMNS = ("dates", "item_id", "sales")
OPTIONAL_MONTHLY_TABLES = ("marketing", "price")


class ForecasterModel(PythonModel):
    """A fitted :class:`~salescast.forecast.pipeline.Forecaster` as an MLflow Python model."""

    def __init__(self, forecaster) -> None:
        self.forecaster = forecaster

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Forecast ``params["month"]`` (default: the month after the history) for every item of the history."""
        from salescast.forecast.catalog import catalog_from_frames
        from salescast.lifecycle.months import parse_month, shift_month

        missing = [column for column in HISTORY_COLUMNS if column not in model_input.columns]
        if missing:
            raise ValueError(f"model input lacks column(s) {missing}; send monthly history {list(HISTORY_COLUMNS)}")
        history = model_input.assign(dates=pd.to_datetime(model_input["dates"]))
        tables = {
            name: history[["dates", "item_id", name]].dropna(subset=[name])
            for name in OPTIONAL_MONTHLY_TABLES
            if name in history.columns
        }
        sales = history[list(HISTORY_COLUMNS)].dropna(subset=["sales"])
        catalog = catalog_from_frames(sales, **tables)
        month = (params or {}).get("month")
        target = parse_month(month) if month else shift_month(sales["dates"].max(), 1)
        items = sorted(sales["item_id"].unique().tolist())
        return self.forecaster.predict(catalog, [target], items=items).reset_index(drop=True)

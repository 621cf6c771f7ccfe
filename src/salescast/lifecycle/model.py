"""The MLflow pyfunc wrapper a registered version holds: a fitted ``Forecaster`` and how to call it.

Input: a monthly sales history — columns ``dates`` (month start), ``item_id``, ``sales`` — optionally
with ``marketing`` and ``price`` columns (monthly, per item). Output: one row per item of the history
for the month to forecast: ``dates``, ``item_id``, ``prediction``. The month is
``params={"month": "YYYY-MM"}``, by default the month after the last one in the history (one month
ahead, what serving needs). Prediction intervals: ``params={"intervals": "80,95"}`` (or a list), or an
``intervals`` column in the input (the same levels on every row), add ``lo_80, hi_80, …`` after
``prediction``, from the calibration stored at training time.

The exogenous tables the model's features read (marketing, price, stock, objectives) are kept with
the model as they were at training time; values given in the input take precedence for their
(month, item). The fitted forecaster itself is ``load_model(uri).unwrap_python_model().forecaster``,
for callers that hold a full catalog.
"""

from __future__ import annotations

import pandas as pd
from mlflow.pyfunc import PythonModel

HISTORY_COLUMNS = ("dates", "item_id", "sales")
MONTHLY_INPUTS = ("marketing", "price")
EXOGENOUS_TABLES = ("marketing", "price", "stock", "objectives")


def context_tables(catalog, features) -> dict[str, pd.DataFrame]:
    """The catalog's exogenous tables the ``features`` need (a feature is named after its table)."""
    return {
        name: getattr(catalog, name)
        for name in EXOGENOUS_TABLES
        if name in features and getattr(catalog, name) is not None
    }


class ForecasterModel(PythonModel):
    """A fitted :class:`~salescast.forecast.pipeline.Forecaster` as an MLflow Python model."""

    def __init__(self, forecaster, context: dict[str, pd.DataFrame] | None = None) -> None:
        self.forecaster = forecaster
        self.context = dict(context or {})

    def _tables(self, history: pd.DataFrame, items: list) -> dict[str, pd.DataFrame]:
        """Exogenous tables for the catalog: input columns first, then the training-time context."""
        tables = {}
        for name in EXOGENOUS_TABLES:
            known = self.context.get(name)
            if known is not None:
                known = known[known["item_id"].isin(items)]
            given = None
            if name in MONTHLY_INPUTS and name in history.columns:
                given = history[["dates", "item_id", name]].dropna(subset=[name])
            if given is not None and known is not None:
                keys = pd.MultiIndex.from_frame(given[["dates", "item_id"]])
                older = ~pd.MultiIndex.from_frame(known[["dates", "item_id"]]).isin(keys)
                tables[name] = pd.concat([known[older], given], ignore_index=True)
            elif given is not None or known is not None:
                tables[name] = given if given is not None else known
        return tables

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Forecast ``params["month"]`` (default: the month after the history) for every item of the history."""
        from salescast.forecast.catalog import catalog_from_frames
        from salescast.lifecycle.months import parse_month, shift_month

        missing = [column for column in HISTORY_COLUMNS if column not in model_input.columns]
        if missing:
            raise ValueError(f"model input lacks column(s) {missing}; send monthly history {list(HISTORY_COLUMNS)}")
        history = model_input.assign(dates=pd.to_datetime(model_input["dates"]))
        sales = history[list(HISTORY_COLUMNS)].dropna(subset=["sales"])
        items = sorted(sales["item_id"].unique().tolist())
        catalog = catalog_from_frames(sales, **self._tables(history, items))
        month = (params or {}).get("month")
        target = parse_month(month) if month else shift_month(sales["dates"].max(), 1)
        levels = requested_levels(model_input, params)
        return self.forecaster.predict(catalog, [target], items=items, levels=levels or None).reset_index(drop=True)


def requested_levels(model_input: pd.DataFrame, params: dict | None) -> tuple[float, ...]:
    """The interval levels of ``params["intervals"]`` or of the input's ``intervals`` column (one value only)."""
    from salescast.forecast.intervals import parse_levels

    given = (params or {}).get("intervals")
    if given is None and "intervals" in model_input.columns:
        values = model_input["intervals"].dropna().astype(str).unique().tolist()
        if len(values) > 1:
            raise ValueError(f"the intervals column must hold one set of levels, got {values}")
        given = values[0] if values else None
    return parse_levels(given)

"""Forecasts: what the models forecast against what happened, and the champion's next months."""

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from salescast.dashboard import charts, context
from salescast.dashboard.forecast_data import (
    TOTAL,
    UnknownTrainingSource,
    error_by_month,
    forecast_view,
    horizon_table,
)
from salescast.dashboard.sales_data import SalesDatabaseMissing
from salescast.ingest.store import StorageError
from salescast.lifecycle.months import format_month
from salescast.lifecycle.sources import PipelineConfigError

DEFAULT_HORIZON = 3
NO_HORIZON = pd.DataFrame(columns=["dates", "item_id", "prediction", "step"])

st.title("Forecasts")
settings = context.current_settings()
key = context.settings_key(settings)
overview = context.registry_or_stop(key)

recorded = context.recorded_forecasts(key, tuple(entry.version for entry in overview.entries))
champion = overview.champion
history = None
horizon = None
if champion is None:
    st.warning(
        f"No version of {overview.model_name} is champion yet: every version so far lost to the baseline "
        "(see the Models page). Recorded forecasts are below; the forecast of the coming months needs a champion."
    )
else:
    source = context.run_tags(key, champion.run_id).get("source", "")
    try:
        history = context.training_history(key, source)
    except (UnknownTrainingSource, PipelineConfigError, SalesDatabaseMissing) as error:
        st.warning(f"Cannot read the champion's training data again ({error}): no forecast of the coming months.")
    except (StorageError, SQLAlchemyError, OSError, ValueError) as error:
        st.error(f"Reading the champion's training data failed: {error}")

controls = st.columns([2, 1])
if history is not None:
    actual_sales = history.sales
else:  # without the champion's source, the recorded months' actuals are all there is
    actual_sales = recorded.rename(columns={"month": "dates", "actual": "sales"})[["dates", "item_id", "sales"]]
items = sorted(set(recorded["item_id"]) | set(actual_sales["item_id"].astype(str)))
item = controls[0].selectbox("Item", [TOTAL, *items], key="item")
months = controls[1].slider(
    "Months ahead", 1, context.MAX_HORIZON, DEFAULT_HORIZON, key="horizon", disabled=history is None
)
if history is not None and not history.sales.empty:
    horizon = context.horizon_forecast(key, champion.version, source, months)

metrics = st.columns(4)
if champion is not None:
    metrics[0].metric("Champion", f"v{champion.version}", help=f"tested on {champion.test_month}: {champion.reason}")
if history is not None and history.last_month is not None:
    last_total = history.sales.loc[history.sales["dates"] == history.last_month, "sales"].sum()
    metrics[1].metric(f"Actual {format_month(history.last_month)} (total)", f"{last_total:,.0f}")
if horizon is not None and not horizon.empty:
    first = horizon[horizon["step"] == 1]
    metrics[2].metric(f"Forecast {format_month(first['dates'].iloc[0])} (total)", f"{first['prediction'].sum():,.0f}")
errors = error_by_month(recorded, overview.entries)
if not errors.empty:
    last_error = errors.iloc[-1]
    metrics[3].metric(
        f"Total error {last_error['month']:%Y-%m}",
        f"{last_error['total_error_pct']:+.1f} %",
        help="Recorded total forecast against the total actual of the last month with both.",
    )

view = forecast_view(actual_sales, recorded, horizon if horizon is not None else NO_HORIZON, item)
st.plotly_chart(charts.forecast_chart(view, item), key="forecast_chart")
if history is not None:
    st.caption(
        f"Actuals: {history.description}, up to the last complete month. Recorded forecasts: each version's "
        f"one-month-ahead forecast of its test month. Dashed: champion v{champion.version}, each month fed back "
        "as history for the next."
    )

if horizon is not None and not horizon.empty:
    st.subheader(f"Champion forecast, next {months} month(s)")
    table = horizon_table(horizon)
    st.dataframe(table)
    st.download_button("Download CSV", table.to_csv().encode(), "forecast.csv", "text/csv", key="horizon_csv")

st.subheader("Error by month")
if errors.empty:
    st.write("No recorded forecast yet: each `salescast train` records its test month's forecasts.")
else:
    st.plotly_chart(charts.error_by_month_chart(errors), key="error_chart")
    shown = errors.assign(month=errors["month"].dt.strftime("%Y-%m"))
    st.dataframe(shown.round(2), hide_index=True)

    st.subheader("Forecasts vs actuals per item")
    recorded_months = list(reversed(shown["month"].tolist()))
    month = st.selectbox("Month", recorded_months, key="recorded_month")
    rows = recorded[recorded["month"].dt.strftime("%Y-%m") == month].drop(columns="month")
    rows = rows.assign(abs_pct_error=(rows["error"].abs() / rows["actual"] * 100).where(rows["actual"] != 0))
    st.dataframe(rows.sort_values("error", key=abs, ascending=False).round(2), hide_index=True)

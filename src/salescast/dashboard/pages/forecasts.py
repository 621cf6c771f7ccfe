"""Forecasts: what the models forecast against what happened, and the champion's next months."""

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from salescast.dashboard import charts, context
from salescast.dashboard.forecast_data import (
    TOTAL,
    complete_history,
    error_by_month,
    forecast_view,
    horizon_frame,
    horizon_table,
    past_coverage,
)
from salescast.dashboard.sales_data import SalesDatabaseMissing
from salescast.ingest.store import StorageError
from salescast.lifecycle.months import format_month
from salescast.lifecycle.sources import DatabaseSource, PipelineConfigError
from salescast.serving.data import NoDataError

DEFAULT_HORIZON = 3
BAND_LEVELS = (80.0,)  # the band drawn around the champion's horizon forecast of one item
NO_HORIZON = pd.DataFrame(columns=["dates", "item_id", "prediction", "step"])

st.title("Forecasts")
settings = context.current_settings()
context.sidebar(settings)
key = context.settings_key(settings)
overview = context.registry_or_stop(key)
recorded = context.recorded_forecasts(key, tuple(entry.version for entry in overview.entries))

service = snapshot = champion = None
try:
    service = context.forecasting(key)
    service.champions.refresh()
    snapshot = service.data.snapshot()
    champion = service.champions.champion
except (PipelineConfigError, SalesDatabaseMissing, NoDataError) as error:
    st.warning(f"No forecast of the coming months: {error}")
except (StorageError, SQLAlchemyError, OSError) as error:
    st.error(f"Reading the data to forecast from failed: {error}")
if service is not None and snapshot is not None and champion is None:
    st.warning(f"No forecast of the coming months: {service.champions.status}. Recorded forecasts are below.")

if snapshot is not None:
    sales = snapshot.catalog.sales[["dates", "item_id", "sales"]]
    source = service.data.source
    if isinstance(source, DatabaseSource) and source.database_url in (None, settings.database_url):
        sales = complete_history(sales, context.partial_months(key))
else:  # without the source, the recorded months' actuals are all there is
    sales = recorded.rename(columns={"month": "dates", "actual": "sales"})[["dates", "item_id", "sales"]]

controls = st.columns([2, 1])
items = sorted(set(recorded["item_id"]) | set(sales["item_id"].astype(str)))
item = controls[0].selectbox("Item", [TOTAL, *items], key="item")
longest = min(context.MAX_HORIZON, settings.forecast_max_horizon)  # the API refuses longer horizons
if longest > 1:
    months = controls[1].slider(
        "Months ahead", 1, longest, min(DEFAULT_HORIZON, longest), key="horizon", disabled=champion is None
    )
else:
    months = 1
horizon = NO_HORIZON
calibrated = champion is not None and getattr(champion.forecaster, "calibration_", None) is not None
if champion is not None:
    horizon = horizon_frame(service.horizon_forecast(None, months, BAND_LEVELS if calibrated else ()))

metrics = st.columns(4)
if champion is not None:
    metrics[0].metric("Champion", f"v{champion.version}", help=f"trained for {champion.training_month}")
if snapshot is not None:
    last_total = sales.loc[sales["dates"] == snapshot.last_month, "sales"].sum()
    metrics[1].metric(f"Actual {format_month(snapshot.last_month)} (total)", f"{last_total:,.0f}")
if not horizon.empty:
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

view = forecast_view(sales, recorded, horizon, item)
st.plotly_chart(charts.forecast_chart(view, item), key="forecast_chart")
caption = "Recorded forecasts: each version's one-month-ahead forecast of its test month."
if snapshot is not None:
    caption = f"Actuals: {snapshot.description}, complete months. {caption}"
if champion is not None:
    caption += f" Dashed: champion v{champion.version}, each month fed back as history for the next (as GET /forecast)."
    if calibrated and item != TOTAL:
        caption += " Band: its 80 % prediction interval, widening with the step (GET /forecast?…&intervals=80)."
    elif calibrated:
        caption += " Pick an item for its 80 % band (a sum of item bounds is not an interval of the total)."
coverage, covered_rows = past_coverage(recorded)
if covered_rows:
    caption += (
        f" Recorded 80 % intervals (whiskers, per item) held {coverage:.0f} % of the actuals"
        f" ({covered_rows} recorded forecasts with an interval)."
    )
st.caption(caption)

if not horizon.empty:
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

"""Sales: weekly and monthly series per vegetable, outliers marked, names waiting for an alias."""

import json
import shlex

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from salescast.dashboard import charts, context
from salescast.dashboard.sales_data import (
    SalesDatabaseMissing,
    outlier_weeks_frame,
    partial_months,
    sales_overview,
    select_weekly,
    vegetables_by_sales,
)
from salescast.ingest.store import StorageError

DEFAULT_SELECTION = 3

st.title("Sales")
settings = context.current_settings()
context.sidebar(settings)
key = context.settings_key(settings)
database = context.display_url(settings.database_url)
try:
    weekly = context.weekly_sales(key)
    unknown = context.unknown_names(key)
except SalesDatabaseMissing:
    weekly = None
except (StorageError, SQLAlchemyError, OSError) as error:
    st.error(f"Cannot read the sales database `{database}`: {error}")
    st.stop()

if weekly is None or (weekly.empty and unknown.empty):
    st.info(context.NO_SALES.format(database=database))
    st.stop()

overview = sales_overview(weekly, unknown)
columns = st.columns(4)
columns[0].metric("Vegetables", overview.vegetables)
columns[1].metric("Weeks", overview.weeks, help=f"{overview.first_week} … {overview.last_week}")
columns[2].metric("Outlier weeks", overview.outlier_weeks)
columns[3].metric("Names waiting for an alias", overview.unknown_names)

if not weekly.empty:
    st.caption(f"Weeks {overview.first_week} … {overview.last_week}, from `{database}`.")
    ranked = vegetables_by_sales(weekly)
    chosen = st.multiselect("Vegetables", ranked, default=ranked[:DEFAULT_SELECTION], key="vegetables")
    remove_outliers = st.toggle(
        "Remove outliers",
        key="remove_outliers",
        help="Leave out the weeks flagged as outliers (beyond the outlier threshold in standard deviations of "
        "the vegetable's own weekly sales), also from the monthly sums.",
    )
    if not chosen:
        st.warning("Pick at least one vegetable to see its series.")
    else:
        shown = select_weekly(weekly, chosen, remove_outliers=remove_outliers)
        st.plotly_chart(charts.weekly_sales_chart(shown, mark_outliers=not remove_outliers), key="weekly_chart")
        monthly = context.monthly_sales(key, remove_outliers)
        monthly = monthly[monthly["vegetable"].isin(chosen)]
        partial = partial_months(weekly)
        figure = charts.monthly_sales_chart(monthly, remove_outliers=remove_outliers, partial=partial)
        st.plotly_chart(figure, key="monthly_chart")
        if partial:
            names = ", ".join(month.strftime("%Y-%m") for month in partial)
            st.caption(f"Ringed: {names} — months only partly covered by the weeks ingested so far.")

        st.subheader("Outlier weeks")
        flagged = outlier_weeks_frame(weekly, chosen)
        if flagged.empty:
            st.write("No outlier week for the selected vegetables.")
        else:
            st.dataframe(flagged, hide_index=True)

st.subheader("Names waiting for an alias")
if unknown.empty:
    st.write("Every name sent so far resolved to a vegetable.")
else:
    st.dataframe(unknown, hide_index=True)
    payload = json.dumps({"alias": str(unknown["name"].iloc[0]), "vegetable": "…"}, ensure_ascii=False)
    st.markdown(
        "Map a name to a vegetable (past and future rows move to it):\n\n```bash\n"
        'curl -s -X POST localhost:8000/vegetable_aliases -H "Authorization: Bearer $SALESCAST_ADMIN_TOKEN" \\\n'
        f"     -H 'content-type: application/json' -d {shlex.quote(payload)}\n```"
    )

"""Models: the registered versions, champion and challenger, why each was promoted or kept, error analysis."""

import streamlit as st

from salescast.dashboard import charts, context
from salescast.dashboard.model_data import error_analysis_tables, history_frame


def _number(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:,.{digits}g}"


st.title("Models")
settings = context.current_settings()
context.sidebar(settings)
key = context.settings_key(settings)
overview = context.registry_or_stop(key)
uri = context.display_url(context.tracking_store(key).uri)

champion, challenger = overview.champion, overview.challenger
columns = st.columns(4)
columns[0].metric("Champion", f"v{champion.version}" if champion else "none")
columns[1].metric("Champion RMSE", _number(champion.candidate["rmse"]) if champion else "–", help="on its test month")
columns[2].metric("Challenger", f"v{challenger.version}" if challenger else "none")
columns[3].metric("Versions", len(overview.entries))
if champion is None:
    st.warning("No version is champion: none has beaten the SameMonthLastYearSales baseline yet.")
else:
    st.caption(f"{overview.model_name} in `{uri}`. Champion v{champion.version}: {champion.reason}")

history = history_frame(overview.entries)
st.subheader("Registry versions")
st.dataframe(
    history.drop(columns="reason").round({"rmse": 1, "baseline_rmse": 1, "champion_rmse": 1, "mae": 1, "mape": 2}),
    hide_index=True,
)
st.plotly_chart(charts.version_metrics_chart(history), key="versions_chart")

st.subheader("Promotion history")
for entry in reversed(overview.entries):
    aliases = f" · **{', '.join(entry.aliases)}**" if entry.aliases else ""
    mark = ":material/check_circle:" if entry.decision == "promoted" else ":material/pause_circle:"
    compared = f"RMSE {_number(entry.candidate['rmse'])} vs baseline {_number(entry.baseline_rmse)}"
    if entry.champion_version:
        compared += f" and champion v{entry.champion_version} {_number(entry.champion['rmse'])}"
    st.markdown(
        f"{mark} **v{entry.version}** · test month {entry.test_month} · {entry.decision}{aliases} — "
        f"{compared}  \n{entry.reason}"
    )

st.subheader("Error analysis")
versions = [entry.version for entry in reversed(overview.entries)]
version = st.selectbox("Version", versions, format_func=lambda v: f"v{v} ({overview.entry(v).test_month})", key="ea")
entry = overview.entry(version)
selection = context.auto_selection(key, entry.run_id)
if selection is not None:
    st.markdown(f"**Auto's candidates** (v{version}): validation MASE and how many items each forecasts")
    st.dataframe(selection["candidates"].round(3), hide_index=True, key="auto_candidates")
    with st.expander("Candidates per item"):
        st.dataframe(selection["selection"].round(3), hide_index=True, key="auto_selection")
analysis = context.error_analysis(key, entry.run_id)
if analysis is None:
    st.write(f"Run {entry.run_id} of v{version} logged no error analysis.")
    st.stop()
overall, bias = analysis["overall"], analysis["bias"]
columns = st.columns(5)
columns[0].metric("RMSE", _number(overall["rmse"]))
columns[1].metric("MAE", _number(overall["mae"]))
columns[2].metric("MAPE %", _number(overall["mape"], 3))
columns[3].metric("Mean signed error", _number(bias["mean_signed_error"]), help="forecast − actual; > 0: over-forecast")
columns[4].metric("Over-forecast share", f"{bias['share_over']:.0%}", help=f"under: {bias['share_under']:.0%}")
tables = error_analysis_tables(analysis)
left, right = st.columns(2)
with left:
    st.plotly_chart(charts.bucket_error_chart(tables["per_bucket"]), key="bucket_chart")
with right:
    st.plotly_chart(charts.item_error_chart(tables["per_item"]), key="item_chart")
st.markdown(f"**By sales quartile** (v{version}, test month {entry.test_month})")
st.dataframe(tables["per_bucket"].round(2), hide_index=True)
st.markdown("**Worst errors**")
st.dataframe(tables["worst"].round(2), hide_index=True)
with st.expander("Per item"):
    st.dataframe(tables["per_item"].round(2), hide_index=True)

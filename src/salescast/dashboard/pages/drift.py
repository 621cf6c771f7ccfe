"""Drift: the latest monitoring report — per-feature PSI/KS and the champion's error over time."""

import streamlit as st

from salescast.dashboard import charts, context
from salescast.dashboard.drift_data import (
    LATEST_NAME,
    ReportFormatError,
    data_drift_frame,
    drifted_names,
    latest_report_path,
    load_report,
    monthly_reports,
    performance_frame,
    reports_dir,
)

st.title("Drift")
settings = context.current_settings()
context.sidebar(settings)
root = reports_dir(settings)
latest = latest_report_path(root)
if latest is None:
    st.info(context.NO_REPORT.format(folder=root / "monitoring"))
    st.stop()

reports = monthly_reports(root)
choices = ["latest", *reports]
choice = st.selectbox("Report", choices, key="report", help=f"'latest' is {LATEST_NAME}, the newest report.")
path = latest if choice == "latest" else reports[choice]
try:
    report = load_report(path)
except ReportFormatError as error:
    st.error(str(error))
    st.stop()

champion = report.get("champion") or {}
drifted = drifted_names(report)
performance_drift = report["performance_drift"]
columns = st.columns(4)
columns[0].metric("Month monitored", report["month"])
columns[1].metric("Champion", f"v{champion['version']}" if champion.get("version") else "none")
columns[2].metric("Drifted features", f"{len(drifted)} / {len(report['data_drift'])}")
columns[3].metric("Performance drift", "yes" if performance_drift.get("drifted") else "no")
if report["drifted"]:
    names = ", ".join(drifted) if drifted else "no feature"
    st.error(f"Drift in {report['month']}: {names}. Performance: {performance_drift.get('reason', '')}")
else:
    st.success(f"No drift in {report['month']}. {performance_drift.get('reason', '')}")
retrained = report.get("retrained")
if retrained:
    st.info(f"Retrained: version {retrained.get('version')} — {retrained.get('decision')}.")
st.caption(f"Report `{path}`, created {report['created_at']}.")

thresholds = report["thresholds"]
st.subheader("Data drift")
drift = data_drift_frame(report)
st.plotly_chart(charts.psi_chart(drift, thresholds.get("psi")), key="psi_chart")
st.dataframe(
    drift.round({"psi": 4, "ks_statistic": 4}),
    hide_index=True,
    column_config={"ks_pvalue": st.column_config.NumberColumn("ks_pvalue", format="%.2e")},
)
st.caption(
    f"Drifted as judged by the monitor with thresholds PSI {thresholds.get('psi')} and KS p-value "
    f"{thresholds.get('ks_pvalue')}; reference: the champion's training months, current: {report['month']}."
)

st.subheader("Performance drift")
performance = performance_frame(report)
if performance.empty:
    st.write("No month with actuals since the champion was trained.")
else:
    st.plotly_chart(charts.performance_chart(performance), key="performance_chart")
    st.dataframe(
        performance.assign(month=performance["month"].dt.strftime("%Y-%m")).round(2),
        hide_index=True,
        key="performance_table",
    )
    window = performance_drift.get("window_months")
    st.caption(f"{performance_drift.get('reason', '')} (window: {window} months)")

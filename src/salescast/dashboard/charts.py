"""Plotly figures for the dashboard pages, each built from a frame of a ``*_data`` module."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from salescast.dashboard.forecast_data import ForecastView
from salescast.forecast.intervals import columns_levels, level_name

TEMPLATE = "plotly_white"
OUTLIER_COLOR = "#d62728"
HEIGHT = 380


def _layout(figure: go.Figure, title: str, y_title: str) -> go.Figure:
    figure.update_layout(
        title=title,
        template=TEMPLATE,
        height=HEIGHT,
        yaxis_title=y_title,
        xaxis_title=None,
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 50, "b": 40, "l": 60, "r": 20},
    )
    return figure


def _markers(x, y, name: str, marker: dict, label: pd.Series) -> go.Scatter:
    """Highlighted points drawn over the lines, named in the legend, each labelled on hover."""
    return go.Scatter(
        x=x,
        y=y,
        mode="markers",
        name=name,
        marker=marker,
        text=label,
        hovertemplate=f"%{{text}}: %{{y:,.0f}}<extra>{name}</extra>",
    )


def weekly_sales_chart(weekly: pd.DataFrame, *, mark_outliers: bool = True) -> go.Figure:
    """One line per vegetable; flagged weeks as red crosses named "outlier"."""
    figure = px.line(weekly, x="week_start", y="sales", color="vegetable", hover_data=["year_week"])
    flagged = weekly[weekly["is_outlier"]]
    if mark_outliers and not flagged.empty:
        label = flagged["vegetable"] + " " + flagged["year_week"].astype(str)
        marker = {"color": OUTLIER_COLOR, "symbol": "x", "size": 11}
        figure.add_trace(_markers(flagged["week_start"], flagged["sales"], "outlier", marker, label))
    return _layout(figure, "Weekly sales", "sales per week")


def monthly_sales_chart(
    monthly: pd.DataFrame, *, remove_outliers: bool, partial: list[pd.Timestamp] | None = None
) -> go.Figure:
    """One line per vegetable over months (weeks prorated by days); ``partial`` months ringed as "partial month"."""
    figure = px.line(monthly, x="month", y="sales", color="vegetable", markers=True)
    ringed = monthly[monthly["month"].isin(partial or [])]
    if not ringed.empty:
        label = ringed["vegetable"] + " " + ringed["month"].dt.strftime("%Y-%m") + " (not every day ingested yet)"
        marker = {"symbol": "circle-open", "size": 14, "color": "#7f7f7f", "line": {"width": 2}}
        figure.add_trace(_markers(ringed["month"], ringed["sales"], "partial month", marker, label))
    title = "Monthly sales" + (" (outlier weeks removed)" if remove_outliers else "")
    return _layout(figure, title, "sales per month")


def forecast_chart(view: ForecastView, item: str) -> go.Figure:
    """Actuals as a line, each version's recorded forecast as a marker, the champion's horizon dashed."""
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=view.actual["month"], y=view.actual["sales"], mode="lines+markers", name="actual"))
    if not view.recorded.empty:
        recorded = view.recorded
        error_y = None
        if "lo_80" in recorded and "hi_80" in recorded:  # the version's logged 80 % interval
            error_y = {
                "type": "data",
                "symmetric": False,
                "array": (recorded["hi_80"] - recorded["forecast"]).to_numpy(),
                "arrayminus": (recorded["forecast"] - recorded["lo_80"]).to_numpy(),
            }
        figure.add_trace(
            go.Scatter(
                x=recorded["month"],
                y=recorded["forecast"],
                mode="markers",
                name="forecast (recorded)",
                marker={"symbol": "diamond", "size": 11},
                error_y=error_y,
                text="v" + recorded["version"].astype(str),
                hovertemplate="%{text}: %{y:,.1f}<extra>forecast</extra>",
            )
        )
    if not view.horizon.empty:
        ahead = view.horizon
        if not view.actual.empty:  # join the dashed line to the last actual
            last = view.actual.iloc[[-1]].rename(columns={"sales": "forecast"})
            ahead = pd.concat([last, ahead], ignore_index=True)
        figure.add_trace(
            go.Scatter(
                x=ahead["month"],
                y=ahead["forecast"],
                mode="lines+markers",
                name="champion forecast",
                line={"dash": "dash"},
            )
        )
        for level in columns_levels(view.horizon.columns):
            band = view.horizon
            name = level_name(level)
            figure.add_trace(
                go.Scatter(
                    x=pd.concat([band["month"], band["month"][::-1]]),
                    y=pd.concat([band[f"hi_{name}"], band[f"lo_{name}"][::-1]]),
                    fill="toself",
                    mode="lines",
                    line={"width": 0},
                    opacity=0.25,
                    name=f"champion {name} % interval",
                    hoverinfo="skip",
                )
            )
    return _layout(figure, f"Forecasts vs actuals — {item}", "sales per month")


def error_by_month_chart(errors: pd.DataFrame) -> go.Figure:
    """RMSE and MAE bars per recorded month, SameMonthLastYearSales RMSE as a line."""
    months = errors["month"].dt.strftime("%Y-%m")
    figure = go.Figure()
    figure.add_trace(go.Bar(x=months, y=errors["rmse"], name="RMSE", text="v" + errors["version"].astype(str)))
    figure.add_trace(go.Bar(x=months, y=errors["mae"], name="MAE"))
    figure.add_trace(
        go.Scatter(x=months, y=errors["baseline_rmse"], mode="lines+markers", name="baseline RMSE (same month LY)")
    )
    figure.update_layout(barmode="group")
    figure.update_xaxes(type="category")
    return _layout(figure, "Forecast error by month", "error")


def version_metrics_chart(history: pd.DataFrame) -> go.Figure:
    """Each version's RMSE on its test month against the baseline and the champion it was compared with."""
    ordered = history.sort_values("version")
    labels = "v" + ordered["version"].astype(str) + " · " + ordered["test_month"]
    colors = ["#2ca02c" if decision == "promoted" else "#ff7f0e" for decision in ordered["decision"]]
    figure = go.Figure()
    figure.add_trace(go.Bar(x=labels, y=ordered["rmse"], name="version RMSE", marker_color=colors))
    figure.add_trace(go.Scatter(x=labels, y=ordered["baseline_rmse"], mode="lines+markers", name="baseline RMSE"))
    figure.add_trace(
        go.Scatter(x=labels, y=ordered["champion_rmse"], mode="markers", name="champion RMSE (same month)")
    )
    figure.update_xaxes(type="category")
    return _layout(figure, "RMSE by version (green: promoted, orange: kept)", "RMSE on the test month")


def bucket_error_chart(per_bucket: pd.DataFrame) -> go.Figure:
    """MAE and mean signed error per quartile of actual sales."""
    figure = go.Figure()
    figure.add_trace(go.Bar(x=per_bucket["bucket"], y=per_bucket["mae"], name="MAE"))
    figure.add_trace(go.Bar(x=per_bucket["bucket"], y=per_bucket["mean_signed_error"], name="mean signed error"))
    figure.update_layout(barmode="group")
    return _layout(figure, "Error by sales quartile (Q1: smallest actuals)", "error")


def item_error_chart(per_item: pd.DataFrame, top: int = 15) -> go.Figure:
    """MAE of the ``top`` worst items, horizontal bars."""
    worst = per_item.head(top).iloc[::-1]
    figure = go.Figure(go.Bar(x=worst["mae"], y=worst["item_id"].astype(str), orientation="h", name="MAE"))
    return _layout(figure, f"MAE per item (worst {min(top, len(per_item))})", None)


def psi_chart(drift: pd.DataFrame, threshold: float | None) -> go.Figure:
    """PSI per feature, drifted ones in red, the threshold as a dashed line."""
    shown = drift.dropna(subset=["psi"])
    colors = [OUTLIER_COLOR if flag else "#1f77b4" for flag in shown["drifted"]]
    figure = go.Figure(go.Bar(x=shown["name"], y=shown["psi"], marker_color=colors, name="PSI"))
    if threshold is not None:
        figure.add_hline(y=threshold, line_dash="dash", annotation_text=f"threshold {threshold:g}")
    figure.update_xaxes(type="category")
    return _layout(figure, "Population stability index per feature (red: drifted)", "PSI")


def performance_chart(performance: pd.DataFrame) -> go.Figure:
    """Champion and baseline RMSE and MAE by month."""
    figure = go.Figure()
    for column, name, color, dash in (
        ("champion_rmse", "champion RMSE", "#1f77b4", None),
        ("baseline_rmse", "baseline RMSE", "#1f77b4", "dash"),
        ("champion_mae", "champion MAE", "#2ca02c", None),
        ("baseline_mae", "baseline MAE", "#2ca02c", "dash"),
    ):
        line = {"color": color, "dash": dash}
        figure.add_trace(
            go.Scatter(x=performance["month"], y=performance[column], mode="lines+markers", name=name, line=line)
        )
    figure.update_xaxes(dtick="M1", tickformat="%Y-%m")
    return _layout(figure, "Performance over time", "error")

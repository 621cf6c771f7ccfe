"""What every page shares: the settings, cached data access, and the texts of the empty states.

Caching: store handles, the MLflow client and loaded models are ``st.cache_resource`` (one per
process); query results are ``st.cache_data`` with a TTL — sales for :data:`SALES_TTL` seconds,
registry reads for :data:`REGISTRY_TTL`, artifacts of a run (immutable) for an hour; the forecast
service (the API's) caches the champion per version and its forecasts per data version. The sidebar's
*Refresh data* button clears the data caches at once. Cached functions take the settings as JSON so
their keys change with any setting.
"""

from __future__ import annotations

import streamlit as st

from salescast.settings import Settings

SALES_TTL = 60
REGISTRY_TTL = 60
ARTIFACT_TTL = 3600
MAX_HORIZON = 12

NO_SALES = """**No sales yet.** Post the weekly feed to the API, or import a CSV, then press *Refresh data*:

```bash
salescast serve   # in another terminal, then:
curl -s -X POST localhost:8000/post_sales -H 'content-type: application/json' \\
     -d '[{{"year_week": 202005, "vegetable": "Tomate", "sales": 70}}]'
```

```bash
salescast generate vegetables --out data/vegetables.csv   # or your own year_week,vegetable,sales file
salescast import-sales data/vegetables.csv
```

The dashboard reads `{database}` (`--database-url` or `SALESCAST_DATABASE_URL`)."""

NO_MODEL = """**No model yet.** Train one on the sales database, then press *Refresh data*:

```bash
cat > pipeline.yaml <<'YAML'
source: {{kind: database, remove_outliers: true}}
model: Ridge
features: [same_month_last_year, last_year_average, growth]
lifecycle: {{window: 12}}
YAML
salescast train                                   # the latest complete month
salescast backtest --from 2023-06 --to 2023-12    # or replay the job month by month
```

The dashboard reads the MLflow store `{uri}` (`SALESCAST_MLFLOW_TRACKING_URI`)."""

NO_REPORT = """**No monitoring report yet** in `{folder}`. Run the monthly monitoring after training:

```bash
salescast monitor
```

It writes `monitoring/<YYYY-MM>/report.json` and `monitoring/latest.json` under the reports folder
(`--reports-dir` or `SALESCAST_REPORTS_DIR`, default `reports`)."""


def current_settings() -> Settings:
    """The settings of this process (the ``salescast dashboard`` command passes them as ``SALESCAST_*``)."""
    return Settings()


def settings_key(settings: Settings) -> str:
    return settings.model_dump_json()


def _settings(key: str) -> Settings:
    return Settings.model_validate_json(key)


def display_url(url: str) -> str:
    """``url`` with any password masked."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


# -- sales ---------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _sales_store(key: str):
    from salescast.dashboard.sales_data import open_sales_store

    return open_sales_store(_settings(key))


@st.cache_data(ttl=SALES_TTL, show_spinner="Reading weekly sales…")
def weekly_sales(key: str):
    from salescast.dashboard.sales_data import weekly_sales_frame

    return weekly_sales_frame(_sales_store(key))


@st.cache_data(ttl=SALES_TTL, show_spinner="Reading monthly sales…")
def monthly_sales(key: str, remove_outliers: bool):
    from salescast.dashboard.sales_data import monthly_sales_frame

    return monthly_sales_frame(_sales_store(key), remove_outliers=remove_outliers)


@st.cache_data(ttl=SALES_TTL, show_spinner=False)
def unknown_names(key: str):
    from salescast.dashboard.sales_data import unknown_names_frame

    return unknown_names_frame(_sales_store(key))


# -- models --------------------------------------------------------------------------------------


def tracking_store(key: str):
    """The MLflow store, holding the registered model of the pipeline the dashboard shows (as `monitor` picks it)."""
    from salescast.lifecycle.sources import resolve_model_name
    from salescast.lifecycle.tracking import TrackingStore

    settings = _settings(key)
    return TrackingStore.from_settings(settings, resolve_model_name(None, settings))


@st.cache_resource(show_spinner=False)
def _mlflow_client(key: str):
    from salescast.dashboard.model_data import connect

    return connect(tracking_store(key))


@st.cache_data(ttl=REGISTRY_TTL, show_spinner="Reading the model registry…")
def registry(key: str):
    from salescast.dashboard.model_data import registry_overview

    return registry_overview(_mlflow_client(key), tracking_store(key).model_name)


@st.cache_data(ttl=ARTIFACT_TTL, show_spinner="Downloading the error analysis…")
def error_analysis(key: str, run_id: str):
    from salescast.dashboard.model_data import load_error_analysis

    return load_error_analysis(_mlflow_client(key), run_id)


@st.cache_data(ttl=ARTIFACT_TTL, show_spinner="Downloading Auto's selection…")
def auto_selection(key: str, run_id: str):
    from salescast.dashboard.model_data import load_auto_selection

    return load_auto_selection(_mlflow_client(key), run_id)


@st.cache_data(ttl=ARTIFACT_TTL, show_spinner="Downloading recorded forecasts…")
def recorded_forecasts(key: str, versions: tuple[str, ...]):
    """The recorded forecasts of the registry's versions; ``versions`` only keys the cache."""
    from salescast.dashboard.forecast_data import recorded_forecasts as read

    return read(_mlflow_client(key), registry(key).entries)


@st.cache_resource(show_spinner="Loading the champion and its data…")
def forecasting(key: str):
    """The serving package's forecast service on these settings; one per process, shared by sessions.

    It reloads the champion when ``service.champions.refresh()`` sees the alias move, and the data
    when the source's version moves.
    """
    from salescast.dashboard.forecast_data import forecasting_service, forecasting_source
    from salescast.lifecycle.sources import DatabaseSource

    settings = _settings(key)
    source = forecasting_source(settings)
    settings_database = isinstance(source, DatabaseSource) and source.database_url in (None, settings.database_url)
    return forecasting_service(settings, _sales_store(key) if settings_database else None)


@st.cache_data(ttl=SALES_TTL, show_spinner=False)
def partial_months(key: str):
    """Months of the settings' database not fully covered by ingested weeks (see the Sales page)."""
    from salescast.dashboard.sales_data import partial_months as months

    return months(weekly_sales(key))


# -- layout --------------------------------------------------------------------------------------


def sidebar(settings: Settings) -> None:
    """Where the data comes from, and a button that drops every cached query."""
    from salescast.dashboard.drift_data import reports_dir

    with st.sidebar:
        if st.button("Refresh data", help="Read sales, models and reports again now (otherwise every minute)."):
            st.cache_data.clear()
            forecasting.clear()  # also picks up an edited pipeline config
        st.caption(f"Database: `{display_url(settings.database_url)}`")
        st.caption(f"MLflow: `{display_url(tracking_store(settings_key(settings)).uri)}`")
        st.caption(f"Reports: `{reports_dir(settings)}`")


def registry_or_stop(key: str):
    """The registry overview; when there is no model (or the store fails) show why and stop the page."""
    from mlflow.exceptions import MlflowException

    from salescast.dashboard.model_data import TrackingStoreMissing

    uri = display_url(tracking_store(key).uri)
    try:
        overview = registry(key)
    except TrackingStoreMissing:
        overview = None
    except MlflowException as error:
        st.error(f"Cannot read the MLflow store `{uri}`: {error}")
        st.stop()
    if overview is None or not overview.entries:
        st.info(NO_MODEL.format(uri=uri))
        st.stop()
    return overview

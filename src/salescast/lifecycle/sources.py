"""``pipeline.yaml``: which data the monthly job reads, which model and features it trains.

Two kinds of source::

    source: {kind: csv, data: {sales: data/sales.csv, marketing: data/marketing.csv}}
    source: {kind: database, database_url: sqlite:///data/salescast.db, remove_outliers: true}

A top-level ``data:`` mapping (the ``make_predictions`` config) also means a CSV source. CSV paths
are relative to the YAML file. The database source reads the ingestion service's monthly sales
(vegetables as items); its complete months are the months every one of whose days is covered by
an ingested week, so a month still being fed is never picked as the default test month.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from salescast.lifecycle.months import DEFAULT_WINDOW, MissingMonthsError, complete_months_from_weeks

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("pipeline.yaml")
GATE_AND_REPORTED_BASELINES = ("SameMonthLastYearSales", "PrevMonthSale", "ThreeMonthMean")
EXAMPLE = """source:
  kind: csv                      # or: database
  data: {sales: data/sales.csv}  # database: database_url (optional), remove_outliers (bool)
model: Ridge
features: [last_month, same_month_last_year, last_year_average]
lifecycle: {window: 3}"""


class PipelineConfigError(ValueError):
    """``pipeline.yaml`` is missing, unreadable or names something unknown; the message says what to change."""


@dataclass(frozen=True)
class CsvSource:
    """The forecasting engine's CSV catalog: ``data`` maps table names to files (``sales`` required)."""

    data: dict[str, Path]
    kind: str = "csv"

    def describe(self) -> str:
        return "csv: " + ", ".join(f"{name}={path}" for name, path in self.data.items())


@dataclass(frozen=True)
class DatabaseSource:
    """The ingestion database's monthly sales; ``database_url`` None means the settings' database."""

    database_url: str | None = None
    remove_outliers: bool = False
    kind: str = "database"

    def describe(self) -> str:
        return f"database: {self.database_url or 'settings database_url'} (remove_outliers={self.remove_outliers})"


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the job needs from ``pipeline.yaml``; ``features`` None means the engine's defaults."""

    source: CsvSource | DatabaseSource
    model: str = "Ridge"
    model_params: dict[str, Any] = field(default_factory=dict)
    features: list[str] | None = None
    window: int = DEFAULT_WINDOW
    baselines: list[str] = field(default_factory=lambda: list(GATE_AND_REPORTED_BASELINES))
    target_scaling: str | None = "auto"
    path: Path | None = None

    def as_params(self) -> dict[str, Any]:
        """The model part of the config, as it enters the fingerprint and the MLflow params."""
        return {
            "model": self.model,
            "model_params": dict(sorted(self.model_params.items())),
            "features": self.features,
            "target_scaling": self.target_scaling,
            "baselines": self.baselines,
            "source": self.source.kind,
            "remove_outliers": getattr(self.source, "remove_outliers", None),
        }


def load_pipeline_config(path: Path) -> PipelineConfig:
    """Read and check ``path``; every problem raises :class:`PipelineConfigError` naming the key to fix."""
    path = Path(path)
    if not path.is_file():
        raise PipelineConfigError(f"pipeline config {path} not found; create it (or pass --config), e.g.:\n{EXAMPLE}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PipelineConfigError(f"{path} is not valid YAML: {error}") from None
    return parse_pipeline_config(raw, base_dir=path.resolve().parent, path=path)


def resolve_pipeline_config(config: Path | None, settings) -> PipelineConfig:
    """``config``, else ``SALESCAST_PIPELINE_CONFIG``, else ``./pipeline.yaml`` if present, else the database.

    How ``monitor`` and the dashboard choose the pipeline whose champion they look at.
    """
    path = config or settings.pipeline_config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    return load_pipeline_config(Path(path)) if path is not None else PipelineConfig(source=DatabaseSource())


def parse_pipeline_config(raw: Any, *, base_dir: Path, path: Path | None = None) -> PipelineConfig:
    """Build a :class:`PipelineConfig` from the YAML mapping ``raw``; CSV paths resolved against ``base_dir``."""
    where = str(path) if path else "pipeline config"
    if not isinstance(raw, Mapping):
        raise PipelineConfigError(f"{where} must be a mapping with a 'source' (or 'data') key, e.g.:\n{EXAMPLE}")
    known = {"source", "data", "model", "model_params", "features", "target_scaling", "start_test", "lifecycle"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise PipelineConfigError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(known)}")
    source = _parse_source(raw, base_dir, where)
    if "start_test" in raw:
        logger.warning("%s: start_test is ignored by the monthly job; choose the month with --test-month", where)
    model = raw.get("model", "Ridge")
    if not isinstance(model, str) or not model:
        raise PipelineConfigError(f"{where}: 'model' must be a model name such as Ridge or LightGBM (got {model!r})")
    model_params = raw.get("model_params") or {}
    if not isinstance(model_params, Mapping):
        raise PipelineConfigError(f"{where}: 'model_params' must be a mapping of hyperparameters")
    features = raw.get("features")
    if features is not None and (not isinstance(features, list) or not all(isinstance(f, str) for f in features)):
        raise PipelineConfigError(f"{where}: 'features' must be a list of feature names")
    lifecycle = raw.get("lifecycle") or {}
    if not isinstance(lifecycle, Mapping):
        raise PipelineConfigError(f"{where}: 'lifecycle' must be a mapping (window, baselines)")
    unknown = sorted(set(lifecycle) - {"window", "baselines"})
    if unknown:
        raise PipelineConfigError(f"{where}: unknown lifecycle key(s) {unknown}; use window, baselines")
    window = lifecycle.get("window", DEFAULT_WINDOW)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise PipelineConfigError(f"{where}: lifecycle.window must be a whole number of months ≥ 1 (got {window!r})")
    baselines = list(lifecycle.get("baselines", GATE_AND_REPORTED_BASELINES))
    if GATE_AND_REPORTED_BASELINES[0] not in baselines:
        baselines.insert(0, GATE_AND_REPORTED_BASELINES[0])  # the promotion gate always needs it
    scaling = raw.get("target_scaling", "auto")
    _check_engine_names(model, features, baselines, scaling, where)
    return PipelineConfig(source, model, dict(model_params), features, window, baselines, scaling, path)


def _check_engine_names(model: str, features: list[str] | None, baselines: list, scaling, where: str) -> None:
    """Unknown model, feature, baseline or scaling names fail here, naming the valid ones, before any data is read."""
    from salescast.forecast.pipeline import DEFAULT_FEATURES, Forecaster

    try:
        Forecaster(model, DEFAULT_FEATURES if features is None else features, target_scaling=scaling)
        for baseline in baselines:
            Forecaster(str(baseline), [])
    except ValueError as error:
        raise PipelineConfigError(f"{where}: {error}") from None


def _parse_source(raw: Mapping, base_dir: Path, where: str) -> CsvSource | DatabaseSource:
    source = raw.get("source")
    if source is None and "data" in raw:
        source = {"kind": "csv", "data": raw["data"]}
    if not isinstance(source, Mapping) or "kind" not in source:
        raise PipelineConfigError(
            f"{where}: 'source' must be a mapping with kind: csv or kind: database, e.g.:\n{EXAMPLE}"
        )
    kind = source["kind"]
    if kind == "csv":
        data = source.get("data")
        if not isinstance(data, Mapping) or "sales" not in data:
            raise PipelineConfigError(f"{where}: a csv source needs data: {{sales: path/to/sales.csv, ...}}")
        files = {name: (base_dir / str(file)) for name, file in data.items()}
        return CsvSource(files)
    if kind == "database":
        unknown = sorted(set(source) - {"kind", "database_url", "remove_outliers"})
        if unknown:
            raise PipelineConfigError(f"{where}: unknown database source key(s) {unknown}")
        url = source.get("database_url")
        remove = source.get("remove_outliers", False)
        if url is not None and not isinstance(url, str):
            raise PipelineConfigError(f"{where}: source.database_url must be a SQLAlchemy URL string")
        if not isinstance(remove, bool):
            raise PipelineConfigError(f"{where}: source.remove_outliers must be true or false (got {remove!r})")
        return DatabaseSource(url, remove)
    raise PipelineConfigError(f"{where}: unknown source kind {kind!r}; use csv or database")


@dataclass(frozen=True)
class SourceData:
    """The catalog a source yields and the months known to be complete (None: every month present is)."""

    catalog: Any
    complete_months: list[pd.Timestamp] | None
    description: str


def load_source(source: CsvSource | DatabaseSource, settings) -> SourceData:
    """Read ``source`` into a forecasting :class:`~salescast.forecast.catalog.Catalog`."""
    if isinstance(source, CsvSource):
        from salescast.forecast.catalog import load_catalog

        missing = [f"{name}={path}" for name, path in source.data.items() if not Path(path).is_file()]
        if missing:
            raise PipelineConfigError(f"csv source: file(s) not found: {', '.join(missing)}")
        catalog = load_catalog({name: str(path) for name, path in source.data.items()})
        return SourceData(catalog, None, source.describe())
    return _load_database(source, settings)


def _load_database(source: DatabaseSource, settings) -> SourceData:
    from salescast.ingest.store import open_store

    if source.database_url:
        settings = settings.model_copy(update={"database_url": source.database_url})
    store = open_store(settings)
    try:
        store.migrate()
        monthly = store.monthly_sales(remove_outliers=source.remove_outliers)
        weeks = {row["year_week"] for row in store.weekly_sales()}
    finally:
        store.dispose()
    if monthly.empty:
        raise MissingMonthsError(
            f"the database {settings.database_url} has no sales yet: post weekly sales (POST /post_sales) "
            "or load a file with `salescast import-sales FILE`",
            missing=[],
            available=[],
        )
    complete = complete_months_from_weeks(weeks)
    if complete:
        # Months before the first complete one hold a few days of a week: as lags they would mislead.
        first = complete[0]
        leading = monthly["year_month"] < first.year * 100 + first.month
        if leading.any():
            logger.info("database source: dropping %d row(s) of partial months before %s", leading.sum(), first.date())
        monthly = monthly[~leading]
    return SourceData(catalog_from_monthly(monthly), complete, source.describe())


def catalog_from_monthly(monthly: pd.DataFrame):
    """``year_month``/``vegetable``/``sales`` rows → a Catalog with ``item_id`` = vegetable name."""
    from salescast.forecast.catalog import catalog_from_frames

    sales = pd.DataFrame(
        {
            "dates": pd.to_datetime(monthly["year_month"].astype("int64").astype(str), format="%Y%m"),
            "item_id": monthly["vegetable"].astype(str),
            "sales": monthly["sales"].astype("float64"),
        }
    )
    return catalog_from_frames(sales)

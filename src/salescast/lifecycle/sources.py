"""``pipeline.yaml``: which data the monthly job reads, which model and features it trains.

Two kinds of source::

    source: {kind: csv, data: {sales: data/sales.csv, marketing: data/marketing.csv}}
    source: {kind: database, database_url: sqlite:///data/salescast.db, remove_outliers: true}

A top-level ``data:`` mapping (the ``make_predictions`` config) also means a CSV source. CSV paths
are relative to the YAML file. The CSV sales file is monthly (``dates,item_id,sales``, dates
``YYYY-MM-01`` or ``YYYY-MM``) or weekly (``year_week,item_id,sales``, ISO weeks ``YYYYWW``, prorated
into months by days as ingestion does). The database source reads the ingestion service's monthly
sales (vegetables as items). For weekly data — the database or a weekly file — the complete months
are the months every one of whose days is covered by a week of data, so a month still being fed is
never picked as the default test month, and partial months before the first complete one are left out.

The engine keys of the ``make_predictions`` config are valid here and mean the same: ``model`` (any model
name, ``Auto`` included), ``features``, ``model_params``, ``target_scaling``, ``target_transforms`` and
``refit`` (``once`` | ``monthly``), checked by the engine's own checks. The monthly job fits its candidate
before its one test month either way; ``refit`` decides whether a (scratch) backtest refits the candidate
before every month (``monthly``, the default here: what production does) or fits it once, at the first
month (``once``).

A pipeline names its registered model: ``name:``, else the file's stem (``pipeline.yaml`` →
``pipeline``). Each version records the source it was trained on (:class:`SourceIdentity`), and a
champion from another source is never compared with nor served on this one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from salescast.lifecycle.months import DEFAULT_WINDOW, MissingMonthsError, complete_months_from_weeks

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("pipeline.yaml")
DEFAULT_MODEL_NAME = "salescast-forecaster"  # the pipeline without a file: the ingestion database
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
GATE_AND_REPORTED_BASELINES = ("SameMonthLastYearSales", "PrevMonthSale", "ThreeMonthMean")
EXAMPLE = """name: my-items                 # registered model (default: the file's stem)
source:
  kind: csv                      # or: database
  data: {sales: data/sales.csv}  # database: database_url, remove_outliers
model: Ridge
features: [last_month, same_month_last_year, last_year_average]
lifecycle: {window: 3}"""


class PipelineConfigError(ValueError):
    """``pipeline.yaml`` is missing, unreadable or names something unknown; the message says what to change."""


class SourceMismatchError(ValueError):
    """A champion trained on another source than the one at hand; the message names both and the way out."""


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
    name: str = DEFAULT_MODEL_NAME
    target_transforms: list[Any] | None = None
    refit: str = "monthly"  # the job's own rolling origin; "once" only changes what a scratch backtest does
    engine: str = "pandas"  # pandas | spark: where train, backtest, forecast and monitor run (--engine overrides)
    spark: dict[str, Any] = field(default_factory=dict)  # Spark configuration of engine: spark

    def as_params(self) -> dict[str, Any]:
        """The model part of the config, as it enters the fingerprint and the MLflow params.

        ``target_transforms`` and ``refit`` appear only when set, so pipelines without them keep the
        fingerprints they had before these keys existed (and reuse their versions).
        """
        params = {
            "model": self.model,
            "model_params": dict(sorted(self.model_params.items())),
            "features": self.features,
            "target_scaling": self.target_scaling,
            "baselines": self.baselines,
            "source": self.source.kind,
            "remove_outliers": getattr(self.source, "remove_outliers", None),
        }
        if self.target_transforms is not None:
            params["target_transforms"] = self.target_transforms
        if self.refit != "monthly":
            params["refit"] = self.refit
        return params


def registered_model_name(config: PipelineConfig | None, settings) -> str:
    """The registered model of ``config``: ``SALESCAST_REGISTERED_MODEL_NAME`` when set, else the pipeline's name."""
    if settings.registered_model_name:
        return settings.registered_model_name
    return config.name if config is not None else DEFAULT_MODEL_NAME


def _model_name(raw: Mapping, path: Path | None, where: str) -> str:
    """``name:``, else the file's stem made a valid MLflow name, else :data:`DEFAULT_MODEL_NAME`."""
    name = raw.get("name")
    if name is not None:
        if not isinstance(name, str) or not _MODEL_NAME.match(name):
            raise PipelineConfigError(
                f"{where}: 'name' must be letters, digits, '-', '_' or '.' (at most 100, starting with a letter "
                f"or digit), e.g. name: my-items; got {name!r}"
            )
        return name
    if path is None:
        return DEFAULT_MODEL_NAME
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem).strip("-._")[:100]
    return stem or DEFAULT_MODEL_NAME


def load_pipeline_config(path: Path) -> PipelineConfig:
    """Read and check ``path``; every problem raises :class:`PipelineConfigError` naming the key to fix."""
    path = Path(path)
    raw = _read_yaml(path)
    return parse_pipeline_config(raw, base_dir=path.resolve().parent, path=path)


def resolve_pipeline_path(config: Path | None, settings) -> Path | None:
    """``config``, else ``SALESCAST_PIPELINE_CONFIG``, else ``./pipeline.yaml`` if present, else None (the database)."""
    path = config or settings.pipeline_config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    return Path(path) if path is not None else None


def resolve_pipeline_config(config: Path | None, settings) -> PipelineConfig:
    """The pipeline of :func:`resolve_pipeline_path`; without a file, the ingestion database's.

    How ``monitor``, ``history``, ``promote`` and the dashboard choose the pipeline whose champion they look at.
    """
    path = resolve_pipeline_path(config, settings)
    return load_pipeline_config(path) if path is not None else PipelineConfig(source=DatabaseSource())


def resolve_model_name(config: Path | None, settings) -> str:
    """The registered model of the pipeline :func:`resolve_pipeline_path` picks, reading only its ``name:``.

    For the commands that only need the name (history, promote, rollback): no data source or engine check.
    """
    if settings.registered_model_name:
        return settings.registered_model_name
    path = resolve_pipeline_path(config, settings)
    if path is None:
        return DEFAULT_MODEL_NAME
    raw = _read_yaml(path)
    if not isinstance(raw, Mapping):
        raise PipelineConfigError(f"{path} must be a mapping with a 'source' (or 'data') key, e.g.:\n{EXAMPLE}")
    return _model_name(raw, path, str(path))


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise PipelineConfigError(f"pipeline config {path} not found; create it (or pass --config), e.g.:\n{EXAMPLE}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PipelineConfigError(f"{path} is not valid YAML: {error}") from None


def parse_pipeline_config(raw: Any, *, base_dir: Path, path: Path | None = None) -> PipelineConfig:
    """Build a :class:`PipelineConfig` from the YAML mapping ``raw``; CSV paths resolved against ``base_dir``."""
    where = str(path) if path else "pipeline config"
    if not isinstance(raw, Mapping):
        raise PipelineConfigError(f"{where} must be a mapping with a 'source' (or 'data') key, e.g.:\n{EXAMPLE}")
    known = {
        "name",
        "source",
        "data",
        "model",
        "model_params",
        "features",
        "target_scaling",
        "target_transforms",
        "refit",
        "start_test",
        "lifecycle",
        "engine",
        "spark",
    }
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
    transforms = raw.get("target_transforms")
    name = _model_name(raw, path, where)
    refit = _check_engine_names(model, features, dict(model_params), baselines, scaling, transforms, raw, where)
    from salescast.forecast.config import ConfigError, parse_engine

    try:
        engine, spark = parse_engine(raw.get("engine", "pandas"), raw.get("spark"))
    except ConfigError as error:
        raise PipelineConfigError(f"{where}: {error}") from None
    return PipelineConfig(
        source,
        model,
        dict(model_params),
        features,
        window,
        baselines,
        scaling,
        path,
        name,
        None if transforms is None else list(transforms),
        refit,
        engine,
        spark,
    )


def _check_engine_names(
    model: str,
    features: list[str] | None,
    model_params: dict[str, Any],
    baselines: list,
    scaling,
    transforms: list | None,
    raw: Mapping,
    where: str,
) -> str:
    """Unknown model, feature, baseline, parameter, scaling, transform or refit values fail here with the engine's
    own message (naming the valid ones), before any data is read; returns the refit policy."""
    from salescast.forecast.config import check_refit
    from salescast.forecast.models import make_model
    from salescast.forecast.pipeline import DEFAULT_FEATURES, Forecaster

    try:
        refit = check_refit(raw.get("refit", "monthly"))
        forecaster = Forecaster(
            model,
            DEFAULT_FEATURES if features is None else features,
            target_scaling=scaling,
            target_transforms=transforms,
        )
        make_model(forecaster.model, model_params)  # parameters the model takes
        for baseline in baselines:
            Forecaster(str(baseline), [])
    except (ValueError, TypeError) as error:
        raise PipelineConfigError(f"{where}: {error}") from None
    return refit


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
class SourceIdentity:
    """Which data a model was trained on, or a service reads: the source's kind and location, and its items.

    Two identities are the same source when their kinds match and either their locations (the
    resolved sales file, the database URL without password) or their item sets do: a file moved to
    another folder with the same items is the same source, a database that gained an item is too.
    """

    kind: str
    location: str
    items_fingerprint: str = ""
    item_count: int = 0

    TAGS = ("source_kind", "source_location", "source_items", "source_item_count")

    def tags(self) -> dict[str, str]:
        """The version tags that record this identity."""
        values = (self.kind, self.location, self.items_fingerprint, str(self.item_count))
        return dict(zip(self.TAGS, values, strict=True))

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> SourceIdentity | None:
        """The identity recorded on a version, or None for a version registered before sources were recorded."""
        if not tags.get("source_kind"):
            return None
        count = tags.get("source_item_count") or "0"
        return cls(tags["source_kind"], tags.get("source_location", ""), tags.get("source_items", ""), int(count))

    def same_source(self, other: SourceIdentity) -> bool:
        if self.kind != other.kind:
            return False
        same_items = bool(self.items_fingerprint) and self.items_fingerprint == other.items_fingerprint
        return self.location == other.location or same_items

    def describe(self) -> str:
        items = f", {self.item_count} items" if self.item_count else ""
        return f"{self.kind} {self.location}{items}"


def items_fingerprint(items: Iterable) -> str:
    """A short SHA-256 of the sorted item ids (as text)."""
    digest = hashlib.sha256("\n".join(sorted(str(item) for item in items)).encode())
    return digest.hexdigest()[:16]


def source_identity(source: CsvSource | DatabaseSource, settings, items: Iterable = ()) -> SourceIdentity:
    """The identity of ``source`` (as ``settings`` resolve it) holding ``items``."""
    items = list(items)
    if isinstance(source, CsvSource):
        location = str(Path(source.data["sales"]).resolve())
    else:
        location = _display_database_url(source.database_url or settings.database_url)
    return SourceIdentity(source.kind, location, items_fingerprint(items) if items else "", len(items))


def check_same_source(champion: SourceIdentity | None, current: SourceIdentity, *, model: str, version: str) -> None:
    """Raise :class:`SourceMismatchError` when the champion was trained on another source than ``current``.

    A version without a recorded source (registered before sources were recorded) is not judged.
    """
    if champion is None or champion.same_source(current):
        return
    raise SourceMismatchError(
        f"the champion v{version} of registered model '{model}' was trained on {champion.describe()}, "
        f"not on this pipeline's source ({current.describe()}). One registered model serves one pipeline: "
        "give this pipeline its own model with `name:` in its pipeline.yaml (or SALESCAST_REGISTERED_MODEL_NAME), "
        "or use the pipeline.yaml the champion was trained with"
    )


def _display_database_url(url: str) -> str:
    """The URL without its password; a SQLite file as an absolute path (relative paths depend on the cwd)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))
    return parsed.render_as_string(hide_password=True)


def require_existing_sqlite(url: str, what: str = "the sales database") -> None:
    """A SQLite URL whose file does not exist is an error, never a new empty database (a misspelt path)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    if not Path(parsed.database).is_file():
        raise PipelineConfigError(
            f"{what} {url} does not exist (no file {parsed.database}); check the path "
            "(source.database_url in pipeline.yaml, SALESCAST_DATABASE_URL or --database-url), "
            "or ingest sales first: `salescast import-sales FILE` or POST /post_sales"
        )


@dataclass(frozen=True)
class SourceData:
    """The catalog a source yields and the months known to be complete (None: every month present is)."""

    catalog: Any
    complete_months: list[pd.Timestamp] | None
    description: str


def load_source(source: CsvSource | DatabaseSource, settings) -> SourceData:
    """Read ``source`` into a forecasting :class:`~salescast.forecast.catalog.Catalog`."""
    if isinstance(source, CsvSource):
        return _load_csv(source)
    return _load_database(source, settings)


WEEKLY_COLUMNS = ("year_week", "item_id", "sales")
_ISO_MONTH = re.compile(r"^\d{4}-\d{2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]00:00(?::00)?)?$")


def _load_csv(source: CsvSource) -> SourceData:
    """Read every file once; the sales file may be weekly (``year_week``) or monthly (``dates``)."""
    from salescast.forecast.catalog import catalog_from_frames

    missing = [f"{name}={path}" for name, path in source.data.items() if not Path(path).is_file()]
    if missing:
        raise PipelineConfigError(f"csv source: file(s) not found: {', '.join(missing)}")
    frames = {name: _read_table(name, Path(path)) for name, path in source.data.items()}
    for name, frame in frames.items():
        logger.info("read %s: %d rows from %s", name, len(frame), source.data[name])
    complete = None
    if "year_week" in frames["sales"].columns and "dates" not in frames["sales"].columns:
        frames["sales"], complete = monthly_from_weekly(frames["sales"], where=f"sales {source.data['sales']}")
    for name, frame in frames.items():
        if "dates" in frame.columns:
            frames[name] = frame.assign(dates=iso_dates(frame["dates"], where=f"{name} {source.data[name]}"))
    return SourceData(catalog_from_frames(**frames), complete, source.describe())


def _read_table(name: str, path: Path) -> pd.DataFrame:
    import pandas as pd

    from salescast.forecast.catalog import DataValidationError

    try:
        # Dates stay text: their format is checked here, never guessed (01/04/2023 is April or January).
        return pd.read_csv(path, dtype={"dates": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataValidationError(f"{name}: cannot read {path} as CSV with a header: {error}") from error


def iso_dates(raw: pd.Series, *, where: str) -> pd.Series:
    """``YYYY-MM-DD`` (or ``YYYY-MM``, meaning its first day) as text; any other format is an error.

    Day-first and month-first dates (``01/04/2023``) cannot be told apart, so no other format is guessed.
    """
    from salescast.forecast.catalog import DataValidationError

    text = raw.astype("string").str.strip()
    months = text.str.match(_ISO_MONTH.pattern).fillna(False)
    text = text.mask(months, text + "-01")
    bad = ~(text.str.match(_ISO_DATE.pattern).fillna(False))
    if bad.any():
        examples = ", ".join(f"{value!r} (row {index + 2})" for index, value in raw[bad].head(3).items())
        raise DataValidationError(
            f"{where}: column 'dates' must be written YYYY-MM-DD (ISO 8601, e.g. 2023-04-01) or YYYY-MM; "
            f"{int(bad.sum())} row(s) are not: {examples}. Day/month orders such as 01/04/2023 are "
            "ambiguous and never guessed: rewrite the column as YYYY-MM-DD"
        )
    return text.str.slice(0, 10)


def monthly_from_weekly(weekly: pd.DataFrame, *, where: str) -> tuple[pd.DataFrame, list[pd.Timestamp]]:
    """Weekly ``year_week,item_id,sales`` rows → monthly ``dates,item_id,sales``, and the complete months.

    A week gives ``n/7`` of its sales to the month holding ``n`` of its days (as ingestion does). A month is
    complete when every one of its days lies in a week of the file; partial months before the first
    complete one are left out (a few days of sales would read as a collapse in the lags).
    """
    import pandas as pd

    from salescast.forecast.catalog import DataValidationError
    from salescast.ingest.calendar import days_per_month

    missing = [column for column in WEEKLY_COLUMNS if column not in weekly.columns]
    if missing:
        raise DataValidationError(f"{where}: a weekly file needs columns {list(WEEKLY_COLUMNS)}; missing {missing}")
    weeks = pd.to_numeric(weekly["year_week"], errors="coerce")
    bad = weeks.isna() | (weeks != weeks.round())
    if not bad.any():
        bad = ~weeks.astype("int64").map(_is_iso_week).astype(bool)
    if bad.any():
        examples = ", ".join(repr(value) for value in weekly.loc[bad, "year_week"].head(3))
        raise DataValidationError(
            f"{where}: column 'year_week' must be an ISO week YYYYWW (e.g. 202305); {int(bad.sum())} row(s) are "
            f"not: {examples}"
        )
    weekly = weekly.assign(year_week=weeks.astype("int64"))
    if weekly.duplicated(["year_week", "item_id"]).any():
        duplicated = weekly[weekly.duplicated(["year_week", "item_id"], keep=False)].head(5)
        raise DataValidationError(
            f"{where}: (year_week, item_id) must be unique; sum or deduplicate these rows first:\n"
            f"{duplicated.to_string()}"
        )
    split = pd.DataFrame(
        [
            (week, year_month, days / 7)
            for week in weekly["year_week"].unique().tolist()
            for year_month, days in days_per_month(int(week))
        ],
        columns=["year_week", "year_month", "share"],
    )
    parts = weekly[list(WEEKLY_COLUMNS)].merge(split, on="year_week")
    parts["sales"] = pd.to_numeric(parts["sales"], errors="coerce") * parts["share"]
    if parts["sales"].isna().any():
        raise DataValidationError(f"{where}: column 'sales' must be a number on every row")
    monthly = parts.groupby(["year_month", "item_id"], as_index=False, sort=True)["sales"].sum()
    complete = complete_months_from_weeks(weekly["year_week"].unique().tolist())
    monthly = _without_leading_partial_months(monthly, complete, where)
    monthly["dates"] = _year_month_dates(monthly["year_month"])
    return monthly[["dates", "item_id", "sales"]], complete


def _is_iso_week(year_week: int) -> bool:
    from salescast.ingest.calendar import InvalidYearWeek, check_year_week

    try:
        check_year_week(year_week)
    except InvalidYearWeek:
        return False
    return True


def _year_month_dates(year_month: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.to_datetime(year_month.astype("int64").astype(str), format="%Y%m")


def _without_leading_partial_months(monthly: pd.DataFrame, complete: list, where: str) -> pd.DataFrame:
    """``monthly`` (with ``year_month``) without the months before the first complete one."""
    if not complete:
        return monthly
    first = complete[0].year * 100 + complete[0].month
    leading = monthly["year_month"] < first
    if leading.any():
        logger.info("%s: dropping %d row(s) of partial months before %s", where, leading.sum(), complete[0].date())
    return monthly[~leading].reset_index(drop=True)


def database_monthly(store, remove_outliers: bool, where: str) -> tuple[Any, list[pd.Timestamp]]:
    """The ingestion store's monthly sales as a catalog (leading partial months left out), and its complete months."""
    monthly = store.monthly_sales(remove_outliers=remove_outliers)
    if monthly.empty:
        return None, []
    complete = complete_months_from_weeks({row["year_week"] for row in store.weekly_sales()})
    return catalog_from_monthly(_without_leading_partial_months(monthly, complete, where)), complete


def _load_database(source: DatabaseSource, settings) -> SourceData:
    from salescast.ingest.store import open_store

    if source.database_url:
        settings = settings.model_copy(update={"database_url": source.database_url})
    require_existing_sqlite(settings.database_url)
    store = open_store(settings)
    try:
        store.migrate()
        catalog, complete = database_monthly(store, source.remove_outliers, "database source")
    finally:
        store.dispose()
    if catalog is None:
        raise MissingMonthsError(
            f"the database {settings.database_url} has no sales yet: post weekly sales (POST /post_sales) "
            "or load a file with `salescast import-sales FILE`",
            missing=[],
            available=[],
        )
    return SourceData(catalog, complete, source.describe())


def catalog_from_monthly(monthly: pd.DataFrame):
    """``year_month``/``vegetable``/``sales`` rows → a Catalog with ``item_id`` = vegetable name."""
    import pandas as pd

    from salescast.forecast.catalog import catalog_from_frames

    sales = pd.DataFrame(
        {
            "dates": _year_month_dates(monthly["year_month"]),
            "item_id": monthly["vegetable"].astype(str),
            "sales": monthly["sales"].astype("float64"),
        }
    )
    return catalog_from_frames(sales)

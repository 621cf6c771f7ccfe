"""One settings object for the whole platform, read from ``SALESCAST_*`` environment variables."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set with ``SALESCAST_<FIELD>``; CLI flags override."""

    model_config = SettingsConfigDict(env_prefix="SALESCAST_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR / 'salescast.db'}",
        description="SQLAlchemy URL of the sales database (sqlite:///… or postgresql+psycopg://…).",
    )
    admin_token: str | None = Field(
        default=None,
        description="Bearer token required by admin endpoints; unset (or blank) means loopback-only serving.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    max_request_bytes: int = Field(
        default=5 * 1024 * 1024,
        gt=0,
        description="Largest accepted request body; larger bodies get 413.",
    )
    max_sales: float = Field(
        default=1e12,
        gt=0,
        le=1e15,
        description="Largest accepted weekly sales of one row; a larger value rejects its row. Bounded so "
        "that no sum, mean or variance of stored sales can overflow a float on any backend.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins (scheme://host[:port], comma-separated) allowed to send state-changing "
        "requests besides the server's own pages; they also get CORS headers. Default: none.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host header values accepted besides the loopback names and the bound host "
        "(comma-separated; '*.example.com' matches subdomains, '*' any host).",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds a client has to send a request's line and headers; then the connection is closed.",
    )
    body_timeout: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Seconds a client has to send a request's body once its headers arrived; then 408 and close.",
    )
    outlier_std_threshold: float = Field(
        default=5.0,
        gt=0,
        description="A weekly sale is an outlier beyond this many sample standard deviations.",
    )
    sqlite_synchronous: str = Field(
        default="FULL",
        description="SQLite PRAGMA synchronous: FULL survives power loss, NORMAL only process crashes.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; default is a SQLite store under ./mlruns/.",
    )
    mlflow_experiment: str = Field(
        default="salescast-lifecycle",
        min_length=1,
        description="MLflow experiment holding the monthly training runs.",
    )
    registered_model_name: str | None = Field(
        default=None,
        min_length=1,
        description="MLflow registered model of every pipeline (aliases champion/challenger); unset: each pipeline "
        "has its own, named by pipeline.yaml's `name:` or the file's stem (salescast-forecaster without a file).",
    )
    pipeline_config: Path | None = Field(
        default=None,
        description="pipeline.yaml whose source the API forecasts from; unset: the ingestion database "
        "(database_url, outliers kept). Point it at the file `salescast train` uses.",
    )
    champion_poll_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often the API checks the registry's champion alias; 0 disables the watcher "
        "(POST /admin/reload_model still reloads).",
    )
    forecast_max_horizon: int = Field(default=24, ge=1, le=120, description="Largest horizon GET /forecast accepts.")
    forecast_active_months: int = Field(
        default=12,
        ge=0,
        description="An item without a sale in this many months before the month forecast is discontinued: not "
        "forecast (0: every item with any sale before it).",
    )
    reports_dir: Path = Field(default=Path("reports"), description="Folder of the monitoring reports.")
    drift_psi_threshold: float = Field(default=0.2, gt=0, description="A distribution drifted when PSI exceeds this…")
    drift_ks_pvalue: float = Field(
        default=0.01, gt=0, lt=1, description="…and the two-sample KS test's p-value is below this."
    )
    drift_psi_bins: int = Field(
        default=10, ge=2, le=100, description="Most quantile bins of PSI (fewer when samples are small)."
    )
    performance_window_months: int = Field(
        default=3, ge=1, description="Months with actuals over which champion and baseline errors are pooled."
    )
    performance_tolerance: float = Field(
        default=0.0,
        ge=0,
        description="Performance drift when the champion's RMSE exceeds the baseline's by more than this fraction.",
    )
    plausible_range_multiple: float = Field(
        default=1.0,
        gt=0,
        allow_inf_nan=False,
        description="A candidate's forecast is implausible outside its item's history range widened by this multiple "
        "of the range on both sides (floored at 0); a model with an implausible forecast is not promoted.",
    )
    coverage_levels: str = Field(
        default="80,95", description="Interval levels (percent, comma-separated) whose coverage monitoring checks."
    )
    coverage_tolerance_points: float = Field(
        default=10.0,
        ge=0,
        description="Coverage drift when an interval's empirical coverage is below its level by more than this.",
    )
    ingest_writer_process: bool = Field(
        default=True,
        description="The API commits posts in a child process (uses a second core; no GIL shared with HTTP).",
    )
    spark_master: str = Field(
        default="local[*]",
        min_length=1,
        description="Spark master of `engine: spark` jobs: local[N], spark://host:7077, yarn, k8s://…",
    )
    log_level: str = "INFO"
    access_log: bool = Field(default=False, description="Log every HTTP request (costs ~10% of throughput).")

    @field_validator("admin_token")
    @classmethod
    def _blank_token_is_no_token(cls, value: str | None) -> str | None:
        # A token of spaces would protect nothing yet let `serve` bind a public interface.
        if value is None:
            return None
        return value.strip() or None

    @field_validator("allowed_origins", "allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """Environment values are comma-separated (``a,b``); a JSON list is accepted too."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins_have_a_scheme(cls, value: list[str]) -> list[str]:
        origins = [origin.rstrip("/") for origin in value]
        for origin in origins:
            scheme, separator, host = origin.partition("://")
            if not separator or scheme not in {"http", "https"} or not host or "/" in host:
                raise ValueError(
                    f"allowed origin {origin!r} is not scheme://host[:port] (e.g. https://app.example.com)"
                )
        return origins

    @field_validator("sqlite_synchronous")
    @classmethod
    def _known_synchronous(cls, value: str) -> str:
        mode = value.upper()
        if mode not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError(f"unknown SQLite synchronous mode {value!r}; use FULL, NORMAL or EXTRA")
        return mode

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}; use DEBUG, INFO, WARNING or ERROR")
        return level


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()

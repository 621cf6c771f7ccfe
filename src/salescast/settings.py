"""One settings object for the whole platform, read from ``SALESCAST_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        description="Bearer token required by admin endpoints; unset means loopback-only serving.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    max_request_bytes: int = Field(
        default=5 * 1024 * 1024,
        gt=0,
        description="Largest accepted request body; larger bodies get 413.",
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
    registered_model_name: str = Field(
        default="salescast-forecaster",
        min_length=1,
        description="MLflow registered model whose versions the monthly job creates (aliases champion/challenger).",
    )
    log_level: str = "INFO"
    access_log: bool = Field(default=False, description="Log every HTTP request (costs ~10% of throughput).")

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

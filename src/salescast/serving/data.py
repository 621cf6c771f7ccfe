"""The data the API forecasts from: the pipeline's source as a catalog, rebuilt only when the data changes.

The source is the one of ``SALESCAST_PIPELINE_CONFIG`` (the ``pipeline.yaml`` that ``salescast train``
reads), by default the ingestion database of the same settings. Each source has a cheap version:

* database: the ingestion store's write counter (microseconds on SQLite) — the API's own store is
  reused when the URL is the same, so its in-memory monthly cache serves the reload;
* csv: the files' modification times and sizes.

The catalog keeps **complete months only**: a trailing month that is still being fed (a database month
not every day of which is covered by an ingested week) is left out, because its partial sales would be
read as a collapse by every lag feature, and so are the partial months before the first complete one
(the 2 days of December 2019 in 2020-W01). Forecasts "after the latest data" start after the latest
complete month.

Item names are resolved as ingestion resolves them (operator aliases first, then the multilingual
lexicon), so ``Tomate`` finds ``tomato``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from salescast.lifecycle.months import latest_complete_month
from salescast.lifecycle.sources import (
    CsvSource,
    DatabaseSource,
    PipelineConfig,
    PipelineConfigError,
    SourceIdentity,
    database_monthly,
    load_pipeline_config,
    load_source,
    require_existing_sqlite,
    source_identity,
)
from salescast.settings import Settings

logger = logging.getLogger(__name__)


class NoDataError(RuntimeError):
    """The source has no complete month of sales yet; the message says where the data should come from."""


@dataclass(frozen=True)
class CatalogSnapshot:
    """The catalog as of one data ``version``, cut at its last complete month ``last_month``."""

    version: Hashable
    catalog: Any
    last_month: pd.Timestamp
    description: str


def serving_pipeline(settings: Settings) -> PipelineConfig:
    """The pipeline of ``settings.pipeline_config``, or the settings' database when it is unset."""
    if settings.pipeline_config is None:
        return PipelineConfig(source=DatabaseSource())
    return load_pipeline_config(Path(settings.pipeline_config))


def serving_source(settings: Settings) -> CsvSource | DatabaseSource:
    """The source of :func:`serving_pipeline`."""
    return serving_pipeline(settings).source


class ServingData:
    """Hands out the current :class:`CatalogSnapshot`, reloading the source only when its version moved."""

    def __init__(
        self, settings: Settings, source: CsvSource | DatabaseSource, store=None, until: pd.Timestamp | None = None
    ) -> None:
        """``until``: forecast as of the end of this month (sales after it ignored); default the latest complete."""
        self.settings = settings
        self.source = source
        self.until = until
        self._store = store
        self._own_store = False
        if isinstance(source, DatabaseSource) and source.database_url not in (None, settings.database_url):
            self._store = None  # another database than the API's: open it on first use
        self._snapshot: CatalogSnapshot | None = None
        self._lock = threading.Lock()

    def _database(self):
        if self._store is None:
            from salescast.ingest.store import open_store

            url = getattr(self.source, "database_url", None) or self.settings.database_url
            try:
                require_existing_sqlite(url)  # a misspelt path must not become an empty database
            except PipelineConfigError as error:
                raise NoDataError(str(error)) from None
            self._store = open_store(self.settings.model_copy(update={"database_url": url}))
            self._store.migrate()
            self._own_store = True
        return self._store

    def version(self) -> Hashable:
        """A value that changes whenever the source's data does (cheap: called on every request)."""
        if isinstance(self.source, CsvSource):
            stats = []
            for name, path in sorted(self.source.data.items()):
                try:
                    stat = Path(path).stat()
                    stats.append((name, stat.st_mtime_ns, stat.st_size))
                except FileNotFoundError:
                    stats.append((name, None, None))
            return tuple(stats)
        return self._database().data_version()

    def snapshot(self) -> CatalogSnapshot:
        """The catalog of the current data version (built once per version)."""
        version = self.version()
        current = self._snapshot
        if current is not None and current.version == version:
            return current
        with self._lock:
            current = self._snapshot
            if current is not None and current.version == version:
                return current
            self._snapshot = self._load(version)
            return self._snapshot

    def _load(self, version: Hashable) -> CatalogSnapshot:
        if isinstance(self.source, CsvSource):
            data = load_source(self.source, self.settings)
            catalog, complete, description = data.catalog, data.complete_months, data.description
        else:
            description = self.source.describe()
            catalog, complete = database_monthly(self._database(), self.source.remove_outliers, description)
            if catalog is None:
                raise NoDataError(f"no monthly sales in {description}: post weekly sales to /post_sales first")
        last = latest_complete_month(catalog.months(), complete)
        if last is None:
            raise NoDataError(f"no complete month of sales in {description} yet: every month is still being fed")
        if self.until is not None:
            if self.until > last:
                raise NoDataError(
                    f"cannot forecast as of {self.until:%Y-%m}: the latest complete month of {description} is "
                    f"{last:%Y-%m}, so the first month to forecast is at most the month after it"
                )
            last = self.until
        sales = catalog.sales
        # Only sales are cut: planned marketing, announced prices and scheduled refills stay known in advance.
        catalog = dataclasses.replace(catalog, sales=sales[sales["dates"] <= last].reset_index(drop=True))
        logger.info("forecasting catalog: %d rows up to %s (%s)", len(catalog.sales), last.date(), description)
        return CatalogSnapshot(version, catalog, last, description)

    def identity(self, items) -> SourceIdentity:
        """This source's identity holding ``items`` (what a champion's recorded source is compared with)."""
        return source_identity(self.source, self.settings, items)

    def resolve_item_name(self, name: str) -> str | None:
        """The item a name means, as ingestion resolves it (aliases, then the lexicon); None for a CSV source."""
        if not isinstance(self.source, DatabaseSource):
            return None
        from salescast.ingest.names import normalize_name, resolve_vegetable_name

        return self._database().aliases().get(normalize_name(name)) or resolve_vegetable_name(name)

    def close(self) -> None:
        if self._own_store and self._store is not None:
            self._store.dispose()

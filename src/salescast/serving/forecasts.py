"""Forecasts of the champion for the API: one month ahead for a month, or the next H months recursively.

* **Month** ``M``: the champion's one-month-ahead prediction for every item with sales before ``M``, from
  the data known before ``M`` (the pipeline's rule). ``M`` may be any month after the first month of
  data up to the month after the latest complete month; later months need ``horizon``.
* **Horizon** ``H``: months ``L+1 … L+H`` after the latest complete month ``L``. Step ``k`` predicts with
  the catalog in which steps ``1 … k−1``'s predictions stand in as those months' sales, so each step's
  prediction feeds the next step's lags. Exogenous inputs come from the data when it has rows for the
  future months (planned marketing, announced prices, scheduled refills); otherwise the documented
  defaults apply: **marketing 0**, **price unchanged** (the last known price stays in force), and **no
  stock cap** for months after the last stock row (refills are unknown, so capping at the remaining
  stock would forecast a stockout that nobody planned). The stock history is kept: stockouts of past
  months still shape the lags (a model with ``stock`` corrects for them at every step), so step 1 is
  exactly the one-month-ahead forecast of month ``L+1``.

Predictions are computed for all items at once and cached per (data version, champion version), so a
warm request is a dictionary look-up; a new champion or new data starts a new cache.

**Intervals** (``levels``, percent): each row also gets ``lo_<level>`` and ``hi_<level>``, from the
calibration the champion stored when it was trained (never recomputed on a request); step ``k`` of a
horizon uses the widths calibrated on errors ``k`` months ahead (:mod:`salescast.forecast.intervals`).
A champion without a calibration answers a request for intervals with a 422 that says so.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salescast.forecast.catalog import SOURCES
from salescast.forecast.intervals import interval_columns
from salescast.lifecycle.months import MonthFormatError, format_month, parse_month, shift_month
from salescast.lifecycle.sources import SourceMismatchError, check_same_source
from salescast.serving.champion import Champion, ChampionHolder, ChampionSourceError
from salescast.serving.data import CatalogSnapshot, ServingData

logger = logging.getLogger(__name__)

TABLES = tuple(SOURCES)  # sales and the exogenous tables
ALL_ITEMS = object()  # cache key of a horizon path over every item


class ForecastRequestError(ValueError):
    """A request the service cannot answer as asked (bad month, horizon out of range); maps to 422."""


class UnknownItemError(LookupError):
    """The item is not in the data; maps to 404."""


def months_between(earlier: pd.Timestamp, later: pd.Timestamp) -> int:
    """Whole calendar months from ``earlier`` to ``later`` (1 for consecutive months)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def subset_items(catalog, items: Sequence) -> Any:
    """The catalog restricted to ``items`` (every table): features are per item, so predictions are unchanged."""
    changes = {}
    for name in TABLES:
        table = getattr(catalog, name)
        if table is not None:
            changes[name] = table[table["item_id"].isin(items)].reset_index(drop=True)
    return dataclasses.replace(catalog, **changes)


def with_champion_context(catalog, champion: Champion):
    """``catalog`` plus the exogenous tables the champion was trained with that the source lacks.

    A champion trained on a CSV catalog with marketing keeps its marketing table (see
    :mod:`salescast.lifecycle.model`); a source without one would otherwise make its features fail.
    """
    missing = {
        name: table
        for name, table in champion.context.items()
        if getattr(catalog, name, None) is None and table is not None
    }
    if not missing:
        return catalog
    logger.info("using the champion's training-time %s tables", sorted(missing))
    return dataclasses.replace(catalog, **missing)


def recursive_forecast(
    forecaster, catalog, last_month: pd.Timestamp, horizon: int, items=None, levels: Sequence[float] = ()
) -> pd.DataFrame:
    """Predictions for ``last_month + 1 … last_month + horizon`` (see the module docstring for the rules).

    ``catalog`` must end at ``last_month`` (its sales); returns ``dates``, ``item_id``, ``prediction`` rows,
    and each step's interval columns for ``levels``.
    """
    items = list(items) if items is not None else catalog.items()
    steps = []
    current = catalog
    for step in range(1, horizon + 1):
        month = shift_month(last_month, step)
        # The stock table stays whole: its history still flags past stockouts. Months after its last
        # row have unknown refills, so the panel leaves their stock unknown and nothing caps them.
        predicted = forecaster.predict(current, [month], items=items, levels=levels or None, horizon_step=step)
        steps.append(predicted)
        appended = predicted.rename(columns={"prediction": "sales"})[["dates", "item_id", "sales"]]
        current = dataclasses.replace(current, sales=pd.concat([current.sales, appended], ignore_index=True))
    return pd.concat(steps, ignore_index=True)


@dataclass
class _Cache:
    """Predictions of one champion version on one data version."""

    key: tuple[Hashable, str]
    catalog: Any
    last_month: pd.Timestamp
    items_by_text: dict[str, Any]
    first_month: pd.Timestamp
    source_problem: str | None = None  # why the champion must not forecast this source (another source)
    # (month, levels) → item → (prediction, lo, hi, …); (item or ALL_ITEMS, levels) → per step (month, item, values)
    months: dict[tuple, dict[Any, tuple[float, ...]]] = field(default_factory=dict)
    paths: dict[tuple, list[list[tuple]]] = field(default_factory=dict)
    active: dict[pd.Timestamp, list] = field(default_factory=dict)  # items forecast for a month


class ForecastService:
    """What ``GET /forecast`` calls. Raises ``NoChampionError`` (503), :class:`UnknownItemError` (404),
    :class:`ForecastRequestError` (422) and ``NoDataError`` (503)."""

    def __init__(
        self, champions: ChampionHolder, data: ServingData, max_horizon: int = 24, active_months: int = 12
    ) -> None:
        """``active_months``: items without a sale in that many months before a forecast month are not forecast."""
        self.champions = champions
        self.data = data
        self.max_horizon = max_horizon
        self.active_months = active_months
        self._cache: _Cache | None = None
        self._lock = threading.Lock()

    # -- state ------------------------------------------------------------------------------------

    def _state(self) -> tuple[Champion, _Cache]:
        champion = self.champions.require()
        snapshot = self.data.snapshot()
        key = (snapshot.version, champion.version)
        cache = self._cache
        if cache is None or cache.key != key:
            with self._lock:
                cache = self._cache
                if cache is None or cache.key != key:
                    cache = self._new_cache(key, champion, snapshot)
                    self._cache = cache
        if cache.source_problem:
            raise ChampionSourceError(cache.source_problem)
        return champion, cache

    def _new_cache(self, key, champion: Champion, snapshot: CatalogSnapshot) -> _Cache:
        catalog = with_champion_context(snapshot.catalog, champion)
        items = catalog.items()
        return _Cache(
            key=key,
            catalog=catalog,
            last_month=snapshot.last_month,
            items_by_text={str(item): item for item in items},
            first_month=catalog.months()[0],
            source_problem=self._source_problem(champion, snapshot),
        )

    def _source_problem(self, champion: Champion, snapshot: CatalogSnapshot) -> str | None:
        """Why ``champion`` must not forecast the snapshot's source (trained on another one), or None."""
        try:
            current = self.data.identity(snapshot.catalog.items())
            check_same_source(champion.source, current, model=champion.name, version=champion.version)
        except SourceMismatchError as error:
            logger.error("not serving %s v%s: %s", champion.name, champion.version, error)
            return f"the champion does not serve this source: {error}"
        return None

    def source_problem(self) -> str | None:
        """Why the served champion is refused on this source (for ``/health``), None when it is not refused."""
        cache = self._cache
        champion = self.champions.champion
        if cache is None or champion is None or cache.key[1] != champion.version:
            return None
        return cache.source_problem

    def _item(self, cache: _Cache, item_text: str | None):
        """The catalog's item for ``item_text``: as written, else as ingestion would resolve the name."""
        if item_text is None:
            return None
        item = cache.items_by_text.get(str(item_text).strip())
        if item is None:
            resolved = self.data.resolve_item_name(str(item_text))  # "Tomate" → "tomato", as ingestion does
            item = cache.items_by_text.get(resolved) if resolved is not None else None
        if item is None:
            known = ", ".join(list(cache.items_by_text)[:10])
            more = "…" if len(cache.items_by_text) > 10 else ""
            raise UnknownItemError(f"unknown item_id {item_text!r}: it has no sales in the data (known: {known}{more})")
        return item

    @staticmethod
    def _rows(rows, version: str, levels: tuple[float, ...] = ()) -> list[dict]:
        """``(month, item, (prediction, lo, hi, …))`` as response rows."""
        names = ["prediction", *interval_columns(levels)]
        return [
            {
                "item_id": item,
                "month": month,
                **{name: float(value) for name, value in zip(names, values, strict=True)},
                "model_version": version,
            }
            for month, item, values in rows
        ]

    @staticmethod
    def check_calibrated(champion: Champion, levels: tuple[float, ...]) -> None:
        """Raise ForecastRequestError when intervals are asked of a champion without a calibration."""
        if levels and getattr(champion.forecaster, "calibration_", None) is None:
            raise ForecastRequestError(
                f"champion {champion.name} v{champion.version} was trained without interval calibration (before "
                "intervals existed, or its calibration failed: see the training log): retrain it with "
                "`salescast train` to get intervals, or ask without intervals"
            )

    @staticmethod
    def _values(frame: pd.DataFrame, levels: tuple[float, ...]) -> list[tuple[float, ...]]:
        columns = ["prediction", *interval_columns(levels)]
        return list(frame[columns].itertuples(index=False, name=None))

    # -- one month ahead --------------------------------------------------------------------------

    def month_forecast(
        self, month_text: str, item_text: str | None = None, levels: tuple[float, ...] = ()
    ) -> list[dict]:
        """``[{item_id, month, prediction, [lo_…, hi_…,] model_version}]`` for ``month`` (all items, or one)."""
        try:
            month = parse_month(month_text)
        except MonthFormatError as error:
            raise ForecastRequestError(str(error)) from None
        champion, cache = self._state()
        self.check_calibrated(champion, levels)
        item = self._item(cache, item_text)
        if month <= cache.first_month:
            raise ForecastRequestError(
                f"no sales before {format_month(month)}: the data starts in {format_month(cache.first_month)}, "
                "so the first month that can be forecast is the one after it"
            )
        ahead = months_between(cache.last_month, month)
        if ahead > 1:
            raise ForecastRequestError(self._too_far_ahead(month, cache.last_month, ahead))
        key = (month, levels)
        predictions = cache.months.get(key)
        if predictions is None:
            with self._lock:
                predictions = cache.months.get(key)
                if predictions is None:
                    predictions = self._predict_month(champion, cache, month, levels)
                    cache.months[key] = predictions
        text = format_month(month)
        if item is not None:
            if item not in predictions:
                raise self._not_forecast(cache, item, item_text, month)
            return self._rows([(text, item, predictions[item])], champion.version, levels)
        return self._rows(((text, name, values) for name, values in predictions.items()), champion.version, levels)

    def _too_far_ahead(self, month: pd.Timestamp, last_month: pd.Timestamp, ahead: int) -> str:
        """The 422 detail for a month after the next one: suggest the horizon only when it is allowed."""
        text = (
            f"{format_month(month)} is {ahead} months after the latest complete month {format_month(last_month)}: "
            "one-month-ahead forecasts need the month before"
        )
        if ahead <= self.max_horizon:
            return f"{text}; ask GET /forecast?item_id=…&horizon={ahead} for a recursive forecast"
        return (
            f"{text}, and it is beyond the largest horizon ({self.max_horizon} months, "
            "SALESCAST_FORECAST_MAX_HORIZON): the furthest month that can be forecast is "
            f"{format_month(shift_month(last_month, self.max_horizon))}"
        )

    def _active_items(self, cache: _Cache, month: pd.Timestamp) -> list:
        """Items with a sale in the ``active_months`` before ``month`` (any sale before it when 0): the others are
        discontinued, and forecasting their last sale forever would be a guess."""
        items = cache.active.get(month)
        if items is None:
            sales = cache.catalog.sales
            recent = sales["dates"] < month
            if self.active_months:
                recent &= sales["dates"] >= shift_month(month, -self.active_months)
            items = cache.active[month] = sorted(sales.loc[recent, "item_id"].unique().tolist())
        return items

    def _not_forecast(self, cache: _Cache, item, item_text: str, month: pd.Timestamp) -> ForecastRequestError:
        """Why ``item`` gets no forecast for ``month``: no sales before it, or none recently (discontinued)."""
        sales = cache.catalog.sales
        before = sales.loc[(sales["item_id"] == item) & (sales["dates"] < month), "dates"]
        text = format_month(month)
        if before.empty:
            return ForecastRequestError(f"item {item_text!r} has no sales before {text}: nothing to forecast from")
        return ForecastRequestError(
            f"item {item_text!r} has no sales in the {self.active_months} months before {text} (its last sale is "
            f"{format_month(before.max())}): it is treated as discontinued (SALESCAST_FORECAST_ACTIVE_MONTHS)"
        )

    def _predict_month(
        self, champion: Champion, cache: _Cache, month: pd.Timestamp, levels: tuple[float, ...]
    ) -> dict[Any, tuple[float, ...]]:
        items = self._active_items(cache, month)
        predicted = champion.forecaster.predict(cache.catalog, [month], items=items, levels=levels or None)
        predicted = predicted.sort_values("item_id")
        return dict(zip(predicted["item_id"].tolist(), self._values(predicted, levels), strict=True))

    # -- horizon ----------------------------------------------------------------------------------

    def horizon_forecast(self, item_text: str | None, horizon: int, levels: tuple[float, ...] = ()) -> list[dict]:
        """The next ``horizon`` months after the latest complete month, for one item or all (and ``levels``)."""
        if horizon < 1 or horizon > self.max_horizon:
            raise ForecastRequestError(
                f"horizon must be between 1 and {self.max_horizon} months (got {horizon}); "
                "recursive forecasts compound their errors, so longer horizons are refused"
            )
        champion, cache = self._state()
        self.check_calibrated(champion, levels)
        item = self._item(cache, item_text)
        first = shift_month(cache.last_month, 1)
        active = self._active_items(cache, first)
        if item is not None and (item, levels) not in cache.paths and item not in set(active):
            raise self._not_forecast(cache, item, item_text, first)
        if item is None and not active:
            return []  # every item is discontinued
        key = (ALL_ITEMS if item is None else item, levels)
        steps = cache.paths.get(key)
        if steps is None or len(steps) < horizon:
            with self._lock:
                steps = cache.paths.get(key)
                if steps is None or len(steps) < horizon:
                    catalog = cache.catalog if item is None else subset_items(cache.catalog, [item])
                    items = active if item is None else [item]
                    path = recursive_forecast(champion.forecaster, catalog, cache.last_month, horizon, items, levels)
                    steps = [
                        [(format_month(month), name, values) for name, values in zip(
                            group["item_id"].tolist(), self._values(group, levels), strict=True)]
                        for month, group in path.sort_values(["dates", "item_id"]).groupby("dates", sort=True)
                    ]  # fmt: skip
                    cache.paths[key] = steps
        return self._rows((row for step in steps[:horizon] for row in step), champion.version, levels)

    def describe(self) -> dict[str, Any]:
        """The served champion (or why none) and its problems, for ``/health`` (:meth:`ChampionHolder.describe`);
        a champion refused on this source is ``source mismatch`` (its forecasts answer 503)."""
        description = self.champions.describe()
        problem = self.source_problem()
        if problem and description.get("version") is not None:
            mismatch = {"problem": "source_mismatch", "version": description["version"], "detail": problem}
            description = {**description, "status": "source mismatch", "detail": problem}
            description["problems"] = [*description["problems"], mismatch]
        return description

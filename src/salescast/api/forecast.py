"""Routes of the served champion: forecasts and the admin reload. Parse, call the forecast service, shape."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from salescast.api.responses import json_response, route
from salescast.api.security import require_admin

router = APIRouter(tags=["forecast"])


def _runtime(request: Request):
    runtime = getattr(request.app.state, "serving", None)
    if runtime is None:
        raise HTTPException(status_code=503, detail="forecasting is starting: retry in a moment")
    return runtime


# Years of the ingestion calendar; pandas' timestamps stop at 2262 and month 0000-01 would be a 500.
MONTH_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])$"


@route(router, "/forecast", ["GET"], errors=(404, 422, 503))
def forecast(
    request: Request,
    month: str | None = Query(
        None,
        description="YYYY-MM: one-month-ahead forecasts for that month.",
        json_schema_extra={"pattern": MONTH_PATTERN},
    ),
    item_id: str | None = Query(None, description="One item (default: every item)."),
    horizon: int | None = Query(
        None, description="Next H months after the latest data (recursive), 1…SALESCAST_FORECAST_MAX_HORIZON."
    ),
    intervals: str | None = Query(
        None,
        description="Prediction interval levels in percent, comma-separated (e.g. 80,95): adds lo_80, hi_80, … "
        "to each row, from the champion's stored calibration.",
        max_length=200,
    ),
) -> Response:
    """Champion forecasts: ``month=YYYY-MM`` (one month ahead) or ``horizon=H`` (the next H months).

    Rows: ``{"item_id", "month", "prediction", "model_version"}``, plus ``lo_<level>``/``hi_<level>`` with
    ``intervals``. 503 while no champion is served.
    """
    from salescast.forecast.catalog import DataValidationError
    from salescast.forecast.config import ConfigError
    from salescast.forecast.intervals import IntervalLevelError, parse_levels
    from salescast.serving.champion import NoChampionError
    from salescast.serving.data import NoDataError
    from salescast.serving.forecasts import ForecastRequestError, UnknownItemError
    from salescast.serving.runtime import ServingUnavailableError

    if (month is None) == (horizon is None):
        raise HTTPException(
            status_code=422,
            detail="give either month=YYYY-MM (one month ahead, optional item_id) or item_id=…&horizon=H",
        )
    if month is not None and not re.fullmatch(MONTH_PATTERN, month):
        raise HTTPException(
            status_code=422, detail=f"month {month[:40]!r} is not of the form YYYY-MM with a year in 1900–2199"
        )
    try:
        levels = parse_levels(intervals)
    except IntervalLevelError as error:
        raise HTTPException(status_code=422, detail=f"intervals: {error}") from None
    try:
        service = _runtime(request).service()
        if month is not None:
            rows = service.month_forecast(month, item_id, levels)
        else:
            rows = service.horizon_forecast(item_id, horizon, levels)
    except (NoChampionError, NoDataError, ServingUnavailableError) as error:
        raise HTTPException(status_code=503, detail=str(error)) from None
    except UnknownItemError as error:
        raise HTTPException(status_code=404, detail=str(error.args[0])) from None
    except ForecastRequestError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    except (ConfigError, DataValidationError) as error:
        raise HTTPException(status_code=503, detail=f"the champion cannot forecast from this data: {error}") from None
    return json_response(rows)


@route(router, "/admin/reload_model", ["POST"], errors=(401, 403, 503), dependencies=[Depends(require_admin)])
def reload_model(request: Request) -> Response:
    """Check the registry's champion alias now and load it if it moved (admin token required when set)."""
    runtime = _runtime(request)
    changed = runtime.champions.refresh()
    champion = runtime.champions.champion
    if champion is None:
        raise HTTPException(status_code=503, detail=f"no champion to serve: {runtime.champions.status}")
    return json_response(
        {
            "changed": changed,
            "champion": champion.describe(),
            "status": runtime.champions.status,
            "problems": [problem.describe() for problem in runtime.champions.problems],
        }
    )

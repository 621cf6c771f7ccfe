"""Routes of the weekly sales feed: parse, call the ingestion service, shape the response."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from salescast.api.responses import json_response, route
from salescast.api.security import require_admin
from salescast.ingest.schema import AliasIn, PostSalesResult, SalesRowIn
from salescast.ingest.service import IngestService, InvalidPayload

router = APIRouter(tags=["ingestion"])

POST_SALES_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "items": SalesRowIn.model_json_schema()}}},
    }
}


async def ingest_service(request: Request) -> IngestService:
    # async: FastAPI would run a plain function in the thread pool, a hop per request for a lookup
    return request.app.state.ingest_service


@route(router, "/post_sales", ["POST"], response_model=PostSalesResult, openapi_extra=POST_SALES_BODY)
async def post_sales(request: Request, service: IngestService = Depends(ingest_service)) -> Response:
    """Store a batch of weekly sales. Invalid rows are reported, valid ones stored; a key posted again is replaced."""
    body = await request.body()
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise HTTPException(status_code=400, detail=f"body is not valid JSON: {error}") from None
    try:
        result = await service.post_sales_async(payload)
    except InvalidPayload as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return json_response(result.model_dump())


@route(router, "/get_raw_sales", ["GET"])
async def get_raw_sales(service: IngestService = Depends(ingest_service)) -> Response:
    """Rows exactly as received, ordered by (year_week, vegetable)."""
    return Response(await service.raw_sales_json_async(), media_type="application/json")


@route(router, "/get_weekly_sales", ["GET"])
def get_weekly_sales(
    with_outlier_flag: bool = Query(False, description="Add an `is_outlier` key to each row."),
    remove_outliers: bool = Query(False, description="Leave outlier weeks out."),
    service: IngestService = Depends(ingest_service),
) -> Response:
    """Cleaned weekly sales: canonical English names, rows of the same (week, vegetable) summed."""
    return json_response(service.weekly_sales(with_outlier_flag=with_outlier_flag, remove_outliers=remove_outliers))


@route(router, "/get_monthly_sales", ["GET"])
async def get_monthly_sales(
    remove_outliers: bool = Query(False, description="Leave outlier weeks out before aggregating."),
    service: IngestService = Depends(ingest_service),
) -> Response:
    """Monthly sales; a week spanning two months gives each the share of its days it holds."""
    body = await service.monthly_sales_json_async(remove_outliers=remove_outliers)
    return Response(body, media_type="application/json")


@route(router, "/unknown_vegetables", ["GET"])
def get_unknown_vegetables(service: IngestService = Depends(ingest_service)) -> Response:
    """Names that match no known vegetable, waiting for an alias: name, rows, total sales."""
    return json_response(service.unknown_vegetables())


@route(router, "/vegetable_aliases", ["POST"], dependencies=[Depends(require_admin)])
def post_vegetable_alias(alias: AliasIn, service: IngestService = Depends(ingest_service)) -> Response:
    """Map a name to a vegetable; the mapping applies to past and future rows."""
    try:
        return json_response(service.add_alias(alias.alias, alias.vegetable))
    except InvalidPayload as error:
        raise HTTPException(status_code=422, detail=str(error)) from None


@route(router, "/init_database", ["GET", "POST"], dependencies=[Depends(require_admin)])
def init_database(service: IngestService = Depends(ingest_service)) -> Response:
    """Create the schema if missing and empty all sales tables (aliases are kept)."""
    service.init_database()
    return json_response({"status": "ok", "detail": "schema ready, sales tables emptied"})

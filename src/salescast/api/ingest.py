"""Routes of the weekly sales feed: parse, call the ingestion service, shape the response."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from salescast.api.responses import WRITE_ERRORS, json_response, route
from salescast.api.security import refuse_browser_reset, require_admin, require_json_body
from salescast.ingest.schema import (
    AliasIn,
    AliasResult,
    InvalidJson,
    MonthlySalesRow,
    PostSalesResult,
    RawSalesRow,
    SalesRowIn,
    StatusResult,
    UnknownVegetable,
    WeeklySalesRow,
    parse_json_body,
)
from salescast.ingest.service import BatchRefused, IngestService, InvalidPayload, StorageUnavailable

router = APIRouter(tags=["ingestion"])

POST_SALES_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "description": "Weekly sales rows, **validated one by one**: a row that breaks the rules of "
                    "`SalesRow` (or is not an object at all) is rejected and reported in `errors` with its index "
                    "and every reason, and never blocks the others. So any JSON list is accepted; a body that is "
                    "not JSON gets 400, JSON that is not a list 422.",
                    "items": {
                        "anyOf": [
                            {**SalesRowIn.model_json_schema(), "title": "SalesRow"},
                            {"description": "Anything else: that row is rejected, the others are stored."},
                        ]
                    },
                    "example": [
                        {"year_week": 202005, "vegetable": "Tomate", "sales": 70},
                        {"year_week": 202054, "vegetable": "carrot", "sales": 3},
                    ],
                }
            }
        },
    }
}
# Read routes take a quick query flag at most; a body on them is ignored.
READ_ERRORS = (422,)


async def ingest_service(request: Request) -> IngestService:
    # async: FastAPI would run a plain function in the thread pool, a hop per request for a lookup
    return request.app.state.ingest_service


@route(
    router,
    "/post_sales",
    ["POST"],
    errors=(*WRITE_ERRORS, 422, 503),
    response_model=PostSalesResult,
    openapi_extra=POST_SALES_BODY,
    dependencies=[Depends(require_json_body)],
)
async def post_sales(request: Request, service: IngestService = Depends(ingest_service)) -> Response:
    """Store a batch of weekly sales. Invalid rows are reported, valid ones stored; a key posted again is replaced.

    A 200 means every valid row is committed. 422: the body is not a list, or the database refused the
    batch (nothing of it stored); 503: the database cannot write now (nothing stored; retry).
    """
    try:
        payload = parse_json_body(await request.body())
        result = await service.post_sales_async(payload)
    except InvalidJson as error:
        raise HTTPException(status_code=400, detail=str(error)) from None
    except (InvalidPayload, BatchRefused) as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    except StorageUnavailable as error:
        raise HTTPException(status_code=503, detail=str(error), headers={"Retry-After": "1"}) from None
    return json_response(result.model_dump())


@route(router, "/get_raw_sales", ["GET"], response_model=list[RawSalesRow])
async def get_raw_sales(service: IngestService = Depends(ingest_service)) -> Response:
    """Rows exactly as received, ordered by (year_week, vegetable)."""
    return Response(await service.raw_sales_json_async(), media_type="application/json")


@route(router, "/get_weekly_sales", ["GET"], errors=READ_ERRORS, response_model=list[WeeklySalesRow])
def get_weekly_sales(
    with_outlier_flag: bool = Query(False, description="Add an `is_outlier` key to each row."),
    remove_outliers: bool = Query(False, description="Leave outlier weeks out."),
    service: IngestService = Depends(ingest_service),
) -> Response:
    """Cleaned weekly sales: canonical English names, rows of the same (week, vegetable) summed."""
    return json_response(service.weekly_sales(with_outlier_flag=with_outlier_flag, remove_outliers=remove_outliers))


@route(router, "/get_monthly_sales", ["GET"], errors=READ_ERRORS, response_model=list[MonthlySalesRow])
async def get_monthly_sales(
    remove_outliers: bool = Query(False, description="Leave outlier weeks out before aggregating."),
    service: IngestService = Depends(ingest_service),
) -> Response:
    """Monthly sales; a week spanning two months gives each the share of its days it holds."""
    body = await service.monthly_sales_json_async(remove_outliers=remove_outliers)
    return Response(body, media_type="application/json")


@route(router, "/unknown_vegetables", ["GET"], response_model=list[UnknownVegetable])
def get_unknown_vegetables(service: IngestService = Depends(ingest_service)) -> Response:
    """Names that match no known vegetable, waiting for an alias: name, rows, total sales."""
    return json_response(service.unknown_vegetables())


@route(
    router,
    "/vegetable_aliases",
    ["POST"],
    errors=(*WRITE_ERRORS, 401, 422, 503),
    response_model=AliasResult,
    dependencies=[Depends(require_admin), Depends(require_json_body)],
)
def post_vegetable_alias(alias: AliasIn, service: IngestService = Depends(ingest_service)) -> Response:
    """Map a name to a vegetable; the mapping applies to past and future rows (admin token when one is set)."""
    try:
        return json_response(service.add_alias(alias.alias, alias.vegetable))
    except (InvalidPayload, BatchRefused) as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    except StorageUnavailable as error:
        raise HTTPException(status_code=503, detail=str(error), headers={"Retry-After": "1"}) from None


def _init_database(service: IngestService) -> Response:
    service.init_database()
    return json_response({"status": "ok", "detail": "schema ready, sales tables emptied"})


@route(
    router,
    "/init_database",
    ["POST"],
    errors=(403, 401),
    response_model=StatusResult,
    dependencies=[Depends(require_admin)],
)
def init_database(service: IngestService = Depends(ingest_service)) -> Response:
    """Create the schema if missing and empty all sales tables (aliases are kept); admin token when one is set."""
    return _init_database(service)


@route(
    router,
    "/init_database",
    ["GET"],
    head=False,
    errors=(403, 401),
    response_model=StatusResult,
    deprecated=True,
    dependencies=[Depends(require_admin), Depends(refuse_browser_reset)],
)
def init_database_get(service: IngestService = Depends(ingest_service)) -> Response:
    """Kept for old clients: use POST. A GET that empties tables could come from an `<img>` tag, so a browser
    request (one with `Origin` or `Sec-Fetch-*` headers) is refused unless authenticated."""
    return _init_database(service)

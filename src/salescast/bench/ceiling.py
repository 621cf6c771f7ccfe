"""The framework's ceiling: the ingestion routes on the same stack, answering constants.

It measures what FastAPI + uvicorn + the same middleware cost on this machine with no storage behind
them, so a benchmark can report our throughput as a fraction of the most this stack could give. The
constants have the size of real answers (the generated feed's raw rows and its months), because
sending 300 kB costs more than sending ``[]``.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, FastAPI, Request, Response

from salescast.api.app import install_http_middleware
from salescast.api.responses import route
from salescast.settings import get_settings


def _constant_bodies() -> dict[str, bytes]:
    from salescast.ingest.generate import generate_labelled_vegetable_sales

    feed = generate_labelled_vegetable_sales(seed=0)
    valid = feed[feed["row_kind"] != "invalid"]
    raw = [
        {"year_week": int(week), "vegetable": str(name), "sales": float(sales)}
        for week, name, sales in valid[["year_week", "vegetable", "sales"]].itertuples(index=False)
    ]
    months = [year * 100 + month for year in range(2020, 2024) for month in range(1, 13)]
    vegetables = sorted(set(valid["canonical"].dropna()))
    monthly = [{"year_month": int(m), "vegetable": v, "sales": 1234.5} for m in months for v in vegetables]
    post = {"inserted": 1, "updated": 1, "unchanged": 1, "rejected": 0, "errors": []}
    return {"raw": orjson.dumps(raw), "monthly": orjson.dumps(monthly), "post": orjson.dumps(post)}


def create_ceiling_app() -> FastAPI:
    """The ingestion routes, declared as the real ones are (async handlers), answering constants."""
    bodies = _constant_bodies()
    router = APIRouter()

    @route(router, "/post_sales", ["POST"])
    async def post_sales(request: Request) -> Response:
        await request.body()
        return Response(bodies["post"], media_type="application/json")

    @route(router, "/get_raw_sales", ["GET"])
    async def get_raw_sales() -> Response:
        return Response(bodies["raw"], media_type="application/json")

    @route(router, "/get_monthly_sales", ["GET"])
    async def get_monthly_sales(remove_outliers: bool = False) -> Response:
        return Response(bodies["monthly"], media_type="application/json")

    @route(router, "/health", ["GET"])
    async def health() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    app = FastAPI(title="salescast ceiling")
    app.include_router(router)
    install_http_middleware(app, get_settings())
    return app

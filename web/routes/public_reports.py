"""监督举报: the public report page (/report, no login) and its API.

A citizen names a marked official car by plate, when and where they saw it and what happened.
The report is matched against the car's track (supervision/public_report_store.py) and goes
to the inspectors' queue as a PUBLIC violation with that evidence; the answer is only
"received" (it never tells whether the plate exists or where the car was).

Abuse resistance without a captcha (web/public_report_guard.py): at most 16 KB of body, limits
per client (a keyed hash of the address in Redis: 5 reports an hour and 20 a day, counting
the submissions that passed validation; 30 attempts an hour of any kind), a signed form
token from GET /api/v1/public/report-token that must be 3 s to 2 h old and is good once, and
a honeypot field: a filled one gets the same "received" (and counts) but nothing is stored.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse, JSONResponse

from supervision import public_report_store
from web.deps import PoolDep, RedisDep, SettingsDep
from web.errors import ApiError
from web.public_report_guard import Refused, ReportGuard
from web.routes.pages import _html
from web.schemas.common import error_responses
from web.schemas.public_reports import (
    PublicMapConfig,
    PublicReportAck,
    PublicReportIn,
    ReportTokenRead,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["public reports"])
MAX_BODY_BYTES = 16 * 1024
CIRCLE_CENTRE = {"lat": 30.58, "lon": 114.30, "zoom": 11}


def _guard(settings: SettingsDep, redis: RedisDep) -> ReportGuard:
    return ReportGuard(redis, settings.redis_prefix, settings.secret_key.get_secret_value())


def _refused(refused: Refused) -> ApiError:
    headers = {"Retry-After": str(refused.retry_after_s)} if refused.retry_after_s else None
    return ApiError(refused.status, refused.message, code=refused.code, headers=headers)


@router.get("/report", include_in_schema=False)
async def report_page(settings: SettingsDep) -> HTMLResponse:
    return _html("report.html", settings.tile_url)


@router.get("/api/v1/public/map-config", response_model=PublicMapConfig)
async def public_map_config(settings: SettingsDep) -> dict:
    """The basemap for the report page's place picker (no login)."""
    return {"tile_url": settings.tile_url, "tile_max_native_zoom": settings.tile_max_native_zoom,
            "tile_attribution": settings.tile_attribution, "centre": CIRCLE_CENTRE}


@router.get("/api/v1/public/report-token", response_model=ReportTokenRead)
async def report_token(settings: SettingsDep, redis: RedisDep) -> dict:
    """A signed form token: send the report with it no sooner than 3 s and no later than 2 h
    after; it is good for one report."""
    guard = _guard(settings, redis)
    return {"token": guard.new_token(), "min_age_s": guard.min_age_s, "max_age_s": guard.max_age_s}


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, "The report is too large.", code="payload_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, "The report is too large.", code="payload_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/api/v1/public/reports", status_code=202, response_model=PublicReportAck,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": PublicReportIn.model_json_schema()}}}},
             responses=error_responses(409, 413, 422, 429))
async def submit_report(request: Request, settings: SettingsDep, redis: RedisDep,
                        pool: PoolDep) -> JSONResponse:
    """File a report (no login). 202 {"status": "received"} whatever the plate; 429
    too_many_reports past the limits (Retry-After: 5 reports an hour and 20 a day, counting
    those that passed validation; 30 attempts an hour); 422 too_fast / form_expired /
    bad_form_token / validation_error; 409 form_used; 413 past 16 KB."""
    guard = _guard(settings, redis)
    client_key = guard.client_key(request.client.host if request.client else "unknown")
    try:
        await guard.attempt(client_key)      # every attempt: the flood limit
    except Refused as refused:
        raise _refused(refused) from None
    raw = await _body(request)
    try:
        report = PublicReportIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
                  for e in exc.errors()]
        raise ApiError(422, "Invalid report: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'report'}: {e['msg']}" for e in errors[:3]),
            code="validation_error", details=errors) from None
    try:
        if report.website.strip():           # counted like a report: the same answers
            await guard.count(client_key)
            log.info("public report honeypot filled (client %s); dropped", client_key[:8])
            return JSONResponse({"status": "received"}, status_code=202)
        await guard.spend_token(report.token)
        await guard.count(client_key)        # a report that passed validation
    except Refused as refused:
        raise _refused(refused) from None
    async with pool.acquire() as conn, conn.transaction():
        await public_report_store.save(
            conn, plate=report.plate.strip(), seen_at=report.seen_at, lat=report.lat,
            lon=report.lon, place=report.place.strip(), description=report.description.strip(),
            contact=report.contact.strip(), client_key=client_key)
    return JSONResponse({"status": "received"}, status_code=202)

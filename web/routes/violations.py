"""Violations (违规/预警) for the review: the filtered list with keyset pages, counts by rule
and outcome, the list as CSV/XLSX, one violation with its evidence, and the evidence window's
fixes for the map's playback. The moves are in web/routes/violation_review.py.

Reach (web/violation_views.py): inspectors and admins province-wide; org admins and
dispatchers their subtree; out of reach: 404.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from web import violation_views as views
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.export_names import local_stamp
from web.exports import CSV_TYPE, XLSX_TYPE, attachment, csv_bytes, xlsx_bytes
from web.queries import violations as q
from web.queries.tracks import load_track
from web.schemas.common import error_responses
from web.schemas.violations import (
    PlaybackRead,
    ReviewState,
    Severity,
    ViolationCounts,
    ViolationDetail,
    ViolationPage,
)
from web.tracks import epoch_ms
from web.violation_exports import violation_table

router = APIRouter(prefix="/api/v1/violations", tags=["violations"])
ViolationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Violation id")]
PLAYBACK_POINTS = 1000
PLAYBACK_MAX_WINDOW = timedelta(days=2)
EVIDENCE_MARGIN = timedelta(minutes=10)


def _filter(
    rule: Annotated[list[str] | None, Query(max_length=20, description="R1 … R17, PUBLIC (repeat)")] = None,
    severity: Annotated[list[Severity] | None, Query(description="repeat for several")] = None,
    state: Annotated[list[ReviewState] | None, Query(description="repeat for several")] = None,
    city: Annotated[str | None, Query(pattern=r"^\d{6}$", description="city code, e.g. 420100")] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="an organisation and below")] = None,
    vehicle_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    plate: Annotated[str | None, Query(max_length=20, description="part of the plate")] = None,
    day_from: Annotated[date | None, Query(alias="from", description="first local day")] = None,
    day_to: Annotated[date | None, Query(alias="to", description="last local day")] = None,
    text: Annotated[str | None, Query(alias="q", max_length=50, description="plate, unit, rule, message")] = None,
    sent: Annotated[bool, Query(description="only what was sent to units (the unit's page)")] = False,
) -> q.ViolationFilter:
    if rule and any(len(r) > 10 for r in rule):
        raise ApiError(422, "A rule id is at most 10 characters.", code="bad_rule")
    if day_from and day_to and day_to < day_from:
        raise ApiError(422, "`to` is before `from`.", code="bad_date_range")
    return q.ViolationFilter(
        rules=tuple(rule or ()), severities=tuple(severity or ()), states=tuple(state or ()),
        city=city, unit_id=unit_id, vehicle_id=vehicle_id, plate=(plate or "").strip() or None,
        day_from=day_from, day_to=day_to, text=(text or "").strip() or None, sent_to_units=sent)


FilterDep = Annotated[q.ViolationFilter, Depends(_filter)]


@router.get("", response_model=ViolationPage, responses=error_responses(401, 403, 422))
async def list_violations(
    user: CurrentUser, pool: PoolDep, f: FilterDep,
    before: Annotated[str | None, Query(max_length=40, description="the cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    """Newest first (local day, then id), filtered; `next_before` fetches the next page."""
    rows = await q.page(pool, f, views.read_scope(user), limit, views.parse_cursor(before))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [views.item(r, user) for r in rows],
            "next_before": views.cursor(rows[-1]) if more and rows else None}


@router.get("/counts", response_model=ViolationCounts, responses=error_responses(401, 403, 422))
async def count_violations(user: CurrentUser, pool: PoolDep, f: FilterDep) -> dict:
    """How many, by rule and by outcome (state) and severity, over the same filters as the list."""
    return views.count_summary(await q.counts(pool, f, views.read_scope(user)))


@router.get("/export", response_class=Response, responses={
    200: {"content": {"text/csv": {}, XLSX_TYPE: {}},
          "description": "the filtered list as CSV (UTF-8 with BOM) or XLSX"},
    **error_responses(401, 403, 413, 422)})
async def export_violations(
    user: CurrentUser, pool: PoolDep, f: FilterDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",  # noqa: A002
) -> Response:
    """The whole filtered list (at most 20,000 rows: 413 too_many_rows, narrow the filters)."""
    rows = await q.export_rows(pool, f, views.read_scope(user))
    if len(rows) > q.MAX_EXPORT_ROWS:
        raise ApiError(413, f"The list holds more than {q.MAX_EXPORT_ROWS} rows; narrow the filters.",
                       code="too_many_rows", details={"max_rows": q.MAX_EXPORT_ROWS})
    tables = [violation_table(rows)]
    stamp = local_stamp()                      # the day in Asia/Shanghai
    if format == "csv":
        return Response(csv_bytes(tables), media_type=CSV_TYPE,
                        headers=attachment(f"违规列表_{stamp}.csv", f"violations-{stamp}.csv"))
    return Response(xlsx_bytes(tables), media_type=XLSX_TYPE,
                    headers=attachment(f"违规列表_{stamp}.xlsx", f"violations-{stamp}.xlsx"))


@router.get("/{violation_id}", response_model=ViolationDetail,
            responses=error_responses(401, 403, 404, 422))
async def get_violation(violation_id: ViolationId, user: CurrentUser, pool: PoolDep) -> dict:
    """One violation: every revision of its frozen evidence, the unit's explanations with their
    files, the audit trail, and the moves you may make (`allowed_events`)."""
    return await views.detail(pool, user, violation_id)


def _window(bundle: dict, row) -> tuple[datetime, datetime]:  # noqa: ANN001
    window = bundle.get("window") or {}
    try:
        start = datetime.fromisoformat(window["from"])
        end = datetime.fromisoformat(window["to"])
    except (KeyError, TypeError, ValueError):
        start = row["started_at"] - EVIDENCE_MARGIN
        end = (row["ended_at"] or row["started_at"]) + EVIDENCE_MARGIN
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        start, end = row["started_at"] - EVIDENCE_MARGIN, row["started_at"] + EVIDENCE_MARGIN
    return start, min(end, start + PLAYBACK_MAX_WINDOW)


def _spread(bundle: dict, start: datetime, end: datetime) -> list[dict]:
    """No stored fixes left: the frozen track's vertices with times spread evenly over the
    window (approximate, said so by `source`)."""
    coords = ((bundle.get("track") or {}).get("coordinates")) or []
    if not coords:
        return []
    t0, t1 = epoch_ms(start), epoch_ms(end)
    step = (t1 - t0) / max(len(coords) - 1, 1)
    return [{"ts_ms": int(t0 + i * step), "lat": c[1], "lon": c[0], "speed_kmh": None, "acc": None}
            for i, c in enumerate(coords)]


@router.get("/{violation_id}/playback", response_model=PlaybackRead,
            responses=error_responses(401, 403, 404, 422))
async def violation_playback(violation_id: ViolationId, user: CurrentUser, pool: PoolDep) -> dict:
    """The car's fixes over the evidence window (for the time slider), simplified to 1,000;
    403 position_restricted for a 机要 car when you are not cleared."""
    row = await q.one(pool, violation_id, views.read_scope(user))
    if row is None:
        raise views.not_found(violation_id)
    if views.position_withheld(user, row):
        raise ApiError(403, "The track of a confidential (机要) vehicle is restricted.",
                       code="position_restricted")
    revisions = await q.evidence(pool, violation_id)
    bundle = revisions[-1]["bundle"] if revisions else {}
    start, end = _window(bundle, row)
    points, source = [], "positions"
    if row["vehicle_id"] is not None:
        track = await load_track(pool, row["vehicle_id"], start, end, PLAYBACK_POINTS)
        points = [{k: p[k] for k in ("ts_ms", "lat", "lon", "speed_kmh", "acc")} for p in track["points"]]
    if not points:
        points, source = _spread(bundle, start, end), "evidence"
    return {"violation_id": violation_id, "from_ms": epoch_ms(start), "to_ms": epoch_ms(end),
            "points": points, "source": source}

"""Vehicles in the user's scope: list, details, track."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from web.deps import ResourcesDep, SettingsDep, VehicleUser
from web.errors import ApiError
from web.queries.vehicles import track_points
from web.schemas.common import error_responses
from web.schemas.vehicles import (
    Source,
    TrackRead,
    VehicleDetailRead,
    VehiclePage,
    VehicleStatus,
)
from web.tracks import TrackWindowError, polyline_length_m, resolve_window
from web.vehicle_state import STATUSES
from web.vehicle_views import list_vehicle_items, vehicle_detail

# ids are PostgreSQL integers: anything else is a 422, never a database error
VehicleId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Vehicle id")]

router = APIRouter(prefix="/api/v1/vehicles", tags=["vehicles"])

MAX_TRACK_POINTS = 100_000
_ERRORS = error_responses(401, 403, 422)


@router.get("", response_model=VehiclePage, responses=_ERRORS)
async def list_vehicles(
    user: VehicleUser,
    resources: ResourcesDep,
    settings: SettingsDep,
    city: Annotated[str | None, Query(max_length=12, description="City code, e.g. 420100")] = None,
    source: Source | None = None,
    status: VehicleStatus | None = None,
    q: Annotated[str | None, Query(max_length=20, description="Part of the plate")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    items = await list_vehicle_items(
        resources.pool,
        resources.redis,
        settings.redis_prefix,
        user,
        city_code=city,
        source=source,
        plate_query=q,
    )
    tally = Counter(item["status"] for item in items)
    counts = {name: tally.get(name, 0) for name in STATUSES}
    if status is not None:
        items = [item for item in items if item["status"] == status]
    return {"items": items[offset : offset + limit], "total": len(items), "counts": counts}


async def _vehicle_or_404(
    resources: ResourcesDep, settings: SettingsDep, user: VehicleUser, vehicle_id: VehicleId
) -> dict:
    item = await vehicle_detail(
        resources.pool, resources.redis, settings.redis_prefix, user, vehicle_id
    )
    if item is None:
        raise ApiError(404, f"Vehicle {vehicle_id} not found.", code="vehicle_not_found")
    return item


@router.get(
    "/{vehicle_id}", response_model=VehicleDetailRead, responses=error_responses(401, 403, 404)
)
async def get_vehicle(
    vehicle_id: VehicleId, user: VehicleUser, resources: ResourcesDep, settings: SettingsDep
) -> dict:
    return await _vehicle_or_404(resources, settings, user, vehicle_id)


@router.get(
    "/{vehicle_id}/track", response_model=TrackRead, responses=error_responses(401, 403, 404, 422)
)
async def get_track(
    vehicle_id: VehicleId,
    user: VehicleUser,
    resources: ResourcesDep,
    settings: SettingsDep,
    from_ts: Annotated[
        datetime | None, Query(alias="from", description="ISO 8601; default: to − 1 h")
    ] = None,
    to_ts: Annotated[
        datetime | None, Query(alias="to", description="ISO 8601; default: now")
    ] = None,
) -> dict:
    try:
        start, end = resolve_window(from_ts, to_ts, datetime.now(UTC))
    except TrackWindowError as exc:
        raise ApiError(422, str(exc), code="invalid_track_window") from None
    item = await _vehicle_or_404(resources, settings, user, vehicle_id)
    if item["position_withheld"]:
        raise ApiError(
            403,
            "The track of a confidential (机要) vehicle is restricted.",
            code="position_restricted",
        )
    rows = await track_points(resources.pool, vehicle_id, start, end, limit=MAX_TRACK_POINTS + 1)
    truncated = len(rows) > MAX_TRACK_POINTS
    points = [dict(row) for row in rows[:MAX_TRACK_POINTS]]
    return {
        "vehicle_id": vehicle_id,
        "from_ms": int(start.timestamp() * 1000),
        "to_ms": int(end.timestamp() * 1000),
        "points": points,
        "distance_m": round(polyline_length_m((p["lat"], p["lon"]) for p in points), 1),
        "truncated": truncated,
    }

"""Vehicles in the user's scope: list, details, track."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from web.deps import ResourcesDep, SettingsDep, VehicleUser
from web.errors import ApiError
from web.queries.tracks import load_stops, load_track, load_trips
from web.schemas.common import error_responses
from web.schemas.vehicles import (
    Source,
    TrackRead,
    VehicleDayRead,
    VehicleDetailRead,
    VehiclePage,
    VehicleStatus,
)
from web.tracks import TrackWindowError, day_totals, epoch_ms, local_day, resolve_window
from web.vehicle_state import STATUSES
from web.vehicle_views import list_vehicle_items, vehicle_detail

# ids are PostgreSQL integers: anything else is a 422, never a database error
VehicleId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Vehicle id")]

router = APIRouter(prefix="/api/v1/vehicles", tags=["vehicles"])

DEFAULT_MAX_POINTS = 2000
MAX_POINTS_LIMIT = 20_000
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
        datetime | None,
        Query(
            alias="from",
            description="ISO 8601; without an offset, Asia/Shanghai; default: to − 1 h",
        ),
    ] = None,
    to_ts: Annotated[
        datetime | None, Query(alias="to", description="ISO 8601; default: now")
    ] = None,
    max_points: Annotated[
        int, Query(ge=2, le=MAX_POINTS_LIMIT, description="Point budget of the simplified track")
    ] = DEFAULT_MAX_POINTS,
) -> dict:
    """Positions, trips and stops over a window of at most 31 days (轨迹回放)."""
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
    track = await load_track(resources.pool, vehicle_id, start, end, max_points)
    return {
        "vehicle_id": vehicle_id,
        "from_ms": epoch_ms(start),
        "to_ms": epoch_ms(end),
        "max_points": max_points,
        **track,
    }


def _without_coordinates(segment: dict) -> dict:
    hidden = ("lat", "lon", "start_lat", "start_lon", "end_lat", "end_lon")
    return {**segment, **{name: None for name in hidden if name in segment}}


@router.get(
    "/{vehicle_id}/today", response_model=VehicleDayRead, responses=error_responses(401, 403, 404)
)
async def get_today(
    vehicle_id: VehicleId, user: VehicleUser, resources: ResourcesDep, settings: SettingsDep
) -> dict:
    """Today's (Asia/Shanghai) trips and stops, distance and driving time (今日行程)."""
    item = await _vehicle_or_404(resources, settings, user, vehicle_id)
    start, end = local_day(datetime.now(UTC))
    from_ms, to_ms = epoch_ms(start), epoch_ms(end)
    trips = await load_trips(resources.pool, vehicle_id, start, end)
    stops = await load_stops(resources.pool, vehicle_id, start, end)
    if item["position_withheld"]:
        # Times and distances stay visible, as the status does; places do not.
        trips = [_without_coordinates(trip) for trip in trips]
        stops = [_without_coordinates(stop) for stop in stops]
    return {
        "vehicle_id": vehicle_id,
        "day": start.date().isoformat(),
        "from_ms": from_ms,
        "to_ms": to_ms,
        "position_withheld": item["position_withheld"],
        "trips": trips,
        "stops": stops,
        "trip_count": len(trips),
        **day_totals(trips, from_ms, to_ms),
    }

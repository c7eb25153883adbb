"""Places for the map picker: which city a point lies in, and the scenario's named places.

The nine city boundaries are loaded once per app (on first use) and kept as prepared shapely
geometries: locating a point is then a few point-in-polygon tests, no database round trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
import shapely
from fastapi import APIRouter, Query, Request
from shapely import Geometry

from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.queries.places import cities, city_boundaries, named_places
from web.schemas.common import error_responses
from web.schemas.places import CityCentreRead, CityRead, PlaceRead

router = APIRouter(prefix="/api/v1/places", tags=["places"])


@dataclass(frozen=True)
class CityShape:
    code: str
    name_zh: str
    name_en: str
    boundary: Geometry


async def _shapes(request: Request, pool: asyncpg.Pool) -> list[CityShape]:
    """The boundaries, loaded on first use and kept on the app's state (two first requests at
    once may both load them: harmless, the second list replaces the equal first)."""
    state = request.app.state
    shapes = getattr(state, "city_shapes", None)
    if shapes is None:
        shapes = []
        for row in await city_boundaries(pool):
            geometry = shapely.from_wkb(bytes(row["wkb"]))
            shapely.prepare(geometry)
            shapes.append(CityShape(row["code"], row["name_zh"], row["name_en"], geometry))
        state.city_shapes = shapes
    return shapes


def locate_point(shapes: list[CityShape], lat: float, lon: float) -> CityShape | None:
    """The city whose boundary holds the point; where simplified boundaries overlap, the one
    whose centre is nearest."""
    inside = [s for s in shapes if shapely.contains_xy(s.boundary, lon, lat)]
    if len(inside) <= 1:
        return inside[0] if inside else None
    point = shapely.Point(lon, lat)
    return min(inside, key=lambda s: shapely.distance(shapely.centroid(s.boundary), point))


@router.get("/locate", response_model=CityRead, responses=error_responses(401, 404, 422))
async def locate(
    request: Request, _user: CurrentUser, pool: PoolDep,
    lat: Annotated[float, Query(ge=-90, le=90, description="WGS-84 latitude")],
    lon: Annotated[float, Query(ge=-180, le=180, description="WGS-84 longitude")],
) -> dict:
    """The city (GB/T 2260 code and names) a point lies in; 404 outside_service_area when it is
    in none of the platform's cities."""
    city = locate_point(await _shapes(request, pool), lat, lon)
    if city is None:
        raise ApiError(404, "The point lies outside the service area (the nine cities of the "
                       "Wuhan metropolitan circle).", code="outside_service_area",
                       details={"lat": lat, "lon": lon})
    return {"code": city.code, "name_zh": city.name_zh, "name_en": city.name_en}


@router.get("/cities", response_model=list[CityCentreRead], responses=error_responses(401))
async def list_cities(_user: CurrentUser, pool: PoolDep) -> list[dict]:
    """The cities the platform serves, with their centres."""
    return [dict(r) for r in await cities(pool)]


@router.get("", response_model=list[PlaceRead], responses=error_responses(401, 422))
async def list_places(
    _user: CurrentUser, pool: PoolDep,
    city_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="GB/T 2260")] = None,
    q: Annotated[str | None, Query(max_length=50, description="part of the name (zh or en)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict]:
    """Named places (常用地点: government offices, stations, hospitals, venues)."""
    return [dict(r) for r in await named_places(pool, city_code, (q or "").strip() or None, limit)]

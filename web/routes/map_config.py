"""Map layers and the client configuration of the console."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import CurrentUser, PoolDep, SettingsDep
from web.queries.geofences import map_layers
from web.schemas.common import ConfigRead, error_responses
from web.schemas.map import MapLayersRead

router = APIRouter(prefix="/api/v1", tags=["map"])

# The Wuhan metropolitan circle (domain.md §9): the view for users above city level.
CIRCLE_CENTRE = {"lat": 30.45, "lon": 113.95, "zoom": 8}
CITY_ZOOM = 10


@router.get("/map/layers", response_model=MapLayersRead, responses=error_responses(401))
async def get_map_layers(_user: CurrentUser, pool: PoolDep) -> dict:
    return await map_layers(pool)


@router.get("/config", response_model=ConfigRead, responses=error_responses(401))
async def get_config(user: CurrentUser, pool: PoolDep, settings: SettingsDep) -> dict:
    centre = CIRCLE_CENTRE
    if user.scope_org.kind != "province" and user.scope_org.city_code:
        row = await pool.fetchrow(
            "SELECT centre_lat, centre_lon FROM cities WHERE code = $1", user.scope_org.city_code
        )
        if row is not None:
            centre = {"lat": row["centre_lat"], "lon": row["centre_lon"], "zoom": CITY_ZOOM}
    return {
        "tile_url": settings.tile_url,
        "tile_max_native_zoom": settings.tile_max_native_zoom,
        "tile_attribution": settings.tile_attribution,
        "map_centre": centre,
        "demo": settings.demo,
    }

"""Offline basemap tiles (see web.tiles)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from web.errors import ApiError
from web.tiles import bundled_basemap

router = APIRouter(tags=["tiles"])

# The bundled tiles never change for an installed version: let browsers keep them a week.
TILE_CACHE_CONTROL = "public, max-age=604800, immutable"


@router.get(
    "/tiles/{z}/{x}/{y}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "Outside the coverage"}},
)
async def get_tile(z: int, x: int, y: int) -> Response:
    basemap = bundled_basemap()
    if basemap is None:
        raise ApiError(404, "The offline basemap is not installed.", code="basemap_missing")
    data = await run_in_threadpool(basemap.tile, z, x, y)
    if data is None:
        raise ApiError(404, f"No tile {z}/{x}/{y}.", code="tile_not_found")
    return Response(data, media_type="image/png", headers={"Cache-Control": TILE_CACHE_CONTROL})

"""Geofences (电子围栏): list, read, create, update, delete (deactivate), versions, GeoJSON
import and export. Every change is a new version with its row in geofence_versions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from supervision import zone_store
from web import zone_writes
from web.deps import CurrentUser, PoolDep
from web.export_names import local_stamp
from web.principal import Principal
from web.queries import zones as q
from web.responses import JSONBytesResponse
from web.schemas.common import error_responses
from web.schemas.geofences import (
    FeatureCollectionIn,
    ImportRead,
    Purpose,
    ZoneIn,
    ZoneRead,
    ZoneUpdate,
    ZoneVersionRead,
)
from web.zone_access import (
    check_editable,
    check_visible,
    feature_collection,
    require_editor,
    require_reader,
    scope_path,
    zone_read,
)

router = APIRouter(prefix="/api/v1/geofences", tags=["geofences"])

ZoneId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Geofence id")]


class Filters:
    def __init__(
        self,
        purpose: Annotated[Purpose | None, Query()] = None,
        city_code: Annotated[str | None, Query(alias="city", pattern=r"^\d{6}$")] = None,
        category: Annotated[str | None, Query(max_length=40)] = None,
        active: Annotated[bool | None, Query(description="default: active zones only")] = True,
        q: Annotated[str | None, Query(max_length=50, description="part of a name or code")] = None,
    ) -> None:
        self.purpose, self.city_code, self.category, self.active = purpose, city_code, category, active
        self.q = (q or "").strip() or None


FiltersDep = Annotated[Filters, Depends()]


async def _rows(pool, user: Principal, filters: Filters) -> list:  # noqa: ANN001
    return await q.list_zones(
        pool, admin="admin" in user.roles, scope_root_id=user.scope_root_id,
        scope_path=await scope_path(pool, user), purpose=filters.purpose,
        city_code=filters.city_code, category=filters.category, active=filters.active,
        q=filters.q)


@router.get("", response_model=list[ZoneRead], responses=error_responses(401, 403, 422))
async def list_zones(
    user: CurrentUser, pool: PoolDep, filters: FiltersDep,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",  # noqa: A002
) -> list[dict] | JSONBytesResponse:
    """The zones the caller sees, filtered; `format=geojson` answers a FeatureCollection."""
    require_reader(user)
    rows = await _rows(pool, user, filters)
    if format == "geojson":
        return JSONBytesResponse(feature_collection(rows, user),
                                 media_type="application/geo+json")
    return [zone_read(r, user) for r in rows]


@router.get("/export", responses={200: {"content": {"application/geo+json": {}}},
                                  **error_responses(401, 403, 422)})
async def export_zones(
    user: CurrentUser, pool: PoolDep, filters: FiltersDep
) -> JSONBytesResponse:
    """The listed zones as a GeoJSON file (properties: the zone's fields) to download."""
    require_reader(user)
    rows = await _rows(pool, user, filters)
    name = f"zones-{local_stamp('%Y%m%d-%H%M')}.geojson"   # Asia/Shanghai time
    return JSONBytesResponse(
        feature_collection(rows, user), media_type="application/geo+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/import", response_model=ImportRead,
             responses=error_responses(401, 403, 409, 422))
async def import_zones(body: FeatureCollectionIn, user: CurrentUser, pool: PoolDep) -> dict:
    """Import a FeatureCollection: all features or none (422 lists every feature's problems;
    409 stale_version lists the features exported before their zone's latest change). A
    feature that says what is stored already is "unchanged" (no new version)."""
    require_editor(user)
    async with pool.acquire() as conn, conn.transaction():
        scope = await scope_path(conn, user)
        return await zone_writes.import_features(conn, user, scope, body.features)


@router.get("/{zone_id}", response_model=ZoneRead, responses=error_responses(401, 403, 404, 422))
async def read_zone(zone_id: ZoneId, user: CurrentUser, pool: PoolDep) -> dict:
    require_reader(user)
    row = await zone_store.fetch_row(pool, zone_id)
    return zone_read(check_visible(user, row, await scope_path(pool, user), zone_id), user)


@router.get("/{zone_id}/versions", response_model=list[ZoneVersionRead],
            responses=error_responses(401, 403, 404, 422))
async def zone_versions(zone_id: ZoneId, user: CurrentUser, pool: PoolDep) -> list[dict]:
    """Every saved version, newest first (a seeded zone has one only after its first change)."""
    require_reader(user)
    check_visible(user, await zone_store.fetch_row(pool, zone_id),
                  await scope_path(pool, user), zone_id)
    return [dict(r) for r in await zone_store.versions(pool, zone_id)]


@router.post("", response_model=ZoneRead, status_code=201,
             responses=error_responses(401, 403, 404, 409, 422))
async def create_zone(body: ZoneIn, user: CurrentUser, pool: PoolDep) -> dict:
    require_editor(user)
    async with pool.acquire() as conn, conn.transaction():
        scope = await scope_path(conn, user)
        row = await zone_writes.create(conn, user, scope, body.model_dump(by_alias=True))
    return zone_read(row, user)


@router.put("/{zone_id}", response_model=ZoneRead,
            responses=error_responses(401, 403, 404, 409, 422))
async def update_zone(zone_id: ZoneId, body: ZoneUpdate, user: CurrentUser, pool: PoolDep) -> dict:
    """Replace the zone; 409 stale_version when it changed since `version` was read."""
    require_editor(user)
    async with pool.acquire() as conn, conn.transaction():
        scope = await scope_path(conn, user)
        current = check_editable(user, await zone_store.fetch_row(conn, zone_id, lock=True),
                                 scope, zone_id)
        row = await zone_writes.update(conn, user, scope, current, body.model_dump(by_alias=True))
    return zone_read(row, user)


@router.delete("/{zone_id}", response_model=ZoneRead,
               responses=error_responses(401, 403, 404, 409, 422))
async def delete_zone(
    zone_id: ZoneId, user: CurrentUser, pool: PoolDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict | Response:
    """Deactivate the zone (a new version; violations keep citing the old ones)."""
    require_editor(user)
    async with pool.acquire() as conn, conn.transaction():
        scope = await scope_path(conn, user)
        current = check_editable(user, await zone_store.fetch_row(conn, zone_id, lock=True),
                                 scope, zone_id)
        row = await zone_writes.deactivate(conn, user, current, version)
    return zone_read(row, user)

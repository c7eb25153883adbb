"""Vehicle groups (车辆分组): a zone may apply to a group's cars only. Same roles as zones:
admins everywhere, org admins in their subtree; dispatchers and inspectors read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path
from fastapi.responses import Response

from supervision import group_store
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.queries import zones as q
from web.schemas.common import error_responses
from web.schemas.geofences import VehicleGroupIn, VehicleGroupRead, VehicleGroupUpdate
from web.zone_access import editable, require_editor, require_reader, scope_path, visible

router = APIRouter(prefix="/api/v1/vehicle-groups", tags=["geofences"])

GroupId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Vehicle group id")]


def _read(row: Mapping[str, Any], user: Principal) -> dict:
    return {**{k: row[k] for k in ("id", "code", "name_zh", "name_en", "org_id", "members",
                                   "zone_count")},
            "editable": editable(user, row)}


def _not_found(group_id: int) -> ApiError:
    return ApiError(404, "No such vehicle group.", code="group_not_found", details={"id": group_id})


async def _members_ok(conn: asyncpg.Connection, user: Principal, vehicle_ids: list[int]) -> None:
    outside = await group_store.vehicles_outside(
        conn, vehicle_ids, user.scope_root_id, "admin" in user.roles)
    if outside:
        raise ApiError(422, "Some members are no vehicles of yours.", code="unknown_vehicle",
                       details={"vehicle_ids": outside})


async def _to_edit(conn: asyncpg.Connection, user: Principal, group_id: int) -> asyncpg.Record:
    row = await group_store.fetch(conn, group_id, lock=True)
    if row is None or not visible(user, row, await scope_path(conn, user)):
        raise _not_found(group_id)
    if not editable(user, row):
        raise ApiError(403, "This group belongs to an organisation above yours.", code="forbidden")
    return row


@router.get("", response_model=list[VehicleGroupRead], responses=error_responses(401, 403))
async def list_groups(user: CurrentUser, pool: PoolDep) -> list[dict]:
    require_reader(user)
    rows = await group_store.list_groups(
        pool, admin="admin" in user.roles, scope_root_id=user.scope_root_id,
        scope_path=await scope_path(pool, user))
    return [_read(r, user) for r in rows]


@router.get("/{group_id}", response_model=VehicleGroupRead,
            responses=error_responses(401, 403, 404, 422))
async def read_group(group_id: GroupId, user: CurrentUser, pool: PoolDep) -> dict:
    require_reader(user)
    row = await group_store.fetch(pool, group_id)
    if row is None or not visible(user, row, await scope_path(pool, user)):
        raise _not_found(group_id)
    return _read(row, user)


@router.post("", response_model=VehicleGroupRead, status_code=201,
             responses=error_responses(401, 403, 404, 409, 422))
async def create_group(body: VehicleGroupIn, user: CurrentUser, pool: PoolDep) -> dict:
    require_editor(user)
    org_id = body.org_id or user.scope_root_id
    async with pool.acquire() as conn, conn.transaction():
        path = await q.org_path(conn, org_id)
        if path is None or not ("admin" in user.roles or user.scope_root_id in path):
            raise ApiError(404, "No such organisation of yours.", code="organisation_not_found")
        await _members_ok(conn, user, body.vehicle_ids)
        try:
            async with conn.transaction():
                group_id = await group_store.insert(
                    conn, body.code, body.name_zh, body.name_en or body.name_zh, org_id)
        except asyncpg.UniqueViolationError:
            raise ApiError(409, f"A group with the code {body.code} exists.",
                           code="group_code_exists") from None
        await group_store.set_members(conn, group_id, body.vehicle_ids)
        row = await group_store.fetch(conn, group_id)
    return _read(row, user)


@router.put("/{group_id}", response_model=VehicleGroupRead,
            responses=error_responses(401, 403, 404, 422))
async def update_group(
    group_id: GroupId, body: VehicleGroupUpdate, user: CurrentUser, pool: PoolDep
) -> dict:
    """Rename the group and replace its members (the zones bound to it follow at once)."""
    require_editor(user)
    async with pool.acquire() as conn, conn.transaction():
        await _to_edit(conn, user, group_id)
        await _members_ok(conn, user, body.vehicle_ids)
        await group_store.rename(conn, group_id, body.name_zh, body.name_en or body.name_zh)
        await group_store.set_members(conn, group_id, body.vehicle_ids)
        row = await group_store.fetch(conn, group_id)
    return _read(row, user)


@router.delete("/{group_id}", status_code=204, responses=error_responses(401, 403, 404, 409, 422))
async def delete_group(group_id: GroupId, user: CurrentUser, pool: PoolDep) -> Response:
    """Only a group no zone (even a deleted one) was ever bound to."""
    require_editor(user)
    async with pool.acquire() as conn, conn.transaction():
        await _to_edit(conn, user, group_id)
        if await group_store.bound_zones(conn, group_id):
            raise ApiError(409, "Zones are bound to this group.", code="group_in_use")
        await group_store.delete(conn, group_id)
    return Response(status_code=204)

"""Writing geofences: one zone (create, update with an optimistic version, deactivate) and a
GeoJSON import that writes every feature or none. The caller owns the transaction."""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from typing import Any

import asyncpg
import shapely
from pydantic import ValidationError
from shapely.geometry import shape as geojson_shape

from supervision import zone_store
from supervision.zone_validation import Problem, zone_fields
from web.errors import ApiError
from web.principal import Principal
from web.queries import zones as q
from web.schemas.geofences import ZoneIn
from web.zone_access import bare_geometry, editable, visible

ACCESS_CODES = {"organisation_not_found": 404, "forbidden": 403}


async def _owner(conn: asyncpg.Connection, user: Principal, scope: list[int],
                 org_id: int | None, problems: list[Problem]) -> int | None:
    admin = "admin" in user.roles
    if org_id is None:
        return None if admin else user.scope_root_id
    path = await q.org_path(conn, org_id)
    if path is None or not (admin or user.scope_root_id in path or org_id in scope):
        problems.append(Problem("org_id", "organisation_not_found", "No such organisation."))
    elif not admin and user.scope_root_id not in path:
        problems.append(Problem("org_id", "forbidden",
                                "Zones of an organisation above yours are not yours to set."))
    return org_id


async def prepare(conn: asyncpg.Connection, user: Principal, scope: list[int],
                  data: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The columns to store for a zone described by `data` (ZoneIn's fields), or the problems:
    its geometry and rules (pure checks), then its owner, city, group and vehicle."""
    fields, problems = zone_fields(data)
    admin = "admin" in user.roles
    org_id = await _owner(conn, user, scope, data.get("org_id"), problems)
    city_code = data.get("city_code")
    if city_code is not None and not await q.city_exists(conn, city_code):
        problems.append(Problem("city_code", "unknown_city", "No such city."))
    if city_code is None and org_id is not None:
        city_code = await q.org_city(conn, org_id)
    group_id, vehicle_id = data.get("vehicle_group_id"), data.get("vehicle_id")
    if data.get("applies_to") == "group" and isinstance(group_id, int) and not (
            await q.group_in_scope(conn, user.scope_root_id, group_id, admin, scope)):
        problems.append(Problem("vehicle_group_id", "unknown_group", "No such vehicle group."))
    if data.get("applies_to") == "vehicle" and isinstance(vehicle_id, int) and not (
            await q.vehicle_in_scope(conn, user.scope_root_id, vehicle_id, admin)):
        problems.append(Problem("vehicle_id", "unknown_vehicle", "No such vehicle."))
    if problems or fields is None:
        return None, problems
    fields.update(name_zh=data["name_zh"], name_en=data.get("name_en") or data["name_zh"],
                  org_id=org_id, city_code=city_code, active=data.get("active", True))
    return fields, []


def raise_problems(problems: list[Problem]) -> None:
    for problem in problems:
        if problem.code in ACCESS_CODES:
            raise ApiError(ACCESS_CODES[problem.code], problem.message, code=problem.code)
    raise ApiError(422, "The zone is not valid: " + "; ".join(p.message for p in problems),
                   code="invalid_zone", details={"problems": [p.to_json() for p in problems]})


def new_code(city_code: str | None) -> str:
    return f"Z-{city_code or '420000'}-{secrets.token_hex(4).upper()}"


async def create(conn: asyncpg.Connection, user: Principal, scope: list[int],
                 data: Mapping[str, Any]) -> asyncpg.Record:
    fields, problems = await prepare(conn, user, scope, data)
    if fields is None:
        raise_problems(problems)
    code = data.get("code") or new_code(fields["city_code"])
    try:
        async with conn.transaction():
            return await zone_store.insert_zone(conn, code, fields, user.id)
    except asyncpg.UniqueViolationError:
        raise ApiError(409, f"A zone with the code {code} exists.", code="zone_code_exists",
                       details={"code": code}) from None


def check_version(row: Mapping[str, Any], version: int | None) -> None:
    if version is not None and row["version"] != version:
        raise ApiError(409, "Someone changed this zone since you opened it; reload it.",
                       code="stale_version",
                       details={"version": row["version"], "yours": version})


async def update(conn: asyncpg.Connection, user: Principal, scope: list[int],
                 current: Mapping[str, Any], data: Mapping[str, Any]) -> asyncpg.Record:
    check_version(current, data.get("version"))
    fields, problems = await prepare(conn, user, scope, data)
    if fields is None:
        raise_problems(problems)
    if data.get("code") and data["code"] != current["code"]:
        raise ApiError(422, "A zone's code does not change.", code="code_is_fixed")
    if not fields["active"] and await q.zone_in_use(conn, current["id"]):
        raise _in_use()
    return await zone_store.update_zone(conn, current, fields, user.id)


def _in_use() -> ApiError:
    return ApiError(409, "Cars or depots park at this designated lot; give them another first.",
                    code="zone_in_use")


async def deactivate(conn: asyncpg.Connection, user: Principal, current: Mapping[str, Any],
                     version: int | None) -> asyncpg.Record:
    check_version(current, version)
    if not current["active"]:
        return current  # deleted already: nothing changes
    if await q.zone_in_use(conn, current["id"]):
        raise _in_use()
    return await zone_store.update_zone(conn, current, {"active": False}, user.id)


# --- GeoJSON import -------------------------------------------------------------------------

_ZONE_KEYS = set(ZoneIn.model_fields)


def _feature_data(feature: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """A feature's zone description (ZoneIn's fields), checked by ZoneIn."""
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature" or not isinstance(
            feature.get("properties"), Mapping):
        return None, [Problem("feature", "bad_feature", "Not a GeoJSON Feature with properties.")]
    props = feature["properties"]
    data = {k: props[k] for k in _ZONE_KEYS if k in props}
    geometry = feature.get("geometry")
    shape_kind = props.get("shape")
    if shape_kind == "polygon":
        data["geometry"] = geometry
    elif shape_kind == "corridor" and "line" not in data:
        line = props.get("line_geojson")
        if line is None and isinstance(geometry, Mapping) and geometry.get("type") == "LineString":
            line = geometry
        data["line"] = line
    try:
        model = ZoneIn.model_validate(data)
    except ValidationError as exc:
        return None, [
            Problem(".".join(str(p) for p in err["loc"]) or "feature", err["type"], err["msg"])
            for err in exc.errors()
        ]
    dumped = model.model_dump(by_alias=True)
    dumped["active"] = props.get("active") is not False
    return dumped, []


def _same(fields: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    for key, value in fields.items():
        if key == "wkb":
            continue
        stored = row[key]
        if key == "geojson":
            a, b = geojson_shape(value), geojson_shape(bare_geometry(stored))
            if not shapely.equals_exact(a, b, tolerance=1e-9):
                return False
        elif isinstance(value, float) and isinstance(stored, float):
            if not math.isclose(value, stored, rel_tol=1e-6):
                return False
        elif value != stored:
            return False
    return True


async def import_features(conn: asyncpg.Connection, user: Principal, scope: list[int],
                          features: list[Any]) -> dict[str, Any]:
    """Every feature checked first; any problem -> 422 listing each feature's problems and
    nothing written. A feature whose code exists updates that zone (when it differs)."""
    planned, errors, seen_codes = [], [], set()
    for index, feature in enumerate(features):
        data, problems = _feature_data(feature)
        current = None
        if data is not None:
            code = data.get("code")
            if code and code in seen_codes:
                problems.append(Problem("code", "duplicate_code", "The code appears twice."))
            seen_codes.add(code)
            if code:
                current = await zone_store.fetch_by_code(conn, code, lock=True)
                if current is not None and not visible(user, current, scope):
                    current = None
                    problems.append(Problem("code", "zone_code_exists",
                                            "That code belongs to a zone you cannot see."))
                elif current is not None and not editable(user, current):
                    problems.append(Problem("code", "forbidden", "That zone is not yours to change."))
            fields, more = await prepare(conn, user, scope, data)
            problems += more
        if problems:
            errors.append({"index": index, "code": (data or {}).get("code"),
                           "problems": [p.to_json() for p in problems]})
        else:
            planned.append((index, data, fields, current))
    if errors:
        raise ApiError(422, f"{len(errors)} of {len(features)} features are not valid zones; "
                       "nothing was imported.", code="import_invalid",
                       details={"features": errors})
    result: dict[str, Any] = {"created": 0, "updated": 0, "unchanged": 0, "zones": []}
    for index, data, fields, current in planned:
        if current is None:
            row = await zone_store.insert_zone(
                conn, data.get("code") or new_code(fields["city_code"]), fields, user.id)
            action = "created"
        elif _same(fields, current):
            row, action = current, "unchanged"
        else:
            row = await zone_store.update_zone(conn, current, fields, user.id)
            action = "updated"
        result[action] += 1
        result["zones"].append({"index": index, "code": row["code"], "id": row["id"],
                                "version": row["version"], "action": action})
    return result

"""Writing geofences: one zone (create, update with an optimistic version, deactivate) and a
GeoJSON import that writes every feature or none. The caller owns the transaction.

An import is an edit like any other: a feature naming an existing zone (by `code`) with the
`version` it was exported at is refused when the zone has moved on since (409 stale_version,
listing the features concerned; nothing written) — an old file never silently overwrites a
newer edit. A feature without `version` (a file made by hand) is taken as it is. A feature
that says what is stored already (the same place — a circle's centre within 1 m and the same
radius, a polygon's or a corridor route's vertices within about a centimetre — and the same
properties) is "unchanged": no new version.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from typing import Any

import asyncpg
import shapely
from pydantic import ValidationError
from shapely.geometry import shape as geojson_shape

from fleet.geodesy import haversine_m
from supervision import zone_store
from supervision.zone_validation import Problem, zone_fields
from web.errors import ApiError
from web.principal import Principal
from web.queries import zones as q
from web.schemas.geofences import ZoneIn
from web.zone_access import bare_geometry, centre_of, editable, visible

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


# What "the same place" allows: a circle's centre (read back as its 48-gon's mean, which the
# stored floats shift by far less), a vertex (1e-7° ≈ 1 cm), a length in metres.
CENTRE_TOLERANCE_M = 1.0
VERTEX_TOLERANCE_DEG = 1e-7
LENGTH_TOLERANCE_M = 0.01
_PLACE_FIELDS = frozenset({"geojson", "wkb", "radius_m", "buffer_m", "line_geojson"})


def _same_shape(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(shapely.equals_exact(geojson_shape(bare_geometry(a)),
                                     geojson_shape(bare_geometry(b)),
                                     tolerance=VERTEX_TOLERANCE_DEG))


def _same_length(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), abs_tol=LENGTH_TOLERANCE_M)


def _same_place(fields: Mapping[str, Any], data: Mapping[str, Any],
                row: Mapping[str, Any]) -> bool:
    shape = fields["shape"]
    if shape != row["shape"]:
        return False
    if shape == "circle":
        stored = centre_of(row)
        centre = data.get("centre")
        return (stored is not None and centre is not None
                and haversine_m(stored[1], stored[0], centre[1], centre[0]) <= CENTRE_TOLERANCE_M
                and _same_length(fields["radius_m"], row["radius_m"]))
    if shape == "corridor":
        return (_same_shape(fields["line_geojson"], row["line_geojson"])
                and _same_length(fields["buffer_m"], row["buffer_m"]))
    return _same_shape(fields["geojson"], row["geojson"])


def _same_value(value: Any, stored: Any) -> bool:
    if isinstance(value, float) or isinstance(stored, float):
        return (value is not None and stored is not None
                and math.isclose(float(value), float(stored), rel_tol=1e-9, abs_tol=1e-9))
    return value == stored


def _same(fields: Mapping[str, Any], data: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    """Whether the feature says what the stored zone says (place and every property)."""
    if not _same_place(fields, data, row):
        return False
    return all(_same_value(value, row[key]) for key, value in fields.items()
               if key not in _PLACE_FIELDS)


def _version_of(feature: Any) -> tuple[int | None, list[Problem]]:
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    version = props.get("version") if isinstance(props, Mapping) else None
    if version is None:
        return None, []
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return None, [Problem("version", "bad_version",
                              "version: the zone's version the file was exported at.")]
    return version, []


async def import_features(conn: asyncpg.Connection, user: Principal, scope: list[int],
                          features: list[Any]) -> dict[str, Any]:
    """Every feature checked first; any problem -> 422 listing each feature's problems and
    nothing written; a feature exported at an older version of its zone -> 409 stale_version
    and nothing written. A feature whose code exists updates that zone when it differs."""
    planned, errors, stale, seen_codes = [], [], [], set()
    for index, feature in enumerate(features):
        data, problems = _feature_data(feature)
        version, more = _version_of(feature)
        problems += more
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
            if current is not None and version is not None and version != current["version"]:
                problem = Problem("version", "stale_version",
                                  f"Exported at version {version}; the zone is at version "
                                  f"{current['version']} now.")
                stale.append({"index": index, "code": current["code"], "id": current["id"],
                              "version": version, "stored_version": current["version"],
                              "problems": [problem.to_json()]})
            planned.append((index, data, fields, current))
    if errors:
        raise ApiError(422, f"{len(errors)} of {len(features)} features are not valid zones; "
                       "nothing was imported.", code="import_invalid",
                       details={"features": errors})
    if stale:
        raise ApiError(409, f"{len(stale)} of {len(features)} features were exported before "
                       "their zone's latest change; nothing was imported. Export again and "
                       "redo your edits there.", code="stale_version",
                       details={"features": stale})
    result: dict[str, Any] = {"created": 0, "updated": 0, "unchanged": 0, "zones": []}
    for index, data, fields, current in planned:
        if current is None:
            row = await zone_store.insert_zone(
                conn, data.get("code") or new_code(fields["city_code"]), fields, user.id)
            action = "created"
        elif _same(fields, data, current):
            row, action = current, "unchanged"
        else:
            row = await zone_store.update_zone(conn, current, fields, user.id)
            action = "updated"
        result[action] += 1
        result["zones"].append({"index": index, "code": row["code"], "id": row["id"],
                                "version": row["version"], "action": action})
    return result

"""Who sees and who changes a geofence, and how one is shown over the API.

Readers: admin, org_admin, dispatcher, inspector. A non-admin sees the province's zones (no
owner), those of their subtree and those of the organisations above them (they apply to
them). Admins change any zone; an org admin those owned inside their subtree. A zone the caller
cannot see answers 404, one they see but may not change 403."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from supervision.local_metric import ring_centre
from web.errors import ApiError
from web.principal import Principal
from web.queries import zones as q

READ_ROLES = frozenset({"admin", "org_admin", "dispatcher", "inspector"})
EDIT_ROLES = frozenset({"admin", "org_admin"})


def require_reader(user: Principal) -> None:
    if not user.has_any_role(READ_ROLES):
        raise ApiError(403, "Zones are for admins, dispatchers and inspectors.", code="forbidden")


def require_editor(user: Principal) -> None:
    require_reader(user)
    if not user.has_any_role(EDIT_ROLES):
        raise ApiError(403, "Only admins and organisation admins change zones.", code="forbidden")


async def scope_path(conn: asyncpg.Connection | asyncpg.Pool, user: Principal) -> list[int]:
    return await q.org_path(conn, user.scope_root_id) or []


def _org_path(row: Mapping[str, Any]) -> list[int]:
    return list(row["org_path"] or [])


def visible(user: Principal, row: Mapping[str, Any], scope: list[int]) -> bool:
    if "admin" in user.roles or row["org_id"] is None:
        return True
    return user.scope_root_id in _org_path(row) or row["org_id"] in scope


def editable(user: Principal, row: Mapping[str, Any]) -> bool:
    if "admin" in user.roles:
        return True
    return ("org_admin" in user.roles and row["org_id"] is not None
            and user.scope_root_id in _org_path(row))


def not_found(zone_id: int | str) -> ApiError:
    return ApiError(404, "No such zone.", code="zone_not_found", details={"id": zone_id})


def check_visible(user: Principal, row: Mapping[str, Any] | None, scope: list[int],
                  zone_id: int) -> Mapping[str, Any]:
    if row is None or not visible(user, row, scope):
        raise not_found(zone_id)
    return row


def check_editable(user: Principal, row: Mapping[str, Any] | None, scope: list[int],
                   zone_id: int) -> Mapping[str, Any]:
    row = check_visible(user, row, scope, zone_id)
    if not editable(user, row):
        raise ApiError(403, "This zone belongs to an organisation above yours.", code="forbidden")
    return row


def centre_of(row: Mapping[str, Any]) -> list[float] | None:
    if row["shape"] != "circle" or not row["radius_m"]:
        return None
    geometry = row["geojson"]
    if geometry.get("type") == "Feature":
        geometry = geometry["geometry"]
    lon, lat = ring_centre(geometry["coordinates"][0])
    return [lon, lat]


def bare_geometry(stored: Mapping[str, Any]) -> dict[str, Any]:
    return dict(stored["geometry"]) if stored.get("type") == "Feature" else dict(stored)


def zone_read(row: Mapping[str, Any], user: Principal) -> dict[str, Any]:
    """The API's view of a geofences row."""
    geojson = bare_geometry(row["geojson"])
    return {
        "id": row["id"], "version": row["version"], "code": row["code"],
        "name_zh": row["name_zh"], "name_en": row["name_en"], "shape": row["shape"],
        "purpose": row["purpose"], "category": row["category"], "city_code": row["city_code"],
        "org_id": row["org_id"], "geojson": geojson, "centre": centre_of(row),
        "radius_m": row["radius_m"], "line": row["line_geojson"], "buffer_m": row["buffer_m"],
        "speed_limit_kmh": row["speed_limit_kmh"], "time_windows": row["time_windows"] or [],
        "valid_from": row["valid_from"], "valid_to": row["valid_to"],
        "applies_to": row["applies_to"], "vehicle_group_id": row["vehicle_group_id"],
        "vehicle_id": row["vehicle_id"], "active": row["active"],
        "updated_at": row["updated_at"], "editable": editable(user, row),
    }


# Properties of an exported feature (the zone's fields; its area is the feature's geometry).
EXPORT_FIELDS = (
    "id", "version", "code", "name_zh", "name_en", "shape", "purpose", "category", "city_code",
    "org_id", "centre", "radius_m", "buffer_m", "speed_limit_kmh", "time_windows",
    "valid_from", "valid_to", "applies_to", "vehicle_group_id", "vehicle_id", "active",
)


def zone_feature(row: Mapping[str, Any], user: Principal) -> dict[str, Any]:
    read = zone_read(row, user)
    properties = {key: read[key] for key in EXPORT_FIELDS}
    for key in ("valid_from", "valid_to"):
        if properties[key] is not None:
            properties[key] = properties[key].isoformat()
    properties["line_geojson"] = read["line"]
    return {"type": "Feature", "id": read["id"], "geometry": read["geojson"],
            "properties": properties}


def feature_collection(rows: list[Mapping[str, Any]], user: Principal) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [zone_feature(r, user) for r in rows]}

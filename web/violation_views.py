"""Read models of violations for the review API: who reads what, a list item, one violation
with its evidence, explanations, files and audit trail, and the moves its reader may make.

Reach: inspectors and admins read every violation of the province; org admins and
dispatchers those of their subtree (a dispatcher's is the city); anyone else is refused (403).
A violation out of reach is a 404, never a 403. Inspectors read province-wide but act (send,
decide, close, refer) only on the violations of units within their own scope (a province
inspector: all; domain.md §1). A 机要 car's positions are withheld from users not cleared for
them (domain.md §1): its track and triggering fixes, and every coordinate in the summary
(where a trip began and ended, where the car stood, left or entered an area), in the zones
and orders of the evidence — in the list as in the detail.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from supervision import audit_store
from supervision.review import INSPECTOR_ROLES, Actor, State, actor_kind, allowed_events
from supervision.violation_store import subject
from web.errors import ApiError
from web.principal import Principal
from web.queries import violations as q
from web.schemas.violations import ViolationItem

READ_ROLES = frozenset({"admin", "inspector", "org_admin", "dispatcher"})
_ITEM_FIELDS = [name for name in ViolationItem.model_fields if name != "message"]


def require_reader(user: Principal) -> None:
    if not user.has_any_role(READ_ROLES):
        raise ApiError(403, "Violations are read by inspectors, admins, org admins and "
                       "dispatchers.", code="forbidden")


def read_scope(user: Principal) -> int | None:
    """None: province-wide (inspectors, admins); else the root of the user's subtree."""
    require_reader(user)
    return None if user.has_any_role(INSPECTOR_ROLES) else user.scope_root_id


def not_found(violation_id: int) -> ApiError:
    return ApiError(404, f"Violation {violation_id} not found.", code="violation_not_found")


def item(row: asyncpg.Record, user: Principal) -> dict[str, Any]:
    out = {name: row[name] for name in _ITEM_FIELDS}
    out["order_ids"] = list(row["order_ids"] or [])
    message = row["message"]
    out["message"] = message if isinstance(message, dict) else None
    if position_withheld(user, row):
        out["summary"] = strip_positions(out["summary"] or {})
    return out


def cursor(row: asyncpg.Record) -> str:
    return f"{row['local_day'].isoformat()}_{row['id']}"


def parse_cursor(text: str | None) -> tuple[date, int] | None:
    if not text:
        return None
    try:
        day, _, ident = text.partition("_")
        return date.fromisoformat(day), int(ident)
    except ValueError:
        raise ApiError(422, "`before` is not a cursor this list gave out.", code="bad_cursor") from None


def in_unit_scope(user: Principal, org_path: list[int] | None) -> bool:
    """The user's subtree holds the violation's organisation (its org admin, or one above)."""
    return user.scope_root_id in (org_path or [])


def inspects(user: Principal, org_path: list[int] | None) -> bool:
    """May act as the inspector on a violation of this unit: admins anywhere, an inspector
    within the subtree of their scope (a province-level inspector: everywhere)."""
    if "admin" in user.roles:
        return True
    return "inspector" in user.roles and in_unit_scope(user, org_path)


def acting_as(user: Principal, org_path: list[int] | None) -> set[Actor]:
    parts = actor_kind(user.roles, in_unit_scope(user, org_path))
    if not inspects(user, org_path):
        parts.discard(Actor.INSPECTOR)    # reads province-wide, acts within its scope only
    return parts


def position_withheld(user: Principal, row: asyncpg.Record) -> bool:
    return row["use_category"] == "confidential" and not user.sees_confidential_positions


# Keys whose value pins the car (or an order of it) to a place: GeoJSON geometries, points.
_PLACE_KEYS = frozenset({"lat", "lon", "coordinates", "geojson", "geometry", "line_geojson",
                         "centre", "track"})


def _is_position(value: Any) -> bool:
    """[lon, lat] (or [lon, lat, height]) numbers."""
    return (isinstance(value, list | tuple) and len(value) in (2, 3)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value))


def strip_positions(value: Any) -> Any:
    """The value with every coordinate taken out: a [lon, lat] pair, a lat or lon, a geometry
    become None (the keys stay, so readers see that something was withheld); times, names,
    distances and durations are kept."""
    if isinstance(value, dict):
        return {k: None if k in _PLACE_KEYS or _is_position(v) else strip_positions(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [None if _is_position(v) else strip_positions(v) for v in value]
    return value


def _withhold(bundle: dict[str, Any]) -> dict[str, Any]:
    return {**strip_positions(bundle), "track": None, "points": [],
            "withheld": "positions of a confidential (机要) vehicle"}


def _attachment(row: asyncpg.Record) -> dict[str, Any]:
    out = dict(row)
    out["download_url"] = f"/api/v1/violations/{row['violation_id']}/attachments/{row['id']}"
    return out


async def detail(pool: asyncpg.Pool, user: Principal, violation_id: int) -> dict[str, Any]:
    row = await q.one(pool, violation_id, read_scope(user))
    if row is None:
        raise not_found(violation_id)
    withheld = position_withheld(user, row)
    evidence = [dict(r) for r in await q.evidence(pool, violation_id)]
    if withheld:
        evidence = [{**e, "bundle": _withhold(e["bundle"])} for e in evidence]
    files = [_attachment(r) for r in await q.attachments(pool, violation_id)]
    explanations = [{**dict(x), "attachments": [f for f in files if f["explanation_id"] == x["id"]]}
                    for x in await q.explanations(pool, violation_id)]
    audit = [dict(r) for r in await audit_store.trail(pool, subject(violation_id))]
    if withheld:
        audit = [{**a, "data": strip_positions(a["data"])} for a in audit]
    parts = acting_as(user, row["org_path"])
    return {
        **item(row, user), "finding_key": row["finding_key"], "params": row["params"],
        "params_version": row["params_version"], "position_withheld": withheld,
        "evidence": evidence, "explanations": explanations, "audit": audit,
        "acting_as": sorted(p.value for p in parts if p is not Actor.SYSTEM),
        "allowed_events": allowed_events(State(row["state"]), parts, row["severity"]),
    }


def count_summary(rows: list[asyncpg.Record]) -> dict[str, Any]:
    by_state: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    rules: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_state[r["state"]] = by_state.get(r["state"], 0) + r["n"]
        by_severity[r["severity"]] = by_severity.get(r["severity"], 0) + r["n"]
        rule = rules.setdefault(r["rule_id"], {"rule_id": r["rule_id"], "total": 0,
                                               "by_state": {}, "by_severity": {}})
        rule["total"] += r["n"]
        rule["by_state"][r["state"]] = rule["by_state"].get(r["state"], 0) + r["n"]
        rule["by_severity"][r["severity"]] = rule["by_severity"].get(r["severity"], 0) + r["n"]
    ordered = sorted(rules.values(), key=lambda x: _rule_order(x["rule_id"]))
    return {"total": sum(by_state.values()), "by_state": by_state, "by_severity": by_severity,
            "by_rule": ordered}


def _rule_order(rule_id: str) -> tuple[int, str]:
    digits = rule_id[1:]
    return (int(digits), rule_id) if rule_id.startswith("R") and digits.isdigit() else (999, rule_id)

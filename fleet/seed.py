"""Loads a scenario into the core schema (0001_core.sql), idempotently, in one transaction.

Every row is upserted by its natural key (code, plate, uid, username; price plans by company x
level x charter x mode) and only rewritten when a value differs, so a second run changes
nothing. Geofences carry the same area twice: GeoJSON for maps and WKB for shapely; a circle
is stored as its 48-gon in both, with ``radius_m`` kept beside it.

Demo accounts are created only when a demo password is given; without one, no user is created
(accounts from an earlier demo run are left as they are).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import shapely
from shapely import Polygon

from fleet.passwords import hash_password, verify_password
from fleet.scenario.geo import geojson, zone_polygon
from fleet.scenario.model import Organisation, Scenario, boundary_geofence_code, lot_geofence_code
from fleet.seed_dispatch import seed_approval_policies, seed_documents
from fleet.seed_places import seed_places


async def seed_scenario(
    conn: asyncpg.Connection, scenario: Scenario, *, demo_password: str | None
) -> dict[str, int]:
    """Upserts the scenario; returns the number of scenario rows per table."""
    s = scenario
    async with conn.transaction():
        await _upsert(
            conn,
            "cities",
            ("code",),
            ("name_zh", "name_en", "centre_lat", "centre_lon"),
            [(c.code, c.name_zh, c.name_en, c.centre[1], c.centre[0]) for c in s.cities],
        )
        org_ids = await _organisations(conn, s.organisations)
        fence_ids = await _geofences(conn, s)
        await _upsert(
            conn,
            "depots",
            ("code",),
            ("city_code", "org_id", "name_zh", "name_en", "lat", "lon", "lot_geofence_id"),
            [
                (d.code, d.city_code, org_ids[d.org_code], d.name_zh, d.name_en,
                 d.location[1], d.location[0], fence_ids[lot_geofence_code(d)])
                for d in s.depots
            ],
        )
        depot_ids = await _ids(conn, "depots", "code", [d.code for d in s.depots])
        company_ids = await _companies(conn, s)
        vehicle_ids = await _vehicles(conn, s, org_ids, depot_ids, fence_ids, company_ids)
        await _devices(conn, s, vehicle_ids)
        await _upsert(
            conn,
            "drivers",
            ("code",),
            ("name", "phone", "license_class", "org_id", "rental_company_id", "home_city_code"),
            [
                (d.code, d.name, d.phone, d.license_class, org_ids[d.org_code],
                 company_ids.get(d.rental_company_code or ""), d.city_code)
                for d in s.drivers
            ],
        )
        await seed_documents(conn, [vehicle_ids[v.plate] for v in s.vehicles])
        await seed_places(conn, s)
        await seed_approval_policies(conn, org_ids[next(o.code for o in s.organisations
                                                        if o.parent_code is None)])
        users = 0
        if demo_password:  # None or empty: no account that can log in
            users = await _demo_users(conn, s, org_ids, demo_password)
    return {
        "cities": len(s.cities),
        "organisations": len(s.organisations),
        "geofences": len(fence_ids),
        "depots": len(s.depots),
        "rental_companies": len(s.rental_companies),
        "price_plans": sum(len(c.price_plans) for c in s.rental_companies),
        "vehicles": len(s.vehicles),
        "devices": sum(v.device is not None for v in s.vehicles),
        "drivers": len(s.drivers),
        "users": users,
    }


async def _upsert(
    conn: asyncpg.Connection,
    table: str,
    key: tuple[str, ...],
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE, skipping rows whose values are unchanged.

    Table and column names are constants of this module, never input.
    """
    if not rows:
        return
    names = key + columns
    params = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    current = ", ".join(f"{table}.{c}" for c in columns)
    incoming = ", ".join(f"EXCLUDED.{c}" for c in columns)
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({params}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
        + f" WHERE ({current}) IS DISTINCT FROM ({incoming})"
    )
    await conn.executemany(sql, rows)


async def _ids(conn: asyncpg.Connection, table: str, key: str, values: list[str]) -> dict[str, int]:
    rows = await conn.fetch(f"SELECT {key}, id FROM {table} WHERE {key} = ANY($1::text[])", values)
    return {row[key]: row["id"] for row in rows}


async def _organisations(
    conn: asyncpg.Connection, organisations: Sequence[Organisation]
) -> dict[str, int]:
    """Upserts parents before children, then recomputes every path (ids from the root)."""
    by_code = {o.code: o for o in organisations}

    def depth(org: Organisation) -> int:
        return 0 if org.parent_code is None else 1 + depth(by_code[org.parent_code])

    ids: dict[str, int] = {}
    levels: dict[int, list[Organisation]] = {}
    for org in organisations:
        levels.setdefault(depth(org), []).append(org)
    for level in sorted(levels):
        orgs = levels[level]
        await _upsert(
            conn,
            "organisations",
            ("code",),
            ("parent_id", "kind", "name_zh", "name_en", "city_code"),
            [
                (o.code, ids[o.parent_code] if o.parent_code else None, o.kind, o.name_zh,
                 o.name_en, o.city_code)
                for o in orgs
            ],
        )
        ids.update(await _ids(conn, "organisations", "code", [o.code for o in orgs]))
    await conn.execute(
        """WITH RECURSIVE tree AS (
               SELECT id, ARRAY[id] AS path FROM organisations WHERE parent_id IS NULL
               UNION ALL
               SELECT o.id, tree.path || o.id FROM organisations o JOIN tree ON o.parent_id = tree.id
           )
           UPDATE organisations o SET path = tree.path FROM tree
           WHERE o.id = tree.id AND o.path IS DISTINCT FROM tree.path"""
    )
    return ids


async def _geofences(conn: asyncpg.Connection, s: Scenario) -> dict[str, int]:
    rows = []

    def add(code: str, name_zh: str, name_en: str, shape: str, purpose: str,
            category: str | None, city_code: str | None, polygon: Polygon,
            radius_m: float | None = None) -> None:
        rows.append(
            (code, name_zh, name_en, shape, purpose, category, city_code,
             geojson(polygon), shapely.to_wkb(polygon), radius_m, True)
        )

    for city in s.cities:
        add(boundary_geofence_code(city), f"{city.name_zh}市界", f"{city.name_en} city boundary",
            "polygon", "city_boundary", None, city.code, Polygon(city.boundary))
    for depot in s.depots:
        add(lot_geofence_code(depot), f"{depot.name_zh}定点停放区",
            f"{depot.name_en} designated lot", "polygon", "designated_lot", None,
            depot.city_code, Polygon(depot.lot))
    for zone in s.zones:
        add(zone.code, zone.name_zh, zone.name_en, zone.shape, zone.purpose, zone.category,
            zone.city_code, zone_polygon(zone), zone.radius_m)
    await _upsert(
        conn,
        "geofences",
        ("code",),
        ("name_zh", "name_en", "shape", "purpose", "category", "city_code", "geojson", "wkb",
         "radius_m", "active"),
        rows,
    )
    return await _ids(conn, "geofences", "code", [row[0] for row in rows])


async def _companies(conn: asyncpg.Connection, s: Scenario) -> dict[str, int]:
    await _upsert(
        conn,
        "rental_companies",
        ("code",),
        ("name_zh", "name_en", "contract_no", "contract_start", "contract_end",
         "service_city_codes", "accept_timeout_s"),
        [
            (c.code, c.name_zh, c.name_en, c.contract_no, c.contract_start, c.contract_end,
             list(c.service_city_codes), c.accept_timeout_s)
            for c in s.rental_companies
        ],
    )
    ids = await _ids(conn, "rental_companies", "code", [c.code for c in s.rental_companies])
    await _upsert(
        conn,
        "price_plans",
        ("company_id", "car_level", "charter_type", "mode"),
        ("base_price_cny", "included_hours", "included_km", "overtime_cny_per_h",
         "over_km_cny_per_km", "night_surcharge_cny", "out_of_town_cny_per_day",
         "late_penalty_cny"),
        [
            (ids[c.code], p.car_level, p.charter_type, p.mode, p.base_price_cny,
             p.included_hours, p.included_km, p.overtime_cny_per_h, p.over_km_cny_per_km,
             p.night_surcharge_cny, p.out_of_town_cny_per_day, p.late_penalty_cny)
            for c in s.rental_companies
            for p in c.price_plans
        ],
    )
    return ids


async def _vehicles(
    conn: asyncpg.Connection,
    s: Scenario,
    org_ids: dict[str, int],
    depot_ids: dict[str, int],
    fence_ids: dict[str, int],
    company_ids: dict[str, int],
) -> dict[str, int]:
    await _upsert(
        conn,
        "vehicles",
        ("plate",),
        ("source", "use_category", "seats", "car_level", "energy_type", "brand_model",
         "home_city_code", "depot_id", "lot_geofence_id", "owner_org_id", "rental_company_id",
         "tank_l", "battery_kwh", "range_km", "marking", "active"),
        [
            (v.plate, v.source, v.use_category, v.seats, v.car_level, v.energy_type,
             v.brand_model, v.city_code, depot_ids[v.depot_code],
             fence_ids[lot_geofence_code(s.depot_by_code[v.depot_code])],
             org_ids[v.owner_org_code], company_ids.get(v.rental_company_code or ""),
             v.tank_l, v.battery_kwh, v.range_km, v.marking, True)
            for v in s.vehicles
        ],
    )
    return await _ids(conn, "vehicles", "plate", [v.plate for v in s.vehicles])


async def _devices(conn: asyncpg.Connection, s: Scenario, vehicle_ids: dict[str, int]) -> None:
    # A leased car without a terminal gets none here: the driver's page registers a 'phone'
    # device for it on first use (web/routes/driver.py).
    fitted = [(vehicle_ids[v.plate], v.device) for v in s.vehicles if v.device is not None]
    bare = [vehicle_ids[v.plate] for v in s.vehicles if v.device is None]
    # A vehicle whose terminal was replaced: unbind the old one first (vehicle_id is unique);
    # one whose terminal was removed: unbind it too (a phone bound since stays).
    await conn.execute(
        """UPDATE devices d SET vehicle_id = NULL
           FROM unnest($1::int[], $2::text[]) AS s(vehicle_id, uid)
           WHERE d.vehicle_id = s.vehicle_id AND d.uid <> s.uid""",
        [vehicle_id for vehicle_id, _ in fitted],
        [device.uid for _, device in fitted],
    )
    await conn.execute(
        "UPDATE devices SET vehicle_id = NULL WHERE vehicle_id = ANY($1::int[]) AND kind = 'terminal'",
        bare,
    )
    await _upsert(
        conn,
        "devices",
        ("uid",),
        ("vehicle_id", "model", "report_interval_s"),
        [
            (device.uid, vehicle_id, device.model, device.report_interval_s)
            for vehicle_id, device in fitted
        ],
    )


async def _demo_users(
    conn: asyncpg.Connection, s: Scenario, org_ids: dict[str, int], password: str
) -> int:
    """admin, dispatcher, inspector, driver1, requester, approver (the requester's unit),
    leader (the city's 分管领导, a second approval level) and rental1 (the operator of the
    first rental company), all with the demo password."""
    home = s.cities[0]  # 武汉 in the bundled scenario
    root = next(o for o in s.organisations if o.parent_code is None)
    city = next(o for o in s.organisations if o.kind == "city" and o.city_code == home.code)
    platform = next(o for o in s.organisations if o.kind == "platform" and o.city_code == home.code)
    unit = next(o for o in s.organisations if o.kind == "unit" and o.city_code == home.code)
    driver = next(d for d in s.drivers if d.city_code == home.code and not d.rental_company_code)
    company = s.rental_companies[0]
    # username, display name, organisation, roles, cleared for 机要 positions
    accounts = [
        ("admin", "平台管理员 Platform admin", root.code, ["admin"], True),
        ("dispatcher", f"调度员 Dispatcher ({home.name_zh})", platform.code, ["dispatcher"], False),
        ("inspector", "稽查员 Inspector", root.code, ["inspector"], True),
        ("driver1", driver.name, driver.org_code, ["driver"], False),
        ("requester", f"用车人 Requester ({unit.name_zh})", unit.code, ["requester"], False),
        ("approver", f"科室负责人 Approver ({unit.name_zh})", unit.code, ["approver"], False),
        ("leader", f"分管领导 Leader ({city.name_zh})", city.code, ["approver"], False),
        ("rental1", f"租赁调度 Rental operator ({company.name_zh})", platform.code,
         ["rental_operator"], False),
    ]
    existing = {
        row["username"]: row["password_hash"]
        for row in await conn.fetch(
            "SELECT username, password_hash FROM users WHERE username = ANY($1::text[])",
            [a[0] for a in accounts],
        )
    }

    def password_hash(username: str) -> str:
        # Keep a hash that already matches: a fresh salt would rewrite the row on every run.
        current = existing.get(username)
        if current is not None and verify_password(current, password):
            return current
        return hash_password(password)

    await _upsert(
        conn,
        "users",
        ("username",),
        ("display_name", "password_hash", "org_id", "roles", "cleared_confidential", "active"),
        [
            (username, name, password_hash(username), org_ids[org], roles, cleared, True)
            for username, name, org, roles, cleared in accounts
        ],
    )
    user_ids = await _ids(conn, "users", "username", [a[0] for a in accounts])
    await conn.execute(
        """UPDATE users SET rental_company_id = (SELECT id FROM rental_companies WHERE code = $2)
           WHERE id = $1 AND rental_company_id IS NULL""",
        user_ids["rental1"], company.code,
    )
    await conn.execute(
        "UPDATE drivers SET user_id = NULL WHERE user_id = $1 AND code <> $2",
        user_ids["driver1"],
        driver.code,
    )
    await conn.execute(
        "UPDATE drivers SET user_id = $1 WHERE code = $2 AND user_id IS DISTINCT FROM $1",
        user_ids["driver1"],
        driver.code,
    )
    return len(accounts)

"""The scenario seed: counts, references, idempotency and demo accounts."""

from __future__ import annotations

import dataclasses

import shapely
from shapely import Point

from fleet.passwords import verify_password
from fleet.scenario.load import load_scenario
from fleet.seed import seed_scenario

TABLES = (
    "cities",
    "organisations",
    "geofences",
    "depots",
    "rental_companies",
    "price_plans",
    "vehicles",
    "devices",
    "drivers",
    "users",
)


async def _table_counts(conn) -> dict[str, int]:
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}


async def _row_versions(conn) -> dict[str, list[str]]:
    """xmin of every row: a rewritten row gets a new one even when its values are equal."""
    return {
        t: await conn.fetchval(f"SELECT array_agg(xmin::text ORDER BY xmin::text) FROM {t}")
        for t in TABLES
    }


async def test_seed_counts_match_the_scenario_and_database(db_conn):
    scenario = load_scenario()
    counts = await seed_scenario(db_conn, scenario, demo_password=None)

    assert counts["cities"] == 9
    assert counts["vehicles"] == len(scenario.vehicles) >= 190
    # every car has its terminal but a few leased ones (their drivers' phones report for them)
    assert counts["devices"] == sum(v.device is not None for v in scenario.vehicles)
    assert counts["vehicles"] - 3 <= counts["devices"] < counts["vehicles"]
    assert counts["geofences"] == 9 + 9 + len(scenario.zones)  # boundaries, lots, zones
    assert counts["price_plans"] == sum(len(c.price_plans) for c in scenario.rental_companies)
    assert counts["users"] == 0
    assert await _table_counts(db_conn) == counts


async def test_seed_twice_changes_nothing(db_conn):
    scenario = load_scenario()
    first = await seed_scenario(db_conn, scenario, demo_password="demo-pass")
    before = await _row_versions(db_conn)
    places_before = await _places(db_conn)
    assert len(places_before) == len(scenario.places)
    second = await seed_scenario(db_conn, scenario, demo_password="demo-pass")

    assert second == first
    assert await _table_counts(db_conn) == first
    assert await _row_versions(db_conn) == before  # no row was even rewritten
    assert await _places(db_conn) == places_before  # the named places neither


async def _places(conn) -> list[tuple[str, str]]:
    return [tuple(r) for r in await conn.fetch("SELECT code, xmin::text FROM places ORDER BY code")]


async def test_named_places_are_seeded_in_their_cities(db_conn):
    scenario = load_scenario()
    await seed_scenario(db_conn, scenario, demo_password=None)

    rows = await db_conn.fetch(
        """SELECT p.code, p.lat, p.lon, g.wkb FROM places p
           JOIN geofences g ON g.city_code = p.city_code AND g.purpose = 'city_boundary'"""
    )
    assert len(rows) == len(scenario.places) >= 9
    for row in rows:
        assert shapely.from_wkb(row["wkb"]).contains(Point(row["lon"], row["lat"])), row["code"]


async def test_references_paths_and_geometry(db_conn):
    scenario = load_scenario()
    await seed_scenario(db_conn, scenario, demo_password=None)

    root = await db_conn.fetchrow("SELECT id, path FROM organisations WHERE parent_id IS NULL")
    assert root["path"] == [root["id"]]
    bad_paths = await db_conn.fetchval(
        """SELECT count(*) FROM organisations o JOIN organisations p ON p.id = o.parent_id
           WHERE o.path <> p.path || o.id"""
    )
    assert bad_paths == 0
    wuhan_units = await db_conn.fetchval(
        """SELECT count(*) FROM organisations
           WHERE kind = 'unit' AND path @> ARRAY[(SELECT id FROM organisations WHERE code = '420100')]"""
    )
    assert wuhan_units >= 5

    leased = await db_conn.fetch(
        "SELECT plate, rental_company_id FROM vehicles WHERE source = 'leased'"
    )
    assert leased and all(r["rental_company_id"] is not None for r in leased)
    unbound = await db_conn.fetchval("SELECT count(*) FROM devices WHERE vehicle_id IS NULL")
    assert unbound == 0
    bare = await db_conn.fetch(
        "SELECT v.source FROM vehicles v WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.vehicle_id = v.id)"
    )
    assert bare and {r["source"] for r in bare} == {"leased"}

    lot = await db_conn.fetchrow(
        """SELECT d.lat, d.lon, g.wkb, g.geojson, g.purpose FROM depots d
           JOIN geofences g ON g.id = d.lot_geofence_id WHERE d.code = 'DEP-420100'"""
    )
    assert lot["purpose"] == "designated_lot"
    polygon = shapely.from_wkb(lot["wkb"])
    assert polygon.contains(Point(lot["lon"], lot["lat"]))
    assert lot["geojson"]["type"] == "Polygon"
    assert shapely.geometry.shape(lot["geojson"]).equals(polygon)


async def test_no_login_without_demo_password(db_conn):
    await seed_scenario(db_conn, load_scenario(), demo_password=None)

    can_log_in = await db_conn.fetchval(
        "SELECT count(*) FROM users WHERE password_hash IS NOT NULL AND active"
    )
    assert can_log_in == 0
    assert await db_conn.fetchval("SELECT count(*) FROM drivers WHERE user_id IS NOT NULL") == 0


async def test_demo_users_log_in_with_the_demo_password(db_conn):
    await seed_scenario(db_conn, load_scenario(), demo_password="demo-pass")

    users = {
        r["username"]: r
        for r in await db_conn.fetch(
            """SELECT u.username, u.password_hash, u.roles, o.kind, o.code
               FROM users u JOIN organisations o ON o.id = u.org_id"""
        )
    }
    assert set(users) == {"admin", "dispatcher", "inspector", "driver1", "requester", "approver",
                          "leader", "rental1"}
    for user in users.values():
        assert verify_password(user["password_hash"], "demo-pass")
        assert not verify_password(user["password_hash"], "wrong")
    assert users["admin"]["kind"] == "province" and users["admin"]["roles"] == ["admin"]
    assert users["dispatcher"]["code"] == "420100-PF"
    assert users["requester"]["kind"] == "unit"
    assert users["approver"]["code"] == users["requester"]["code"]  # the unit's own approver
    assert users["leader"]["kind"] == "city" and users["leader"]["roles"] == ["approver"]
    company = await db_conn.fetchval(
        "SELECT c.code FROM users u JOIN rental_companies c ON c.id = u.rental_company_id "
        "WHERE u.username = 'rental1'")
    assert company is not None
    linked = await db_conn.fetchrow(
        """SELECT d.code, d.home_city_code FROM drivers d JOIN users u ON u.id = d.user_id
           WHERE u.username = 'driver1'"""
    )
    assert linked is not None and linked["home_city_code"] == "420100"


async def test_a_terminal_taken_off_a_leased_car_is_unbound_on_the_next_seed(db_conn):
    scenario = load_scenario()
    await seed_scenario(db_conn, scenario, demo_password=None)
    car = next(v for v in scenario.vehicles if v.source == "leased" and v.device is not None)
    bare = dataclasses.replace(car, device=None)
    changed = dataclasses.replace(
        scenario, vehicles=tuple(bare if v is car else v for v in scenario.vehicles))
    await seed_scenario(db_conn, changed, demo_password=None)

    bound = await db_conn.fetchval(
        "SELECT d.vehicle_id FROM devices d WHERE d.uid = $1", car.device.uid)
    assert bound is None  # kept (its positions refer to it), bound to nothing

"""Geofences (电子围栏) over the API: CRUD with a version per change, a stale save refused,
GeoJSON import all-or-nothing with each feature's problems, export and import back, roles and
organisation scope, bad geometry 422; vehicle groups a zone binds to."""

from __future__ import annotations

from datetime import UTC, datetime

from fleet.users import upsert_user
from supervision import zone_store
from supervision.zones import ZoneIndex
from tests.integration.web_app import PASSWORD, assert_error, login, new_client
from web import export_names

SQUARE = {"type": "Polygon", "coordinates": [[[114.30, 30.58], [114.31, 30.58], [114.31, 30.59],
                                              [114.30, 30.59], [114.30, 30.58]]]}
CLUB = {"name_zh": "测试会所", "name_en": "Test club", "shape": "polygon",
        "purpose": "sensitive_place", "category": "club_hotel", "city_code": "420100",
        "geometry": SQUARE}
FUEL = {"name_zh": "测试加油站", "shape": "circle", "purpose": "service_site", "category": "fuel",
        "city_code": "420100", "centre": [114.285, 30.615], "radius_m": 60}
ROAD = {"name_zh": "测试限速走廊", "shape": "corridor", "purpose": "speed_zone",
        "speed_limit_kmh": 80, "city_code": "420100", "buffer_m": 50,
        "line": {"type": "LineString", "coordinates": [[114.25, 30.65], [114.27, 30.70]]}}


async def org_id(db, code: str) -> int:
    return await db.fetchval("SELECT id FROM organisations WHERE code = $1", code)


async def test_admin_creates_updates_and_deletes_zones_with_versions(client, db):
    await login(client, "admin")
    club = await client.post("/api/v1/geofences", json=CLUB)
    assert club.status_code == 201, club.text
    zone = club.json()
    assert (zone["version"], zone["active"], zone["editable"]) == (1, True, True)
    assert zone["code"].startswith("Z-420100-") and zone["geojson"]["type"] == "Polygon"

    fuel = (await client.post("/api/v1/geofences", json={**FUEL, "code": "SS-T-FUEL"})).json()
    assert fuel["centre"] == [114.285, 30.615] or abs(fuel["centre"][0] - 114.285) < 1e-12
    assert len(fuel["geojson"]["coordinates"][0]) == 49 and fuel["radius_m"] == 60
    road = await client.post("/api/v1/geofences", json=ROAD)
    assert road.status_code == 201, road.text
    assert road.json()["line"]["coordinates"] == ROAD["line"]["coordinates"]

    # What the rules load is the same zone, in metres: 60 m around the station's centre.
    zones = {z.code: z for z in await zone_store.load_zones(db)}
    index = ZoneIndex(zones.values())
    assert "SS-T-FUEL" in {z.code for z in index.containing(114.285 + 0.00055, 30.615)}  # ≈ 53 m east
    assert "SS-T-FUEL" not in {z.code for z in index.containing(114.285 + 0.00070, 30.615)}  # ≈ 67 m

    update = {**FUEL, "radius_m": 80, "version": 1, "name_en": "Station"}
    changed = await client.put(f"/api/v1/geofences/{fuel['id']}", json=update)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["version"], changed.json()["radius_m"]) == (2, 80)
    stale = await client.put(f"/api/v1/geofences/{fuel['id']}", json={**update, "radius_m": 90})
    error = assert_error(stale, 409)
    assert (error["code"], error["details"]["version"]) == ("stale_version", 2)

    versions = (await client.get(f"/api/v1/geofences/{fuel['id']}/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert [v["zone"]["radius_m"] for v in versions] == [80, 60]
    assert versions[0]["changed_by_name"]

    deleted = await client.delete(f"/api/v1/geofences/{fuel['id']}?version=2")
    assert deleted.status_code == 200 and deleted.json()["active"] is False
    assert deleted.json()["version"] == 3
    listed = {z["id"] for z in (await client.get("/api/v1/geofences")).json()}
    assert fuel["id"] not in listed and zone["id"] in listed
    inactive = (await client.get("/api/v1/geofences?active=false")).json()
    assert [z["id"] for z in inactive] == [fuel["id"]]
    assert fuel["id"] not in {z.id for z in await zone_store.load_zones(db)}


async def test_a_seeded_zone_keeps_its_first_version_when_changed(client, db):
    await login(client, "admin")
    lot_users = await db.fetchval("SELECT count(*) FROM vehicles WHERE lot_geofence_id IS NOT NULL")
    assert lot_users > 0
    ktv = (await client.get("/api/v1/geofences?q=SZ-420100-KTV")).json()[0]
    assert ktv["shape"] == "circle" and abs(ktv["centre"][0] - 114.269) < 1e-9
    body = {k: ktv[k] for k in ("name_zh", "name_en", "shape", "purpose", "category",
                                "city_code", "centre", "radius_m")}
    saved = await client.put(f"/api/v1/geofences/{ktv['id']}",
                             json={**body, "radius_m": 150, "version": ktv["version"]})
    assert saved.status_code == 200, saved.text
    versions = (await client.get(f"/api/v1/geofences/{ktv['id']}/versions")).json()
    assert [(v["version"], v["zone"]["radius_m"]) for v in versions] == [(2, 150), (1, 120)]
    assert versions[1]["changed_by"] is None

    lot = (await client.get("/api/v1/geofences?purpose=designated_lot")).json()[0]
    refused = await client.delete(f"/api/v1/geofences/{lot['id']}")
    assert assert_error(refused, 409)["code"] == "zone_in_use"


async def test_bad_zones_are_422_with_their_problems(client):
    await login(client, "admin")
    bow_tie = {"type": "Polygon", "coordinates": [[[114.30, 30.58], [114.31, 30.59],
                                                   [114.31, 30.58], [114.30, 30.59],
                                                   [114.30, 30.58]]]}
    open_ring = {"type": "Polygon", "coordinates": [[[114.30, 30.58], [114.31, 30.58],
                                                     [114.31, 30.59], [114.30, 30.59]]]}
    far_away = {"type": "Polygon", "coordinates": [[[121.4, 31.2], [121.5, 31.2],
                                                    [121.5, 31.3], [121.4, 31.2]]]}
    cases = [
        ({**CLUB, "geometry": bow_tie}, "invalid_polygon"),
        ({**CLUB, "geometry": open_ring}, "ring_not_closed"),
        ({**CLUB, "geometry": far_away}, "outside_service_area"),
        ({**CLUB, "geometry": {"type": "Point", "coordinates": [114.3, 30.5]}}, "bad_geometry"),
        ({**CLUB, "category": None}, "bad_category"),
        ({**CLUB, "category": "karaoke"}, "bad_category"),
        ({**FUEL, "category": None}, "bad_category"),
        ({**FUEL, "radius_m": 5}, "bad_radius"),
        ({**FUEL, "radius_m": 60_000}, "bad_radius"),
        ({**ROAD, "buffer_m": 6000}, "bad_buffer"),
        ({**ROAD, "speed_limit_kmh": None}, "bad_speed_limit"),
        ({**ROAD, "speed_limit_kmh": 200}, "bad_speed_limit"),
        ({**ROAD, "line": {"type": "LineString", "coordinates": [[114.25, 30.65]]}}, "bad_line"),
        ({**CLUB, "time_windows": [{"weekdays": [8], "from": "20:00", "to": "06:00"}]},
         "bad_time_windows"),
        ({**CLUB, "time_windows": [{"from": "25:00", "to": "06:00"}]}, "bad_time_windows"),
        ({**CLUB, "time_windows": [{"from": "08:00", "to": "08:00"}]}, "bad_time_windows"),
        ({**CLUB, "valid_from": "2026-05-02", "valid_to": "2026-05-01"}, "bad_dates"),
        ({**CLUB, "applies_to": "group"}, "bad_binding"),
        ({**CLUB, "applies_to": "vehicle", "vehicle_id": 999999}, "unknown_vehicle"),
        ({**CLUB, "city_code": "110100"}, "unknown_city"),
    ]
    for body, code in cases:
        error = assert_error(await client.post("/api/v1/geofences", json=body), 422)
        codes = {p["code"] for p in (error["details"] or {}).get("problems", [])}
        assert code in codes, (code, error)
    assert_error(await client.post("/api/v1/geofences", json={**CLUB, "shape": "star"}), 422)
    duplicate = await client.post("/api/v1/geofences", json={**FUEL, "code": "SS-420100-FUEL1"})
    assert assert_error(duplicate, 409)["code"] == "zone_code_exists"


async def test_import_is_all_or_nothing_and_export_round_trips(client, db):
    await login(client, "admin")
    good = [{"type": "Feature", "geometry": SQUARE, "properties": {**CLUB, "code": "IMP-CLUB"}},
            {"type": "Feature", "geometry": None, "properties": {**FUEL, "code": "IMP-FUEL"}},
            {"type": "Feature", "geometry": ROAD["line"],
             "properties": {**{k: v for k, v in ROAD.items() if k != "line"}, "code": "IMP-ROAD"}}]
    bad = [{"type": "Feature", "geometry": SQUARE,
            "properties": {**CLUB, "code": "IMP-BAD", "category": None}},
           {"type": "Feature", "geometry": None, "properties": {**FUEL, "radius_m": 1}},
           {"type": "Feature", "properties": None}]
    before = await db.fetchval("SELECT count(*) FROM geofences")
    refused = await client.post("/api/v1/geofences/import",
                                json={"type": "FeatureCollection", "features": good + bad})
    error = assert_error(refused, 422)
    assert error["code"] == "import_invalid"
    assert [f["index"] for f in error["details"]["features"]] == [3, 4, 5]
    assert error["details"]["features"][0]["problems"][0]["code"] == "bad_category"
    assert error["details"]["features"][1]["problems"][0]["code"] == "bad_radius"
    assert await db.fetchval("SELECT count(*) FROM geofences") == before

    imported = await client.post("/api/v1/geofences/import",
                                 json={"type": "FeatureCollection", "features": good})
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 3

    exported = await client.get("/api/v1/geofences/export?q=IMP-")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    collection = exported.json()
    assert {f["properties"]["code"] for f in collection["features"]} == {
        "IMP-CLUB", "IMP-FUEL", "IMP-ROAD"}
    again = (await client.post("/api/v1/geofences/import", json=collection)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)

    for feature in collection["features"]:
        if feature["properties"]["code"] == "IMP-FUEL":
            feature["properties"]["radius_m"] = 75
    changed = (await client.post("/api/v1/geofences/import", json=collection)).json()
    assert (changed["updated"], changed["unchanged"]) == (1, 2)
    fuel = next(z for z in changed["zones"] if z["code"] == "IMP-FUEL")
    assert fuel["version"] == 2
    as_geojson = (await client.get("/api/v1/geofences?format=geojson&q=IMP-")).json()
    assert as_geojson["type"] == "FeatureCollection" and len(as_geojson["features"]) == 3


async def test_roles_and_scope(app, client, db):
    await upsert_user(db, username="wh_zone_admin", display_name="江岸区管理员", org_code="420102",
                      roles=["org_admin"], password=PASSWORD)
    await upsert_user(db, username="hs_zone_admin", display_name="黄石管理员", org_code="420200",
                      roles=["org_admin"], password=PASSWORD)
    await login(client, "wh_zone_admin")
    own = await client.post("/api/v1/geofences", json=CLUB)
    assert own.status_code == 201, own.text
    zone = own.json()
    assert zone["org_id"] == await org_id(db, "420102") and zone["editable"]
    above = await client.post("/api/v1/geofences", json={**CLUB, "org_id": await org_id(db, "420100")})
    assert_error(above, 403)
    elsewhere = await client.post("/api/v1/geofences",
                                  json={**CLUB, "org_id": await org_id(db, "420200")})
    assert_error(elsewhere, 404)
    province = (await client.get("/api/v1/geofences?q=SZ-420100-KTV")).json()[0]
    assert province["editable"] is False
    body = {**FUEL, "centre": province["centre"], "version": province["version"]}
    assert_error(await client.put(f"/api/v1/geofences/{province['id']}", json=body), 403)
    assert_error(await client.delete(f"/api/v1/geofences/{province['id']}"), 403)

    async with new_client(app) as other, new_client(app) as dispatcher, new_client(app) as driver:
        await login(other, "hs_zone_admin")
        assert_error(await other.get(f"/api/v1/geofences/{zone['id']}"), 404)
        assert zone["id"] not in {z["id"] for z in (await other.get("/api/v1/geofences")).json()}
        assert_error(await other.delete(f"/api/v1/geofences/{zone['id']}"), 404)
        await login(dispatcher, "dispatcher")
        seen = (await dispatcher.get(f"/api/v1/geofences/{zone['id']}")).json()
        assert seen["editable"] is False
        assert_error(await dispatcher.post("/api/v1/geofences", json=CLUB), 403)
        assert_error(await dispatcher.post("/api/v1/geofences/import",
                                           json={"type": "FeatureCollection", "features": []}), 403)
        await login(driver, "driver1")
        assert_error(await driver.get("/api/v1/geofences"), 403)

    # An import may not touch a zone above the org admin's subtree.
    feature = {"type": "Feature", "geometry": province["geojson"],
               "properties": {**FUEL, "code": province["code"], "category": "fuel"}}
    refused = await client.post("/api/v1/geofences/import",
                                json={"type": "FeatureCollection", "features": [feature]})
    problems = assert_error(refused, 422)["details"]["features"][0]["problems"]
    assert "forbidden" in {p["code"] for p in problems}


async def test_vehicle_groups_bind_zones(client, db):
    await login(client, "admin")
    cars = [r["id"] for r in await db.fetch(
        "SELECT id FROM vehicles WHERE home_city_code = '420100' ORDER BY id LIMIT 3")]
    created = await client.post("/api/v1/vehicle-groups", json={
        "code": "VG-T", "name_zh": "测试组", "org_id": await org_id(db, "420100"),
        "vehicle_ids": cars[:2]})
    assert created.status_code == 201, created.text
    group = created.json()
    assert [m["id"] for m in group["members"]] == sorted(cars[:2]) or len(group["members"]) == 2
    zone = (await client.post("/api/v1/geofences", json={
        **CLUB, "applies_to": "group", "vehicle_group_id": group["id"]})).json()
    loaded = {z.id: z for z in await zone_store.load_zones(db)}[zone["id"]]
    assert loaded.vehicle_group_ids == frozenset(cars[:2])
    index = ZoneIndex([loaded])
    assert index.containing(114.305, 30.585, vehicle_id=cars[0]) == [loaded]
    assert index.containing(114.305, 30.585, vehicle_id=cars[2]) == []

    moved = await client.put(f"/api/v1/vehicle-groups/{group['id']}",
                             json={"name_zh": "测试组", "vehicle_ids": [cars[2]]})
    assert [m["id"] for m in moved.json()["members"]] == [cars[2]]
    assert assert_error(await client.delete(f"/api/v1/vehicle-groups/{group['id']}"),
                        409)["code"] == "group_in_use"
    bad = await client.put(f"/api/v1/vehicle-groups/{group['id']}",
                           json={"name_zh": "x", "vehicle_ids": [999999]})
    assert assert_error(bad, 422)["code"] == "unknown_vehicle"
    listed = (await client.get("/api/v1/vehicle-groups")).json()
    assert [g["zone_count"] for g in listed if g["id"] == group["id"]] == [1]


async def test_map_layers_still_serve_the_console(client):
    await login(client, "dispatcher")
    layers = (await client.get("/api/v1/map/layers")).json()
    assert layers["lots"]["features"] and layers["city_boundaries"]["features"]


async def test_reimporting_an_unchanged_export_writes_no_version(client, db):
    """Every zone of the province (the seeded circles, polygons, corridors) exported and
    imported back: all unchanged, not one new version."""
    await login(client, "admin")
    await client.post("/api/v1/geofences", json={**ROAD, "code": "RT-ROAD"})
    exported = (await client.get("/api/v1/geofences/export")).json()
    circles = [f for f in exported["features"] if f["properties"]["shape"] == "circle"]
    assert len(circles) >= 10
    before = dict(await db.fetch("SELECT id, version FROM geofences"))
    again = await client.post("/api/v1/geofences/import", json=exported)
    assert again.status_code == 200, again.text
    result = again.json()
    assert (result["created"], result["updated"]) == (0, 0)
    assert result["unchanged"] == len(exported["features"])
    assert dict(await db.fetch("SELECT id, version FROM geofences")) == before
    # a circle moved by more than a metre, or resized, is a change
    moved = {**circles[0], "properties": {**circles[0]["properties"]}}
    lon, lat = moved["properties"]["centre"]
    moved["properties"]["centre"] = [lon + 0.0001, lat]                   # ≈ 10 m east
    changed = (await client.post("/api/v1/geofences/import",
                                 json={"type": "FeatureCollection", "features": [moved]})).json()
    assert (changed["updated"], changed["zones"][0]["version"]) == (1, circles[0]["properties"]["version"] + 1)


async def test_an_old_export_never_overwrites_a_newer_edit(client, db):
    await login(client, "admin")
    made = (await client.post("/api/v1/geofences", json={**FUEL, "code": "ST-FUEL"})).json()
    club = (await client.post("/api/v1/geofences", json={**CLUB, "code": "ST-CLUB"})).json()
    old = (await client.get("/api/v1/geofences/export?q=ST-")).json()
    assert {f["properties"]["version"] for f in old["features"]} == {1}
    edited = await client.put(f"/api/v1/geofences/{made['id']}",
                              json={**FUEL, "code": "ST-FUEL", "radius_m": 90, "version": 1})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    for feature in old["features"]:                 # someone edits the old file, then imports
        feature["properties"]["name_zh"] += "（改）"
    refused = await client.post("/api/v1/geofences/import", json=old)
    error = assert_error(refused, 409)
    assert error["code"] == "stale_version"
    [stale] = error["details"]["features"]
    assert (stale["code"], stale["version"], stale["stored_version"]) == ("ST-FUEL", 1, 2)
    rows = {r["code"]: r for r in await db.fetch(
        "SELECT code, version, name_zh, radius_m FROM geofences WHERE code LIKE 'ST-%'")}
    assert (rows["ST-FUEL"]["version"], rows["ST-FUEL"]["radius_m"]) == (2, 90)
    assert (rows["ST-CLUB"]["version"], rows["ST-CLUB"]["name_zh"]) == (1, CLUB["name_zh"])  # all or nothing
    # the current export imports (and the club's name change is a new version)
    fresh = (await client.get("/api/v1/geofences/export?q=ST-CLUB")).json()
    fresh["features"][0]["properties"]["name_zh"] = "测试会所（改）"
    done = (await client.post("/api/v1/geofences/import", json=fresh)).json()
    assert done["updated"] == 1 and done["zones"][0]["version"] == club["version"] + 1
    bad = {**fresh["features"][0], "properties": {**fresh["features"][0]["properties"], "version": "2"}}
    refused = await client.post("/api/v1/geofences/import",
                                json={"type": "FeatureCollection", "features": [bad]})
    problems = assert_error(refused, 422)["details"]["features"][0]["problems"]
    assert "bad_version" in {p["code"] for p in problems}


async def test_the_export_is_named_by_wuhans_day(client, monkeypatch):
    class LateEvening(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206
            return datetime(2026, 12, 1, 17, 30, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(export_names, "datetime", LateEvening)
    await login(client, "admin")
    exported = await client.get("/api/v1/geofences/export")
    assert 'filename="zones-20261202-0130.geojson"' in exported.headers["content-disposition"]

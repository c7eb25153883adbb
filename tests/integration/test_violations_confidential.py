"""A 机要 car's violations (domain.md §1): users not cleared for its positions (a city's
dispatcher) see no coordinate of it anywhere — not the track or the triggering fixes, and not
the places the summary names (where a trip began and ended, where the car stood, left or
entered an area), the zones' shapes or the orders' places — in the list as in the detail;
cleared users (admins) see them all."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import date

from supervision import violation_store
from tests.integration.violation_fixtures import Car, bundle_for, night_trip
from tests.integration.web_app import assert_error, login, new_client

DAY = date(2026, 11, 30)


@asynccontextmanager
async def as_user(app, username):
    async with new_client(app) as client:
        await login(client, username)
        yield client


async def confidential_violation(db) -> tuple[int, list[float]]:
    """An R4 of Wuhan's 机要 car: parked away from its lot at night (where: in the summary)."""
    row = await db.fetchrow(
        """SELECT v.id, v.plate, d.id AS device_id, o.id AS org_id, o.code, o.name_zh, o.name_en
           FROM vehicles v JOIN devices d ON d.vehicle_id = v.id
           JOIN organisations o ON o.id = v.owner_org_id
           WHERE v.use_category = 'confidential' AND v.home_city_code = '420100'
           ORDER BY v.id LIMIT 1""")
    assert row is not None, "the scenario has a 机要 car in Wuhan"
    car = Car(row["id"], row["plate"], row["device_id"], row["org_id"], row["code"],
              row["name_zh"], row["name_en"])
    fixes = night_trip(DAY)
    bundle = bundle_for(car, fixes, "R4")
    at = [fixes[-1][2], fixes[-1][1]]
    summary = {"at": at, "from": [fixes[0][2], fixes[0][1]], "to": at, "exit": at,
               "distance_to_lot_m": 9300.0, "parked_since": "2026-11-30T21:36:00+08:00",
               "places": [{"id": 1, "name_zh": "某小区"}]}
    bundle["summary"] = summary
    bundle["orders"] = [{"id": 5, "origin": {"lon": at[0], "lat": at[1], "city_code": "420100"},
                         "destinations": [{"lon": at[0], "lat": at[1], "city_code": "420100"}]}]
    async with db.transaction():
        violation_id = await violation_store.create(
            db, rule_id="R4", finding_key=f"v{car.id}:night:{DAY.isoformat()}", vehicle_id=car.id,
            org_id=car.org_id, severity="warn", started_at=fixes[-1][0], ended_at=None,
            params={}, params_version=0, summary=summary, bundle=bundle)
    return violation_id, at


def coordinates_in(value) -> list:
    """Every [lon, lat]-like pair and lat/lon value anywhere in the JSON."""
    found = []
    if isinstance(value, dict):
        for key, v in value.items():
            if key in ("lat", "lon") and v is not None:
                found.append((key, v))
            found += coordinates_in(v)
    elif isinstance(value, list):
        if len(value) == 2 and all(isinstance(v, float) for v in value):
            found.append(value)
        for v in value:
            found += coordinates_in(v)
    return found


async def test_a_confidential_cars_places_are_withheld_from_the_uncleared(app, db):
    secret, at = await confidential_violation(db)
    async with as_user(app, "dispatcher") as dispatcher:          # Wuhan's, not cleared
        [listed] = [i for i in (await dispatcher.get("/api/v1/violations")).json()["items"]
                    if i["id"] == secret]
        assert listed["summary"]["at"] is None and listed["summary"]["from"] is None
        assert listed["summary"]["exit"] is None
        assert listed["summary"]["distance_to_lot_m"] == 9300.0          # numbers stay
        assert listed["summary"]["places"] == [{"id": 1, "name_zh": "某小区"}]
        detail = (await dispatcher.get(f"/api/v1/violations/{secret}")).json()
        assert detail["position_withheld"] is True
        assert coordinates_in(detail["summary"]) == []
        bundle = detail["evidence"][0]["bundle"]
        assert bundle["track"] is None and bundle["points"] == [] and bundle["withheld"]
        assert coordinates_in(detail) == [], coordinates_in(detail)[:5]
        assert [z["name_zh"] for z in bundle["zones"]] == ["单位停车场", "光谷某住宅小区"]
        assert {z["geojson"] for z in bundle["zones"]} == {None}
        assert_error(await dispatcher.get(f"/api/v1/violations/{secret}/playback"), 403)
    async with as_user(app, "admin") as admin:                    # cleared
        [listed] = [i for i in (await admin.get("/api/v1/violations")).json()["items"]
                    if i["id"] == secret]
        assert listed["summary"]["at"] == at
        detail = (await admin.get(f"/api/v1/violations/{secret}")).json()
        assert detail["position_withheld"] is False
        bundle = detail["evidence"][0]["bundle"]
        assert bundle["summary"]["at"] == at and bundle["track"]["coordinates"]
        assert bundle["zones"][0]["geojson"]["type"] == "Polygon"

"""A cross-city order (跨市) makes its car visible to the destination city's dispatchers for the
order's window, and only then (domain.md §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fleet.users import upsert_user
from tests.integration.test_dispatch_orders_api import order_event
from tests.integration.test_trip_requests_api import body, event, users
from tests.integration.web_app import PASSWORD, login, new_client


async def _plates(client) -> set[str]:
    response = await client.get("/api/v1/vehicles")
    assert response.status_code == 200, response.text
    return {v["plate"] for v in response.json()["items"]}


async def test_destination_city_sees_the_car_during_the_order(app, client, db):
    await users(db)
    await upsert_user(db, username="hs_dispatcher", display_name="黄石调度", org_code="420200-PF",
                      roles=["dispatcher"], password=PASSWORD)
    await upsert_user(db, username="ez_dispatcher", display_name="鄂州调度", org_code="420700-PF",
                      roles=["dispatcher"], password=PASSWORD)
    start = datetime.now(UTC) + timedelta(minutes=10)  # within 30 min: the window has begun
    await login(client, "requester")
    request = (await client.post("/api/v1/trip-requests", json=body(
        dest_city="420200", start=start, hours=3,
        destinations=[{"name": "黄石市政府", "lat": 30.1999, "lon": 115.0389, "city_code": "420200"}],
    ))).json()
    request = (await event(client, request["id"], "submit", request["version"])).json()
    # the approval chain is not what this test is about (tests/integration/test_trip_requests_api.py)
    await db.execute("UPDATE trip_requests SET state = 'approved', approved_levels = approval_levels "
                     "WHERE id = $1", request["id"])
    vehicle, plate = await db.fetchrow("SELECT id, plate FROM vehicles WHERE home_city_code = '420100' "
                                       "AND source = 'platform' ORDER BY id LIMIT 1")
    driver = await db.fetchval("SELECT id FROM drivers WHERE home_city_code = '420100' "
                               "AND rental_company_id IS NULL ORDER BY id LIMIT 1")
    async with new_client(app) as huangshi, new_client(app) as ezhou, new_client(app) as dispatcher:
        await login(huangshi, "hs_dispatcher")
        await login(ezhou, "ez_dispatcher")
        await login(dispatcher, "dispatcher")
        assert plate not in await _plates(huangshi)
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        order = (await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)).json()
        assert order["state"] == "assigned", order
        assert plate in await _plates(huangshi)  # the destination city watches it come
        assert plate not in await _plates(ezhou)  # a city it does not go to does not
        assert (await huangshi.get(f"/api/v1/vehicles/{vehicle}")).status_code == 200
        # the window moves to tomorrow: out of view again until then
        await db.execute("UPDATE dispatch_orders SET planned_start = planned_start + interval '1 day', "
                         "planned_end = planned_end + interval '1 day' WHERE id = $1", order["id"])
        assert plate not in await _plates(huangshi)
        assert (await huangshi.get(f"/api/v1/vehicles/{vehicle}")).status_code == 404

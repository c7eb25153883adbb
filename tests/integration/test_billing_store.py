"""Billing of real orders (dispatch/billing_store.py): an order driven to 已回场 through the API
is priced from what happened — the rental formula on the worked example of test_billing.py,
the odometer or else the GNSS trips for the km, and the cost split among the requests it
carries per passenger-km."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from dispatch.billing_store import on_order_returned, price_order, ride_km
from tests.integration.test_dispatch_orders_api import approved_request, order_event
from tests.integration.test_trip_requests_api import body, users
from tests.integration.web_app import login, new_client
from tests.trip_dates import next_working_day, working_day_at

DAY = next_working_day()  # no holiday level: one approver approves


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return working_day_at(hour, minute, day=day)


async def _walk(client, order: dict, steps: list[tuple[str, dict]]) -> dict:
    for name, extra in steps:
        response = await order_event(client, order, name, **extra)
        assert response.status_code == 200, response.text
        order = response.json()
    return order


WORKDAY_9 = at(9)
DRIVE = [("driver_accept", {}), ("depart", {"odometer_km": 20000.0}), ("arrive_pickup", {}),
         ("start_service", {}), ("end_service", {})]


async def platform_order(app, client, db, start=WORKDAY_9, hours=6) -> dict:
    """A Wuhan platform car carries the requester's request and comes back (the requester's
    client is logged in)."""
    await login(client, "requester")
    request = await approved_request(app, client, start=start, hours=hours)
    vehicle = await db.fetchval(
        """SELECT v.id FROM vehicles v WHERE v.home_city_code = '420100' AND v.source = 'platform'
           AND v.car_level = 'sedan' AND v.seats >= 4 AND v.active
           AND NOT EXISTS (SELECT 1 FROM vehicle_documents d WHERE d.vehicle_id = v.id
                           AND d.kind IN ('annual_inspection', 'insurance') AND d.expires_on < '2027-01-01')
           ORDER BY v.id LIMIT 1""")
    driver = await db.fetchval("SELECT d.id FROM drivers d JOIN users u ON u.id = d.user_id "
                               "WHERE u.username = 'driver1'")
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        order = await _walk(dispatcher, order, [("assign", {"vehicle_id": vehicle, "driver_id": driver}),
                                               *DRIVE, ("return", {"odometer_km": 20086.3,
                                                                   "tolls_cny": "35", "parking_cny": "10",
                                                                   "fuel_cny": "52.3", "fuel_l": "6.7"})])
    assert order["state"] == "returned"
    return order


async def rental_order(app, client, db, start=WORKDAY_9, hours=6) -> dict:
    """The requester's request goes to the first rental company, whose operator accepts it
    with one of its sedans and drivers; it comes back after a long day (the worked example)."""
    await login(client, "requester")
    request = await approved_request(app, client, start=start, hours=hours)
    company = await db.fetchval("SELECT rental_company_id FROM users WHERE username = 'rental1'")
    car = await db.fetchval(
        """SELECT v.id FROM vehicles v WHERE v.rental_company_id = $1 AND v.car_level = 'sedan'
           AND v.home_city_code = '420100'
           AND NOT EXISTS (SELECT 1 FROM vehicle_documents d WHERE d.vehicle_id = v.id
                           AND d.kind IN ('annual_inspection', 'insurance') AND d.expires_on < '2027-01-01')
           ORDER BY v.id LIMIT 1""", company)
    driver = await db.fetchval("SELECT id FROM drivers WHERE rental_company_id = $1 ORDER BY id LIMIT 1",
                               company)
    async with new_client(app) as dispatcher, new_client(app) as operator:
        await login(dispatcher, "dispatcher")
        await login(operator, "rental1")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        order = await _walk(dispatcher, order, [("send_to_rental", {
            "rental_company_id": company, "charter_type": "full_day", "service_mode": "with_driver"})])
        order = await _walk(operator, order, [("rental_accept", {"vehicle_id": car, "driver_id": driver})])
        order = await _walk(dispatcher, order, [*DRIVE, ("return", {
            "odometer_km": 20236.7, "tolls_cny": "120", "parking_cny": "20"})])
    # the contract values of the worked example, and the times of that long day
    plan = await db.fetchval("SELECT price_plan_id FROM dispatch_orders WHERE id = $1", order["id"])
    await db.execute(
        """UPDATE price_plans SET base_price_cny = 600, included_hours = 8, included_km = 100,
               overtime_cny_per_h = 50, over_km_cny_per_km = 3.5, night_surcharge_cny = 80,
               out_of_town_cny_per_day = 150, late_penalty_cny = 100 WHERE id = $1""", plan)
    await db.execute(
        """UPDATE dispatch_orders SET departed_at = $2, arrived_pickup_at = $3, returned_at = $4,
               nights_out_of_town = 1 WHERE id = $1""", order["id"], start - timedelta(minutes=80), start + timedelta(minutes=25),
        start + timedelta(hours=14, minutes=10))
    return order


async def test_a_rental_order_is_priced_by_the_formula(app, client, db):
    await users(db)
    order = await rental_order(app, client, db, start=at(9))
    fee = await price_order(db, order["id"])
    assert fee is not None
    # 07:40 → 23:10, 236.7 km by odometer, 25 min late, one night away: test_billing's example
    assert {line.code: line.amount_cny for line in fee.lines} == {
        "base": Decimal("600.00"), "overtime": Decimal("375.00"), "over_km": Decimal("478.45"),
        "night": Decimal("80.00"), "out_of_town": Decimal("150.00"), "tolls": Decimal("120.00"),
        "parking": Decimal("20.00"), "late_penalty": Decimal("-100.00")}
    stored = await db.fetchrow("SELECT fee_cny, fee_lines, billed_km, gnss_km, fee_computed_at "
                               "FROM dispatch_orders WHERE id = $1", order["id"])
    assert stored["fee_cny"] == Decimal("1723.45") and stored["billed_km"] == Decimal("236.7")
    assert stored["gnss_km"] == Decimal("0.0") and stored["fee_computed_at"] is not None
    assert {"code": "over_km", "label_zh": "超公里费", "quantity": 136.7, "amount_cny": 478.45} in stored["fee_lines"]
    share = await db.fetchrow("SELECT ride_km, share_cny FROM dispatch_order_requests WHERE order_id = $1",
                              order["id"])
    assert share["share_cny"] == Decimal("1723.45") and share["ride_km"] > 0


async def test_platform_car_km_from_odometer_else_gnss_and_shares_per_passenger_km(app, client, db):
    await users(db)
    order = await platform_order(app, client, db)
    departed, returned = at(8, 30), at(15, 30)
    vehicle = await db.fetchval(
        "UPDATE dispatch_orders SET departed_at = $2, returned_at = $3 WHERE id = $1 RETURNING vehicle_id",
        order["id"], departed, returned)
    trip = """INSERT INTO trips (vehicle_id, start_ts, end_ts, start_lat, start_lon, end_lat, end_lon,
                  dist_gnss_m, odo_source, max_speed_kmh, mean_speed_kmh, duration_s, detected_by,
                  position_count)
              VALUES ($1, $2, $3, 30.5, 114.3, 30.6, 114.4, $4, 'gnss', 60, 30, 600, 'acc', 60)"""
    await db.execute(trip, vehicle, departed - timedelta(minutes=5), departed + timedelta(seconds=1), 5000.0)
    await db.execute(trip, vehicle, departed + timedelta(seconds=2), returned - timedelta(seconds=1), 80000.0)
    await db.execute(trip, vehicle, returned + timedelta(minutes=30), returned + timedelta(hours=1), 20000.0)
    # a second request rides along (公务拼车): 3 passengers on its own route
    async with new_client(app) as other:
        await login(other, "requester")
        second = await approved_request(app, other)
    await db.execute("INSERT INTO dispatch_order_requests (order_id, request_id, passenger_count) "
                     "VALUES ($1, $2, 3)", order["id"], second["id"])

    assert await price_order(db, order["id"]) is None  # no price plan: no fee
    stored = await db.fetchrow("SELECT fee_cny, billed_km, gnss_km FROM dispatch_orders WHERE id = $1",
                               order["id"])
    # the odometer's 86.3 km agree with the GNSS 85 km (within 10 %): the odometer is billed
    assert (stored["fee_cny"], stored["billed_km"], stored["gnss_km"]) == (None, Decimal("86.3"), Decimal("85.0"))
    shares = await db.fetch("SELECT request_id, passenger_count, ride_km, share_cny FROM dispatch_order_requests "
                            "WHERE order_id = $1 ORDER BY request_id", order["id"])
    assert sum(s["share_cny"] for s in shares) == Decimal("97.30")  # tolls + parking + fuel
    # the same route for both: 1 and 3 passengers → a quarter and three quarters
    assert shares[0]["ride_km"] == shares[1]["ride_km"]
    assert (shares[0]["share_cny"], shares[1]["share_cny"]) == (Decimal("24.32"), Decimal("72.98"))

    await db.execute("UPDATE dispatch_orders SET odometer_end_km = NULL WHERE id = $1", order["id"])
    await on_order_returned(db, order["id"])
    assert await db.fetchval("SELECT billed_km FROM dispatch_orders WHERE id = $1", order["id"]) == Decimal("85.0")


async def test_an_order_not_back_is_not_priced(app, client, db):
    await users(db)
    await login(client, "requester")
    request = await approved_request(app, client)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
    assert await price_order(db, order["id"]) is None
    assert await db.fetchval("SELECT fee_computed_at FROM dispatch_orders WHERE id = $1", order["id"]) is None


def test_ride_km_follows_the_destinations_and_comes_back_on_a_round_trip():
    trip = body()
    one_way = ride_km(trip["origin"], trip["destinations"], round_trip=False)
    assert round(ride_km(trip["origin"], trip["destinations"], round_trip=True), 6) == round(2 * one_way, 6)
    assert 75 < one_way < 80  # 市政府 → 鄂州, ~59 km great-circle × 1.3

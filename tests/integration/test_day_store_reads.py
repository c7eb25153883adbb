"""supervision/day_store against the seeded database: an order's planned km counts the drive
from the car's lot to the pickup and back (R10), and the nearest approach to a destination
says nothing when there were no positions to look at (R13)."""

from __future__ import annotations

import pytest

from fleet.db import connect
from fleet.geodesy import haversine_m
from supervision import day_store
from tests.integration.rules_worker_fixtures import give_order, ms, scripted_day, seeded_car


@pytest.fixture
async def db(seeded_db_url):
    conn = await connect(seeded_db_url)
    yield conn
    await conn.close()


async def test_planned_km_runs_from_the_lot_and_back(db):
    car = await seeded_car(db)
    day = scripted_day()
    base = await day_store.vehicle_base(db, car.vehicle_id)
    assert base is not None and haversine_m(base[1], base[0], car.lot[1], car.lot[0]) < 5
    order_id = await give_order(db, car, ms(day, "09:00"), ms(day, "11:00"))
    # the request's origin is the lot and its destination `car.away`, one way
    await db.execute("UPDATE trip_requests SET round_trip = false, origin = jsonb_set("
                     "origin, '{lon}', to_jsonb(($1)::float8)) WHERE id = (SELECT request_id "
                     "FROM dispatch_orders WHERE id = $2)", car.lot[0] + 0.05, order_id)
    [view] = [o for o in await day_store.orders(db, car.vehicle_id, ms(day, "00:00"),
                                                ms(day, "23:59")) if o.id == order_id]
    pickup, dest = view.origin, view.destinations[0]
    legs_m = (haversine_m(car.lot[1], car.lot[0], pickup[1], pickup[0])
              + haversine_m(pickup[1], pickup[0], dest[1], dest[0])
              + haversine_m(dest[1], dest[0], car.lot[1], car.lot[0]))
    assert view.planned_km == pytest.approx(legs_m / 1000 * 1.3, abs=0.02)
    alone = day_store.planned_km(pickup, view.destinations, False)
    assert view.planned_km > alone + 1.0            # lot → pickup (≈ 4.8 km) counted


async def test_a_car_without_a_lot_sets_out_from_its_depot(db):
    car = await seeded_car(db)
    depot = await db.fetchrow("SELECT d.lat, d.lon FROM depots d JOIN vehicles v "
                              "ON v.depot_id = d.id WHERE v.id = $1", car.vehicle_id)
    await db.execute("UPDATE depots SET lot_geofence_id = NULL WHERE id = (SELECT depot_id "
                     "FROM vehicles WHERE id = $1)", car.vehicle_id)
    await db.execute("UPDATE vehicles SET lot_geofence_id = NULL WHERE id = $1", car.vehicle_id)
    assert await day_store.vehicle_base(db, car.vehicle_id) == (depot["lon"], depot["lat"])


async def test_no_positions_is_no_answer_not_far_away(db):
    car = await seeded_car(db)
    day = scripted_day()
    far_future = (ms(day, "00:00", 400), ms(day, "23:00", 400))
    got = await day_store.nearest_approach_m(db, car.vehicle_id, *far_future,
                                             [(car.away[0], car.away[1], "420100")])
    assert got is None

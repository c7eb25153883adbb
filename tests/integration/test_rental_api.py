"""A rental company (社会化租赁) over the API: a dispatcher sends an order to the company, its
operator lists it with what is needed to decide, picks a car and a driver that fit, and
accepts — or rejects with a reason. The company reaches only its own orders and cars, never an
organisation's data; another company's operator sees nothing of it."""

from __future__ import annotations

from datetime import timedelta, timezone

from fleet.users import upsert_user
from tests.integration.test_trip_requests_api import body, event, notifications
from tests.integration.web_app import PASSWORD, assert_error, login, new_client
from tests.trip_dates import working_day_at

CST = timezone(timedelta(hours=8))
START = working_day_at(9)  # the next working day


async def approved(app, requester, **extra) -> dict:
    """A request filed, submitted and approved at every level it needs (unit, then city)."""
    r = (await requester.post("/api/v1/trip-requests", json=body(start=START, **extra))).json()
    r = (await event(requester, r["id"], "submit", r["version"])).json()
    for approver_name in ("approver", "leader"):
        if r["state"] != "pending_approval":
            break
        async with new_client(app) as approver:
            await login(approver, approver_name)
            response = await event(approver, r["id"], "approve", r["version"])
            assert response.status_code == 200, response.text
            r = response.json()
    assert r["state"] == "approved", r
    return r


async def order_event(client, order: dict, name: str, **extra):
    return await client.post(f"/api/v1/dispatch-orders/{order['id']}/events",
                             json={"event": name, "version": order["version"], **extra})


async def company_id(db, code: str = "RC-JIANGCHENG") -> int:
    return await db.fetchval("SELECT id FROM rental_companies WHERE code = $1", code)


async def send(app, dispatcher, requester, company: int, *, charter="full_day", **extra):
    """An approved request's order, sent to the company; returns (response, order before)."""
    request = await approved(app, requester, **extra)
    created = await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})
    assert created.status_code == 201, created.text
    order = created.json()
    response = await order_event(dispatcher, order, "send_to_rental", rental_company_id=company,
                                 charter_type=charter, service_mode="with_driver")
    return response, order


async def sent(app, dispatcher, requester, company: int, **extra) -> dict:
    response, _ = await send(app, dispatcher, requester, company, **extra)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "sent_to_rental"
    return response.json()


async def company_fleet(db, company: int) -> tuple[list[int], list[int]]:
    """The company's Wuhan cars (fewest seats first) and its drivers."""
    cars = await db.fetch("SELECT id FROM vehicles WHERE rental_company_id = $1 AND "
                          "home_city_code = '420100' ORDER BY seats, id", company)
    drivers = await db.fetch("SELECT id FROM drivers WHERE rental_company_id = $1 ORDER BY id", company)
    return [r["id"] for r in cars], [r["id"] for r in drivers]


async def second_operator(db) -> int:
    """rental2: an operator of the second company."""
    other = await company_id(db, "RC-EDONG")
    platform = await db.fetchval("SELECT o.code FROM users u JOIN organisations o ON o.id = u.org_id "
                                 "WHERE u.username = 'rental1'")
    await upsert_user(db, username="rental2", display_name="鄂东租赁调度", org_code=platform,
                      roles=["rental_operator"], password=PASSWORD)
    await db.execute("UPDATE users SET rental_company_id = $1 WHERE username = 'rental2'", other)
    return other


async def test_operator_lists_the_order_and_accepts_with_car_and_driver(app, client, db):
    company = await company_id(db)
    cars, drivers = await company_fleet(db, company)
    async with new_client(app) as dispatcher, new_client(app) as rental:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        order = await sent(app, dispatcher, client, company, passenger_count=3, round_trip=True)
        assert order["rental_deadline"] and order["rental_company_id"] == company
        [told] = await notifications(db, "rental1", "rental_order")
        assert told["order_id"] == order["id"] and told["deadline"]

        page = (await rental.get("/api/v1/rental/orders?state=waiting")).json()
        assert page["counts"] == {"waiting": 1, "accepted": 0, "in_service": 0, "history": 0}
        [item] = page["items"]
        assert item["id"] == order["id"] and item["state"] == "sent_to_rental"
        assert item["allowed_events"] == ["rental_accept", "rental_reject"]
        assert (item["charter_type"], item["service_mode"]) == ("full_day", "with_driver")
        assert item["passenger_count"] == 3 and item["rental_deadline"]
        plan = item["price_plan"]
        assert (plan["car_level"], plan["charter_type"], plan["mode"]) == ("sedan", "full_day", "with_driver")
        assert float(plan["base_price_cny"]) > 0 and plan["included_km"] > 0
        [carried] = item["requests"]
        assert carried["unit_name_zh"] and carried["passenger_count"] == 3 and carried["round_trip"]
        assert carried["origin"]["city_code"] == "420100" and carried["origin"]["city_name_zh"] == "武汉"
        assert [d["city_code"] for d in carried["destinations"]] == ["420100"]
        assert carried["applicant_name"] is None and carried["contact_phone"] is None  # not yet theirs

        fleet = (await rental.get(f"/api/v1/rental/fleet?order_id={order['id']}")).json()
        all_cars = await db.fetch("SELECT id FROM vehicles WHERE rental_company_id = $1", company)
        assert {c["id"] for c in fleet["cars"]} == {r["id"] for r in all_cars}
        by_id = {c["id"]: c for c in fleet["cars"]}
        assert all(c["documents_valid"] for c in fleet["cars"])
        assert by_id[cars[0]]["fits"] is True and by_id[cars[0]]["seats"] >= 4
        assert [d["id"] for d in fleet["drivers"] if d["fits"]] == drivers

        accepted = await rental.post(f"/api/v1/rental/orders/{order['id']}/accept",
                                     json={"version": item["version"], "vehicle_id": cars[0],
                                           "driver_id": drivers[0]})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["state"] == "assigned" and accepted.json()["vehicle_id"] == cars[0]
        request = (await client.get(f"/api/v1/trip-requests/{order['request_ids'][0]}")).json()
        assert request["state"] == "dispatched"  # 已派车

        held = (await rental.get("/api/v1/rental/orders?state=accepted")).json()
        [mine] = held["items"]
        assert mine["plate"] and mine["driver_name"] and mine["allowed_events"] == []
        assert mine["requests"][0]["applicant_name"]  # now the company serves them
        assert held["counts"]["waiting"] == 0 and held["counts"]["accepted"] == 1
        # the car is now booked over the order's window (and busy for another order in it)
        fleet = (await rental.get("/api/v1/rental/fleet")).json()
        car = next(c for c in fleet["cars"] if c["id"] == cars[0])
        assert [b["order_id"] for b in car["bookings"]] == [order["id"]] and car["fits"] is None
        again = await rental.post(f"/api/v1/rental/orders/{order['id']}/accept",
                                  json={"version": mine["version"], "vehicle_id": cars[0],
                                        "driver_id": drivers[0]})
        assert assert_error(again, 409)["code"] == "illegal_transition"


async def test_the_applicants_are_told_when_the_company_accepts(app, client, db):
    company = await company_id(db)
    cars, drivers = await company_fleet(db, company)
    async with new_client(app) as dispatcher, new_client(app) as rental:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        order = await sent(app, dispatcher, client, company)
        accepted = await rental.post(f"/api/v1/rental/orders/{order['id']}/accept", json={
            "version": order["version"], "vehicle_id": cars[0], "driver_id": drivers[0]})
        assert accepted.status_code == 200, accepted.text
    told = await notifications(db, "requester", "order_changed")
    assert [n["order_id"] for n in told] == [order["id"]]


async def test_a_car_or_driver_that_is_not_the_companys_is_refused(app, client, db):
    company = await company_id(db)
    other = await company_id(db, "RC-EDONG")
    cars, drivers = await company_fleet(db, company)
    platform_car = await db.fetchval("SELECT id FROM vehicles WHERE source = 'platform' "
                                     "AND home_city_code = '420100' ORDER BY id LIMIT 1")
    other_car = await db.fetchval("SELECT id FROM vehicles WHERE rental_company_id = $1 "
                                  "ORDER BY id LIMIT 1", other)
    other_driver = await db.fetchval("SELECT id FROM drivers WHERE rental_company_id = $1 "
                                     "ORDER BY id LIMIT 1", other)
    platform_driver = await db.fetchval("SELECT id FROM drivers WHERE rental_company_id IS NULL "
                                        "ORDER BY id LIMIT 1")
    async with new_client(app) as dispatcher, new_client(app) as rental:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        order = await sent(app, dispatcher, client, company)

        for vehicle, driver, code in ((platform_car, drivers[0], "not_company_car"),
                                      (other_car, drivers[0], "not_company_car"),
                                      (cars[0], other_driver, "not_company_driver"),
                                      (cars[0], platform_driver, "not_company_driver")):
            refused = await order_event(rental, order, "rental_accept", vehicle_id=vehicle, driver_id=driver)
            assert assert_error(refused, 409)["code"] == code, (vehicle, driver)

        # 年检 expired: the chooser marks the car, and the acceptance refuses it
        await db.execute("UPDATE vehicle_documents SET expires_on = '2026-01-31' "
                         "WHERE vehicle_id = $1 AND kind = 'annual_inspection'", cars[0])
        fleet = (await rental.get(f"/api/v1/rental/fleet?order_id={order['id']}")).json()
        expired = next(c for c in fleet["cars"] if c["id"] == cars[0])
        assert expired["documents_valid"] is False and expired["fits"] is False
        assert expired["reason"] == "document_annual_inspection"
        assert "annual_inspection" in expired["documents_expiring"]
        refused = await rental.post(f"/api/v1/rental/orders/{order['id']}/accept",
                                    json={"version": order["version"], "vehicle_id": cars[0],
                                          "driver_id": drivers[0]})
        assert assert_error(refused, 409)["code"] == "document_annual_inspection"
        unknown = await rental.post(f"/api/v1/rental/orders/{order['id']}/accept",
                                    json={"version": order["version"], "vehicle_id": 2**31 - 1,
                                          "driver_id": drivers[0]})
        assert assert_error(unknown, 422)["code"] == "unknown_vehicle_or_driver"
        stale = await rental.post(f"/api/v1/rental/orders/{order['id']}/accept",
                                  json={"version": order["version"] - 1, "vehicle_id": cars[1],
                                        "driver_id": drivers[0]})
        assert assert_error(stale, 409)["code"] == "stale_version"
        still = (await rental.get(f"/api/v1/rental/orders/{order['id']}")).json()
        assert still["state"] == "sent_to_rental" and still["vehicle_id"] is None  # nothing written


async def test_another_companys_operator_neither_sees_nor_answers_the_order(app, client, db):
    company = await company_id(db)
    await second_operator(db)
    cars, drivers = await company_fleet(db, company)
    async with new_client(app) as dispatcher, new_client(app) as rival:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rival, "rental2")
        order = await sent(app, dispatcher, client, company)
        page = (await rival.get("/api/v1/rental/orders")).json()
        assert page["items"] == [] and page["counts"]["waiting"] == 0
        assert_error(await rival.get(f"/api/v1/rental/orders/{order['id']}"), 404)
        assert_error(await rival.get(f"/api/v1/dispatch-orders/{order['id']}"), 404)
        assert_error(await rival.get(f"/api/v1/rental/fleet?order_id={order['id']}"), 404)
        assert_error(await rival.get(f"/api/v1/rental/orders?company_id={company}"), 404)
        answer = {"version": order["version"], "vehicle_id": cars[0], "driver_id": drivers[0]}
        assert_error(await rival.post(f"/api/v1/rental/orders/{order['id']}/accept", json=answer), 404)
        assert_error(await order_event(rival, order, "rental_reject", note="不是我们的"), 404)
        rival_fleet = (await rival.get("/api/v1/rental/fleet")).json()
        assert not {c["id"] for c in rival_fleet["cars"]} & set(cars)


async def test_a_company_that_does_not_cover_a_destination_cannot_be_sent_the_order(app, client, db):
    company = await company_id(db)  # 武汉, 鄂州, 孝感, 黄冈: not 黄石 (420200)
    async with new_client(app) as dispatcher:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        refused, order = await send(app, dispatcher, client, company, dest_city="420200")
        error = assert_error(refused, 409)
        assert error["code"] == "company_does_not_cover" and error["details"] == {"cities": ["420200"]}
        assert (await dispatcher.get(f"/api/v1/dispatch-orders/{order['id']}")).json()["state"] == "created"
    assert await notifications(db, "rental1", "rental_order") == []


async def test_reject_with_a_reason_returns_the_order_to_the_dispatchers(app, client, db):
    company = await company_id(db)
    async with new_client(app) as dispatcher, new_client(app) as rental:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        order = await sent(app, dispatcher, client, company)
        blank = await rental.post(f"/api/v1/rental/orders/{order['id']}/reject",
                                  json={"version": order["version"], "reason": "   "})
        assert_error(blank, 422)
        rejected = await rental.post(f"/api/v1/rental/orders/{order['id']}/reject",
                                     json={"version": order["version"], "reason": "该时段车辆已满"})
        assert rejected.status_code == 200, rejected.text
        back = rejected.json()
        assert back["state"] == "created" and back["rental_company_id"] is None
        assert back["rental_deadline"] is None and back["charter_type"] is None
        [told] = await notifications(db, "dispatcher", "rental_rejected")
        assert told["order_id"] == order["id"]
        history = (await dispatcher.get(f"/api/v1/dispatch-orders/{order['id']}/events")).json()
        assert [(e["event"], e["note"]) for e in history][-1] == ("rental_reject", "该时段车辆已满")
        # gone from the company's orders, kept in its history as let go
        page = (await rental.get("/api/v1/rental/orders?state=history")).json()
        assert page["items"] == [] and sum(page["counts"].values()) == 0
        [gone] = page["declined"]
        assert (gone["order_id"], gone["event"], gone["note"]) == (order["id"], "rental_reject", "该时段车辆已满")
        assert_error(await rental.get(f"/api/v1/rental/orders/{order['id']}"), 404)
        # the dispatcher may send it again, e.g. to the same company with another charter
        again = (await dispatcher.get(f"/api/v1/dispatch-orders/{order['id']}")).json()
        resent = await order_event(dispatcher, again, "send_to_rental", rental_company_id=company,
                                   charter_type="half_day", service_mode="with_driver")
        assert resent.status_code == 200 and resent.json()["state"] == "sent_to_rental"


async def test_operators_see_no_organisation_data_and_others_no_rental_api(app, client, db):
    company = await company_id(db)
    async with new_client(app) as dispatcher, new_client(app) as rental, new_client(app) as admin:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        await login(admin, "admin")
        await sent(app, dispatcher, client, company)
        # the city's requests exist, and the operator sees none of them
        assert (await dispatcher.get("/api/v1/trip-requests")).json()["total"] >= 1
        assert (await rental.get("/api/v1/trip-requests")).json() == {"items": [], "total": 0}
        assert (await rental.get("/api/v1/trip-requests?state=dispatching")).json()["total"] == 0
        assert assert_error(await rental.get("/api/v1/vehicles"), 403)["code"] == "forbidden"
        assert_error(await rental.post("/api/v1/dispatch-orders", json={"request_id": 1}), 403)
        me = (await rental.get("/api/v1/auth/me")).json()
        assert me["pages"] == ["/rental"]
        mine = (await rental.get("/api/v1/rental/company")).json()
        assert mine["id"] == company and mine["in_force"] and mine["accept_timeout_s"] == 600
        # others: the rental API is not theirs; an admin names the company
        for other in (client, dispatcher):
            assert assert_error(await other.get("/api/v1/rental/orders"), 403)["code"] == "forbidden"
            assert_error(await other.get("/api/v1/rental/fleet"), 403)
        assert assert_error(await admin.get("/api/v1/rental/orders"), 422)["code"] == "company_required"
        assert_error(await admin.get("/api/v1/rental/orders?company_id=999999"), 404)
        seen = (await admin.get(f"/api/v1/rental/orders?company_id={company}&state=waiting")).json()
        assert len(seen["items"]) == 1
        assert_error(await rental.get("/api/v1/rental/orders?state=nonsense"), 422)
    anonymous = await client.post("/api/v1/auth/logout")
    assert anonymous.status_code == 204
    assert_error(await client.get("/api/v1/rental/orders"), 401)

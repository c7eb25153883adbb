"""Proposals (方案) over the API, on PostgreSQL: the optimizer plans the dispatcher's queue, the
dispatcher accepts, and the routes become dispatch orders through the ordinary path — a shared
ride as one merged order, each order assigned the proposed car and a free driver. A request no
car can carry is left out with its reason; pins, re-proposals, rejection, the background
re-plan and bad input are covered too."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from tests.integration.test_dispatch_console_api import HALL, NEAR_HALL, VENUE, _approved
from tests.integration.test_trip_requests_api import START, users
from tests.integration.web_app import assert_error, login, new_client

EZHOU = {"name": "鄂州市政府", "lat": 30.3908, "lon": 114.8950, "city_code": "420700"}


async def _queue(app, client, db) -> dict[str, int]:
    """Two carpool-able requests to one venue 10 min apart, a cross-city trip, and a party too
    large for any car (all approved: the chain is tested elsewhere)."""
    await login(client, "requester")
    pair = [await _approved(app, client, origin=o, destinations=[VENUE], carpool_allowed=True,
                            start=START + timedelta(minutes=m), hours=3)
            for o, m in ((HALL, 0), (NEAR_HALL, 10))]
    far = await _approved(app, client, destinations=[EZHOU], start=START + timedelta(hours=1))
    crowd = await _approved(app, client, passengers=[], passenger_count=60,
                            start=START + timedelta(hours=2), hours=2)
    ids = {"a": pair[0]["id"], "b": pair[1]["id"], "far": far["id"], "crowd": crowd["id"]}
    await db.execute("UPDATE trip_requests SET state = 'approved', approved_levels = "
                     "approval_levels WHERE id = ANY($1::int[])", list(ids.values()))
    return ids


async def test_propose_accept_becomes_orders(app, client, db):
    await users(db)
    ids = await _queue(app, client, db)
    async with new_client(app) as dispatcher:
        assert_error(await client.post("/api/v1/dispatch/proposals", json={}), 403)
        await login(dispatcher, "dispatcher")
        created = await dispatcher.post("/api/v1/dispatch/proposals", json={"replan_s": 0})
        assert created.status_code == 201, created.text
        proposal = created.json()
        assert proposal["state"] == "open" and proposal["revision"] == 1
        assert set(proposal["request_ids"]) == set(ids.values())
        unserved = {u["request_id"]: u for u in proposal["unserved"]}
        assert set(unserved) == {ids["crowd"]} and unserved[ids["crowd"]]["reason"] == "no_vehicle"
        assert unserved[ids["crowd"]]["message"] and unserved[ids["crowd"]]["message_zh"]
        routes = proposal["routes"]
        orders = [o["request_ids"] for r in routes for o in r["orders"]]
        assert sorted(orders) == sorted([sorted([ids["a"], ids["b"]]), [ids["far"]]])
        shared = next(r for r in routes if r["shared"])
        assert [s["kind"] for s in shared["stops"]][:2] == ["pickup", "pickup"]  # both aboard
        assert len(shared["path"]) == len(shared["stops"]) + 2  # depot → stops → depot
        assert proposal["totals"]["shared_rides"] == 1 and proposal["totals"]["vehicles"] == 2
        assert proposal["totals"]["cost_cny"] > 0 and proposal["totals"]["km"] > 0
        cars = {r["vehicle_id"] for r in routes}
        sources = await db.fetch("SELECT source, home_city_code FROM vehicles WHERE id = ANY($1)",
                                 list(cars))
        assert {(s["source"], s["home_city_code"]) for s in sources} <= {
            ("platform", "420100"), ("entrusted", "420100")}  # no leased car, the trip's city

        accepted = await dispatcher.post(f"/api/v1/dispatch/proposals/{proposal['id']}/accept",
                                         json={"revision": 1})
        assert accepted.status_code == 200, accepted.text
        outcome = accepted.json()
        assert outcome["refused"] == [] and len(outcome["orders"]) == 2
        assert outcome["proposal"]["state"] == "accepted"
        assert all(r["accepted"] for r in outcome["proposal"]["routes"])
        again = await dispatcher.post(f"/api/v1/dispatch/proposals/{proposal['id']}/accept",
                                      json={"revision": 1})
        assert assert_error(again, 409)["code"] == "proposal_closed"
        queue = (await dispatcher.get("/api/v1/dispatch/queue")).json()
        assert [r["id"] for r in queue["requests"]] == [ids["crowd"]]
    rows = await db.fetch(
        """SELECT d.id, d.vehicle_id, d.driver_id, d.state,
                  array_agg(x.request_id ORDER BY x.request_id) AS request_ids
           FROM dispatch_orders d JOIN dispatch_order_requests x ON x.order_id = d.id
           GROUP BY d.id ORDER BY d.id""")
    by_requests = {tuple(r["request_ids"]): r for r in rows}
    assert set(by_requests) == {tuple(sorted([ids["a"], ids["b"]])), (ids["far"],)}
    for request_ids, row in by_requests.items():
        route = next(r for r in routes if sorted(r["orders"][0]["request_ids"]) == list(request_ids))
        assert row["state"] == "assigned" and row["vehicle_id"] == route["vehicle_id"]
        assert row["driver_id"] is not None
    states = await db.fetch("SELECT id, state FROM trip_requests WHERE id = ANY($1)",
                            list(ids.values()))
    assert {r["id"]: r["state"] for r in states} == {
        ids["a"]: "dispatched", ids["b"]: "dispatched", ids["far"]: "dispatched",
        ids["crowd"]: "approved"}
    events = await db.fetch("SELECT event FROM dispatch_order_events ORDER BY id")
    assert [e["event"] for e in events] == ["assign", "assign"]  # the ordinary assign path


async def test_accept_some_pin_and_repropose_reject(app, client, db):
    await users(db)
    ids = await _queue(app, client, db)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        first = (await dispatcher.post("/api/v1/dispatch/proposals", json={
            "request_ids": [ids["a"], ids["b"], ids["far"]], "replan_s": 0})).json()
        far_route = next(r for r in first["routes"] if r["orders"][0]["request_ids"] == [ids["far"]])
        other = next(r for r in first["routes"] if r is not far_route)
        # pin the cross-city trip to another free car of the city, and ask again
        spare = await db.fetchval(
            """SELECT v.id FROM vehicles v JOIN vehicle_documents d ON d.vehicle_id = v.id
               WHERE v.home_city_code = '420100' AND v.source = 'platform' AND v.active
                 AND v.seats BETWEEN 5 AND 7 AND v.id <> ALL($1::int[])
               GROUP BY v.id HAVING min(d.expires_on) > now() + interval '30 days'
               ORDER BY v.id DESC LIMIT 1""", [far_route["vehicle_id"], other["vehicle_id"]])
        pinned = await dispatcher.post("/api/v1/dispatch/proposals", json={
            "base_proposal_id": first["id"], "replan_s": 0,
            "pins": [{"request_id": ids["far"], "vehicle_id": spare}]})
        assert pinned.status_code == 201, pinned.text
        second = pinned.json()
        assert second["pins"] == [{"request_id": ids["far"], "vehicle_id": spare}]
        assert set(second["request_ids"]) == {ids["a"], ids["b"], ids["far"]}  # selection kept
        moved = next(r for r in second["routes"] if r["orders"][0]["request_ids"] == [ids["far"]])
        assert moved["vehicle_id"] == spare
        leased = await db.fetchval("SELECT id FROM vehicles WHERE source = 'leased' ORDER BY id LIMIT 1")
        refused = (await dispatcher.post("/api/v1/dispatch/proposals", json={
            "base_proposal_id": second["id"], "replan_s": 0,
            "pins": [{"request_id": ids["a"], "vehicle_id": leased}]})).json()
        assert {u["request_id"]: u["reason"] for u in refused["unserved"]} == {ids["a"]: "pinned_car"}
        # accept only the pinned car's route
        some = await dispatcher.post(f"/api/v1/dispatch/proposals/{second['id']}/accept",
                                     json={"revision": 1, "vehicle_ids": [spare]})
        assert some.status_code == 200, some.text
        assert [o["vehicle_id"] for o in some.json()["orders"]] == [spare]
        assert some.json()["proposal"]["state"] == "partly_accepted"
        unknown = await dispatcher.post(f"/api/v1/dispatch/proposals/{second['id']}/accept",
                                        json={"revision": 1, "vehicle_ids": [spare]})
        assert assert_error(unknown, 422)["code"] == "unknown_route"  # accepted already
        rejected = await dispatcher.post(f"/api/v1/dispatch/proposals/{second['id']}/reject")
        assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
        closed = await dispatcher.post(f"/api/v1/dispatch/proposals/{second['id']}/accept",
                                       json={"revision": 1})
        assert assert_error(closed, 409)["code"] == "proposal_closed"
    orders = await db.fetch("SELECT vehicle_id, state FROM dispatch_orders")
    assert [(o["vehicle_id"], o["state"]) for o in orders] == [(spare, "assigned")]


async def test_a_request_with_its_own_waiting_order_gets_that_order_assigned(app, client, db):
    await users(db)
    ids = await _queue(app, client, db)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        opened = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": ids["a"]})).json()
        proposal = (await dispatcher.post("/api/v1/dispatch/proposals", json={
            "request_ids": [ids["a"], ids["b"]], "replan_s": 0})).json()
        orders = sorted(o["request_ids"] for r in proposal["routes"] for o in r["orders"])
        assert orders == [[ids["a"]], [ids["b"]]]  # it rides alone: merging would cancel its order
        outcome = (await dispatcher.post(f"/api/v1/dispatch/proposals/{proposal['id']}/accept",
                                         json={"revision": 1})).json()
        assert outcome["refused"] == []
        assert opened["id"] in {o["order_id"] for o in outcome["orders"]}
    rows = await db.fetch("SELECT id, state FROM dispatch_orders ORDER BY id")
    assert len(rows) == 2 and rows[0]["id"] == opened["id"]
    assert {r["state"] for r in rows} == {"assigned"}


async def test_a_new_request_is_inserted_into_the_current_proposal(app, client, db):
    """The background re-plan runs (its revision appears or it ends without a better one) and a
    request approved later joins the proposal it is re-proposed from."""
    await users(db)
    ids = await _queue(app, client, db)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        first = (await dispatcher.post("/api/v1/dispatch/proposals", json={"replan_s": 1})).json()
        assert first["replanning"] is True
        deadline = time.monotonic() + 30
        while True:
            now = (await dispatcher.get(f"/api/v1/dispatch/proposals/{first['id']}")).json()
            if not now["replanning"]:
                break
            assert time.monotonic() < deadline, "the background re-plan did not finish"
            await asyncio.sleep(0.2)
        assert now["revision"] >= 1 and now["totals"]["cost_cny"] <= first["totals"]["cost_cny"]
        late = await _approved(app, client, origin=HALL, destinations=[VENUE],
                               start=START + timedelta(hours=5), hours=2)
        second = (await dispatcher.post("/api/v1/dispatch/proposals", json={
            "base_proposal_id": first["id"], "replan_s": 0})).json()
        planned = {s["request_id"] for r in second["routes"] for s in r["stops"]}
        assert planned == {ids["a"], ids["b"], ids["far"], late["id"]}


async def test_bad_input_is_refused_in_the_one_shape(app, client, db):
    await users(db)
    async with new_client(app) as dispatcher:
        await login(dispatcher, "dispatcher")
        for body in ({"request_ids": [0]}, {"request_ids": [1, 1]}, {"replan_s": 60},
                     {"pins": [{"request_id": 1}]}, {"base_proposal_id": "x"}, {"unknown": 1},
                     {"request_ids": [2**40]}):
            assert_error(await dispatcher.post("/api/v1/dispatch/proposals", json=body), 422)
        missing = "0" * 32
        assert assert_error(await dispatcher.get(f"/api/v1/dispatch/proposals/{missing}"),
                            404)["code"] == "proposal_not_found"
        assert_error(await dispatcher.get("/api/v1/dispatch/proposals/not-an-id"), 422)
        assert_error(await dispatcher.post(f"/api/v1/dispatch/proposals/{missing}/accept",
                                           json={"revision": 0}), 422)
        assert_error(await dispatcher.post(f"/api/v1/dispatch/proposals/{missing}/accept",
                                           json={"revision": 1}), 404)
        assert_error(await dispatcher.post("/api/v1/dispatch/proposals", json={
            "base_proposal_id": missing}), 404)
        empty = (await dispatcher.post("/api/v1/dispatch/proposals", json={
            "request_ids": [999999], "replan_s": 0})).json()
        assert empty["routes"] == [] and empty["unserved"][0]["reason"] == "not_waiting"

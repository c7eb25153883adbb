"""The rental acceptance timeout (domain.md §2): an order its company did not answer by the
deadline goes back to the dispatchers' queue, by one run of the job; an order answered in
time stays as it is; an answer after the timeout is refused.

The app's own job runner would run the job every 15 s in the background: the tests hold the
job's advisory lock (as another web process would) so that only their direct calls run it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_rental_api import company_fleet, company_id, order_event, sent
from tests.integration.test_trip_requests_api import notifications
from tests.integration.web_app import assert_error, login, new_client
from tests.waiting import wait_until
from web import rental_timeouts
from web.jobs import lock_key, platform_jobs, run_once


@pytest.fixture
async def job_held(db) -> AsyncIterator[None]:
    key = lock_key("rental_timeouts")
    await db.execute("SELECT pg_advisory_lock($1)", key)
    yield
    await db.execute("SELECT pg_advisory_unlock($1)", key)


def pool_of(app):
    return app.state.resources.pool


async def past_deadline(db, order_id: int, minutes: int = 1) -> datetime:
    return await db.fetchval(
        "UPDATE dispatch_orders SET rental_deadline = now() - make_interval(mins => $2) "
        "WHERE id = $1 RETURNING rental_deadline", order_id, minutes)


async def test_an_unanswered_order_goes_back_to_the_queue(app, client, db, job_held):
    company = await company_id(db)
    async with new_client(app) as dispatcher:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        late = await sent(app, dispatcher, client, company)
        waiting = await sent(app, dispatcher, client, company, round_trip=False)
    deadline = await past_deadline(db, late["id"])

    returned = await rental_timeouts.return_expired(pool_of(app), datetime.now(UTC))
    assert returned == [late["id"]]  # the other one still has its ten minutes
    row = await db.fetchrow("SELECT * FROM dispatch_orders WHERE id = $1", late["id"])
    assert row["state"] == "created" and row["version"] == late["version"] + 1
    assert [row[c] for c in ("rental_company_id", "price_plan_id", "charter_type", "service_mode",
                             "sent_to_rental_at", "rental_deadline")] == [None] * 6
    event = await db.fetchrow("SELECT * FROM dispatch_order_events WHERE order_id = $1 "
                              "ORDER BY id DESC LIMIT 1", late["id"])
    assert (event["event"], event["from_state"], event["to_state"]) == (
        "rental_timeout", "sent_to_rental", "created")
    assert event["actor_id"] is None and event["note"].startswith("no answer by ")
    assert event["data"]["rental_company_id"] == company
    assert datetime.fromisoformat(event["data"]["deadline"]) == deadline
    [told] = await notifications(db, "dispatcher", "rental_timeout")
    assert told["order_id"] == late["id"]
    request = await db.fetchval("SELECT state FROM trip_requests WHERE id = $1", late["request_id"])
    assert request == "dispatching"  # still waiting for a car
    assert await db.fetchval("SELECT state FROM dispatch_orders WHERE id = $1",
                             waiting["id"]) == "sent_to_rental"
    assert await rental_timeouts.return_expired(pool_of(app), datetime.now(UTC)) == []  # once


async def test_an_order_accepted_in_time_is_left_alone(app, client, db, job_held):
    company = await company_id(db)
    cars, drivers = await company_fleet(db, company)
    async with new_client(app) as dispatcher, new_client(app) as rental:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        order = await sent(app, dispatcher, client, company)
        accepted = await order_event(rental, order, "rental_accept", vehicle_id=cars[0], driver_id=drivers[0])
        assert accepted.status_code == 200, accepted.text
    # long after its deadline, the job finds nothing to do
    later = datetime.fromisoformat(order["rental_deadline"]) + timedelta(hours=1)
    assert await rental_timeouts.return_expired(pool_of(app), later) == []
    row = await db.fetchrow("SELECT state, vehicle_id, rental_company_id FROM dispatch_orders "
                            "WHERE id = $1", order["id"])
    assert dict(row) == {"state": "assigned", "vehicle_id": cars[0], "rental_company_id": company}
    assert await notifications(db, "dispatcher", "rental_timeout") == []


async def test_an_answer_after_the_timeout_is_refused(app, client, db, job_held):
    company = await company_id(db)
    cars, drivers = await company_fleet(db, company)
    async with new_client(app) as dispatcher, new_client(app) as rental:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        order = await sent(app, dispatcher, client, company)
        answer = {"version": order["version"], "vehicle_id": cars[0], "driver_id": drivers[0]}
        await past_deadline(db, order["id"])
        assert await rental_timeouts.return_expired(pool_of(app)) == [order["id"]]

        # the order is back in the queue ('created') and no longer the company's
        late = await rental.post(f"/api/v1/rental/orders/{order['id']}/accept", json=answer)
        error = assert_error(late, 409)
        assert error["code"] == "rental_timed_out" and error["details"]["deadline"]
        late = await rental.post(f"/api/v1/rental/orders/{order['id']}/reject",
                                 json={"version": order["version"], "reason": "来不及"})
        assert assert_error(late, 409)["code"] == "rental_timed_out"
        # through the plain order endpoint the company no longer reaches the order at all
        assert_error(await order_event(rental, order, "rental_accept", vehicle_id=cars[0],
                                       driver_id=drivers[0]), 404)
        # nor may anyone send the system's event
        now = (await dispatcher.get(f"/api/v1/dispatch-orders/{order['id']}")).json()
        assert now["state"] == "created"
        assert assert_error(await order_event(dispatcher, now, "rental_timeout"), 422)["code"] == "not_an_action"


async def test_an_answer_past_the_deadline_before_the_job_ran_is_refused_too(app, client, db, job_held):
    company = await company_id(db)
    cars, drivers = await company_fleet(db, company)
    async with new_client(app) as dispatcher, new_client(app) as rental:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        order = await sent(app, dispatcher, client, company)
        await past_deadline(db, order["id"])
        late = await rental.post(f"/api/v1/rental/orders/{order['id']}/accept", json={
            "version": order["version"], "vehicle_id": cars[0], "driver_id": drivers[0]})
        assert assert_error(late, 409)["code"] == "rental_timed_out"
    # the answer timed the order out on the spot, as the job would have
    assert await db.fetchval("SELECT state FROM dispatch_orders WHERE id = $1", order["id"]) == "created"
    assert len(await notifications(db, "dispatcher", "rental_timeout")) == 1
    assert await rental_timeouts.return_expired(pool_of(app)) == []


async def test_the_job_passes_over_an_order_an_operator_is_answering(app, client, db, job_held):
    """SKIP LOCKED: while the operator's transaction holds the order, the job leaves it; the
    operator's answer then goes through."""
    company = await company_id(db)
    cars, drivers = await company_fleet(db, company)
    async with new_client(app) as dispatcher, new_client(app) as rental:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        await login(rental, "rental1")
        order = await sent(app, dispatcher, client, company)
        later = datetime.fromisoformat(order["rental_deadline"]) + timedelta(seconds=1)
        async with pool_of(app).acquire() as operator, operator.transaction():
            await operator.execute("SELECT 1 FROM dispatch_orders WHERE id = $1 FOR UPDATE", order["id"])
            assert await rental_timeouts.return_expired(pool_of(app), later) == []
        accepted = await order_event(rental, order, "rental_accept", vehicle_id=cars[0], driver_id=drivers[0])
        assert accepted.status_code == 200 and accepted.json()["state"] == "assigned"
    assert await rental_timeouts.return_expired(pool_of(app), later) == []


async def test_the_job_runs_in_the_web_process_under_its_lock(app, client, db):
    [job] = [j for j in platform_jobs() if j.name == "rental_timeouts"]
    assert job.interval_s == rental_timeouts.INTERVAL_S
    company = await company_id(db)
    async with new_client(app) as dispatcher:
        await login(client, "requester")
        await login(dispatcher, "dispatcher")
        order = await sent(app, dispatcher, client, company)
    key = lock_key(job.name)
    await db.execute("SELECT pg_advisory_lock($1)", key)
    await past_deadline(db, order["id"])
    assert await run_once(pool_of(app), job) is None  # another process holds it: skipped
    await db.execute("SELECT pg_advisory_unlock($1)", key)
    # the app's own runner may get there first: either way the order is back, exactly once
    runs: list[object] = []

    async def ran() -> bool:
        runs.append(await run_once(pool_of(app), job))
        return runs[-1] is not None  # None: the app's runner held the lock at that moment

    await wait_until(ran, timeout_s=10)
    assert await db.fetchval("SELECT state FROM dispatch_orders WHERE id = $1", order["id"]) == "created"
    events = await db.fetch("SELECT event FROM dispatch_order_events WHERE order_id = $1 "
                            "AND event = 'rental_timeout'", order["id"])
    assert len(events) == 1

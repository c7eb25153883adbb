"""The demo's dispatch work (`fleet up --demo`, first start): last month for the reports, and
something waiting on every demo account's page; a second start adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from fleet.demo_dispatch import seed_demo_dispatch
from fleet.scenario.load import load_scenario
from tests.integration.web_app import login, new_client

NOW = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)  # 10:30 in Wuhan on a working Tuesday


async def test_every_demo_page_has_work_and_a_second_start_adds_none(app, db):
    counts = await seed_demo_dispatch(db, load_scenario(), NOW)
    assert counts["requests"] == 1500 and counts["open_requests"] == 6
    assert await db.fetchval("SELECT month FROM generated_months") == "2026-11"
    async with new_client(app) as dispatcher, new_client(app) as approver, new_client(app) as driver:
        await login(dispatcher, "dispatcher")
        await login(approver, "approver")
        await login(driver, "driver1")
        queue = (await dispatcher.get("/api/v1/dispatch/queue")).json()
        kinds = sorted(r["trip_type"] for r in queue["requests"])
        assert kinds == ["emergency", "official", "official", "official"]
        assert queue["requests"][0]["trip_type"] == "emergency"  # first in the queue
        assert len(queue["on_the_road"]) == 1
        proposals = (await dispatcher.get("/api/v1/dispatch/carpool-proposals")).json()
        assert len(proposals) == 1
        awaiting = (await approver.get("/api/v1/trip-requests?awaiting_me=true")).json()["items"]
        assert [r["reason"] for r in awaiting if r["state"] == "pending_approval"] == ["赴鄂州市政府商谈区域合作"]
        today = (await driver.get("/api/v1/driver/orders?day=2026-12-01")).json()["orders"]
        assert [o["state"] for o in today] == ["assigned"]
        figures = (await dispatcher.get("/api/v1/reports/figures?month=2026-11&by=city")).json()
        assert figures["rows"] and figures["totals"]["trips"] > 0
    assert await seed_demo_dispatch(db, load_scenario(), NOW) == {}


async def test_the_demo_follows_the_real_policy_and_leaves_no_past_emergency_waiting(app, db):
    night = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)  # 21:30 in Wuhan
    assert (await seed_demo_dispatch(db, load_scenario(), night))["open_requests"] == 6
    # the province's emergency policy adds no level, at night neither
    emergency = await db.fetchrow(
        "SELECT approval_levels, approval_reasons, state FROM trip_requests "
        "WHERE trip_type = 'emergency' AND planned_start >= $1", night)
    assert (emergency["approval_levels"], emergency["approval_reasons"], emergency["state"]) == (
        1, [], "dispatching")
    late_night = await db.fetchrow("SELECT approval_levels, approval_reasons, state FROM trip_requests "
                                   "WHERE reason = '陪同上级检查组'")
    assert (late_night["approval_levels"], late_night["approval_reasons"]) == (2, ["night"])
    [assigned] = await db.fetch(
        "SELECT n.data FROM notifications n JOIN users u ON u.id = n.user_id "
        "WHERE u.username = 'driver1' AND n.kind = 'order_assigned'")
    data = assigned["data"]
    assert set(data) == {"order_id", "request_ids", "plate", "driver_name", "planned_start"}
    assert data["plate"] and data["driver_name"] and len(data["request_ids"]) == 1
    # last month's emergencies were all approved in the end: none waits in a queue
    assert await db.fetchval(
        "SELECT count(*) FROM trip_requests WHERE trip_type = 'emergency' AND planned_start < $1 "
        "AND emergency_approved IS NOT TRUE", night) == 0
    async with new_client(app) as leader:
        await login(leader, "leader")
        waiting = (await leader.get("/api/v1/trip-requests?awaiting_me=true&limit=500")).json()["items"]
    assert all(datetime.fromisoformat(r["planned_start"]) >= night for r in waiting), waiting

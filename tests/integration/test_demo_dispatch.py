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

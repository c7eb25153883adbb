"""The optimizer's proposal (方案) in the dispatcher's console, in Chromium: the dispatcher
clicks 智能方案, sees the routes on the map (a polyline per car, numbered stops) with cost, km,
shared rides and the request no car can take with its reason; pins another car to a trip and
proposes again; accepts one car's route, then the rest; the dispatch orders appear on the road
and in PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.db import connect
from tests.e2e.browser import CHROMIUM, launch, log_in, new_page, serve_web
from tests.e2e.test_dispatch_console_browser import EZHOU, HALL, NEAR_HALL, approved

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


async def test_dispatcher_proposes_sees_routes_and_accepts(databases, services, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    database_url = await databases.create(template=await databases.template("seeded"))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
    pending: list[int] = []
    errors: list[str] = []
    with serve_web(database_url, services.redis_url, f"op{int(time.time() * 1000)}") as base_url:
        pair = [approved(base_url, pending.append, tomorrow + timedelta(minutes=m), origin=o,
                         carpool_allowed=True) for o, m in ((HALL, 0), (NEAR_HALL, 10))]
        far = approved(base_url, pending.append, tomorrow + timedelta(hours=1), destinations=[EZHOU])
        crowd = approved(base_url, pending.append, tomorrow + timedelta(hours=2), passengers=[],
                         passenger_count=60)
        db = await connect(database_url)
        try:
            await db.execute("UPDATE trip_requests SET state = 'approved', approved_levels = approval_levels "
                             "WHERE id = ANY($1::int[])", pending)
            async with playwright_api.async_playwright() as playwright:
                browser = await launch(playwright)
                page = await new_page(browser, errors)
                try:
                    await log_in(page, base_url, "dispatcher")
                    await _propose_and_accept(page, expect, output_dir, pair, far, crowd)
                finally:
                    await page.screenshot(path=str(output_dir / "optimizer-console-last.png"))
                    await browser.close()
            orders = await db.fetch(
                """SELECT d.vehicle_id, d.driver_id, d.state,
                          array_agg(x.request_id ORDER BY x.request_id) AS ids
                   FROM dispatch_orders d JOIN dispatch_order_requests x ON x.order_id = d.id
                   GROUP BY d.id ORDER BY d.id""")
        finally:
            await db.close()
    assert errors == [], errors
    assert sorted(tuple(o["ids"]) for o in orders) == sorted([tuple(sorted(pair)), (far,)])
    assert all(o["state"] == "assigned" and o["driver_id"] for o in orders)


async def _propose_and_accept(page, expect, output_dir: Path, pair: list[int], far: int,
                              crowd: int) -> None:
    await page.get_by_test_id("mode-dispatch").click()
    queue = page.get_by_test_id("dispatch-pane")
    await expect(queue.get_by_test_id("queue-item")).to_have_count(4)
    await queue.get_by_test_id("propose-button").click()
    panel = page.get_by_test_id("proposal-panel")
    await expect(panel).to_have_attribute("data-state", "loaded")
    routes = panel.get_by_test_id("proposal-route")
    await expect(routes).to_have_count(2)
    drawn = await page.evaluate("window.__console.proposal()")
    assert drawn["routes"] == 2 and drawn["stops"] >= 6  # a polyline per car, numbered stops
    await expect(page.locator(".proposal-stop")).to_have_count(drawn["stops"])
    shared = panel.locator("[data-testid=proposal-order]", has=page.get_by_test_id("shared-tag"))
    await expect(shared).to_have_attribute("data-request-ids", ",".join(map(str, sorted(pair))))
    await expect(panel.get_by_test_id("total-vehicles")).to_have_text("2")
    await expect(panel.get_by_test_id("total-shared")).to_have_text("1")
    await expect(panel.get_by_test_id("total-cost")).to_contain_text("¥")
    left_out = panel.get_by_test_id("unserved-item")
    await expect(left_out).to_have_count(1)
    await expect(left_out).to_have_attribute("data-request-id", str(crowd))
    await expect(left_out).to_have_attribute("data-reason", "no_vehicle")
    await expect(left_out).to_contain_text("没有可承运的车辆")
    await page.screenshot(path=str(output_dir / "optimizer-1-proposal.png"))

    # pin another car to the cross-city trip and propose again
    far_route = routes.filter(has=page.locator(f"[data-testid=proposal-order][data-request-ids='{far}']"))
    before = await far_route.locator(".plate").inner_text()
    await far_route.get_by_test_id("pin-button").click()
    choice = far_route.get_by_test_id("pin-select")
    await expect(choice).to_be_visible()  # the cars that may take it, fetched on the click
    labels = await choice.locator("option").all_inner_texts()
    other = next(label for label in labels[1:] if not label.startswith(before))
    first_id = (await page.evaluate("window.__console.proposal()"))["id"]
    await choice.select_option(label=other)
    await page.wait_for_function("id => window.__console.proposal()?.id !== id", arg=first_id)
    await expect(routes).to_have_count(2)
    await expect(far_route.locator(".plate")).to_have_text(other.split(" · ")[0])
    await expect(far_route.get_by_test_id("pinned-tag")).to_be_visible()
    await page.screenshot(path=str(output_dir / "optimizer-1b-pinned.png"))

    # accept one car's route (the shared ride), then the rest
    shared_route = routes.filter(has=page.get_by_test_id("shared-tag"))
    plate = await shared_route.locator(".plate").inner_text()
    await shared_route.get_by_test_id("route-select").check()
    await panel.get_by_test_id("proposal-accept-some").click()
    outcome = panel.get_by_test_id("proposal-outcome")
    await expect(outcome).to_contain_text("已生成派车单 1 张")
    await expect(page.get_by_test_id("toast")).to_be_visible()
    await expect(queue.get_by_test_id("road-order")).to_have_count(1)
    await expect(queue.get_by_test_id("road-order")).to_contain_text(plate)
    await panel.get_by_test_id("proposal-accept-all").click()
    await expect(outcome).to_contain_text("已生成派车单 1 张")
    await expect(panel.get_by_test_id("proposal-sub")).to_contain_text("已接受")
    await expect(queue.get_by_test_id("road-order")).to_have_count(2)
    await expect(queue.get_by_test_id("queue-item")).to_have_count(1)  # the party of 60
    await page.screenshot(path=str(output_dir / "optimizer-2-accepted.png"))

    await page.get_by_test_id("lang-toggle").click()
    await expect(panel.get_by_test_id("proposal-title")).to_have_text("Proposal")
    await expect(panel.get_by_test_id("proposal-accept-all")).to_have_text("Accept all")
    await expect(left_out).to_contain_text("no vehicle may carry it")
    await page.screenshot(path=str(output_dir / "optimizer-3-english.png"))

"""The dispatcher's side of the console in Chromium: the queue, a request's route on the map,
the cars that can go (best first, with a driver each), assignment in two clicks, a carpool
merge, sending to a rental company, and the orders on the road."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fleet.db import connect
from tests.e2e.browser import CHROMIUM, launch, log_in, new_page, serve_web
from tests.integration.web_app import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

HALL = {"name": "市政府", "lat": 30.5928, "lon": 114.3055, "city_code": "420100"}
NEAR_HALL = {"name": "江汉路", "lat": 30.5870, "lon": 114.2960, "city_code": "420100"}
VENUE = {"name": "洪山礼堂", "lat": 30.5440, "lon": 114.3300, "city_code": "420100"}
EZHOU = {"name": "鄂州市政府", "lat": 30.3908, "lon": 114.8950, "city_code": "420700"}


def approved(base_url: str, db_url_approve, start: datetime, **extra) -> int:
    """A request filed by the requester and approved (the chain is tested elsewhere)."""
    with httpx.Client(base_url=base_url, timeout=10) as requester:
        requester.post("/api/v1/auth/login", json={"username": "requester", "password": PASSWORD})
        body = {"trip_type": "official", "reason": "调研", "passengers": ["张三"], "passenger_count": 1,
                "planned_start": start.isoformat(),
                "planned_end": (start + timedelta(hours=3)).isoformat(),
                "origin": HALL, "destinations": [VENUE], **extra}
        created = requester.post("/api/v1/trip-requests", json=body)
        assert created.status_code == 201, created.text
        r = created.json()
        r = requester.post(f"/api/v1/trip-requests/{r['id']}/events",
                           json={"event": "submit", "version": r["version"]}).json()
    db_url_approve(r["id"])
    return r["id"]


async def test_dispatcher_assigns_merges_and_sends_to_a_company(databases, services, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    database_url = await databases.create(template=await databases.template("seeded"))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
    pending: list[int] = []
    errors: list[str] = []
    with serve_web(database_url, services.redis_url, f"dc{int(time.time() * 1000)}") as base_url:
        single = approved(base_url, pending.append, tomorrow)
        pair = [approved(base_url, pending.append, tomorrow + timedelta(hours=2), origin=o,
                         carpool_allowed=True) for o in (HALL, NEAR_HALL)]
        far = approved(base_url, pending.append, tomorrow + timedelta(hours=4), destinations=[EZHOU])
        db = await connect(database_url)
        try:
            await db.execute("UPDATE trip_requests SET state = 'approved', approved_levels = approval_levels "
                             "WHERE id = ANY($1::int[])", pending)
        finally:
            await db.close()
        async with playwright_api.async_playwright() as playwright:
            browser = await launch(playwright)
            page = await new_page(browser, errors)
            try:
                await log_in(page, base_url, "dispatcher")
                await _dispatch(page, expect, output_dir, single, pair, far)
            finally:
                await page.screenshot(path=str(output_dir / "dispatch-console-last.png"))
                await browser.close()
    assert errors == [], errors


async def _dispatch(page, expect, output_dir: Path, single: int, pair: list[int], far: int) -> None:
    await expect(page.get_by_test_id("mode-tabs")).to_be_visible()
    await expect(page.get_by_test_id("dispatch-count")).to_have_text("4")
    await page.get_by_test_id("mode-dispatch").click()
    queue = page.get_by_test_id("dispatch-pane")
    await expect(queue).to_have_attribute("data-state", "loaded")
    await expect(queue.get_by_test_id("queue-item")).to_have_count(4)
    proposal = queue.get_by_test_id("carpool-proposal")
    await expect(proposal).to_have_count(1)
    await expect(proposal).to_have_attribute("data-request-ids", ",".join(map(str, pair)))

    # Click 1: the request. Its route is drawn, the cars that can go are listed best first.
    await queue.locator(f"[data-testid=queue-item][data-request-id='{single}']").click()
    panel = page.get_by_test_id("assign-panel")
    await expect(panel).to_have_attribute("data-state", "loaded")
    assert await page.evaluate("window.__console.routePoints()") == 3  # 起 → 终 → back
    cars = panel.get_by_test_id("candidate-car")
    assert await cars.count() >= 3
    first = cars.first
    plate = await first.locator(".plate").inner_text()
    await expect(panel.get_by_test_id("refused-cars")).to_be_visible()  # with their reasons
    await expect(panel.get_by_test_id("rental-company").first).to_be_visible()
    await page.screenshot(path=str(output_dir / "dispatch-1-candidates.png"))

    # Click 2: 派车 on the best car, with its suggested driver.
    await first.get_by_test_id("assign-car").click()
    await expect(page.get_by_test_id("toast")).to_contain_text(plate)
    await expect(panel).to_be_hidden()
    await expect(queue.get_by_test_id("queue-item")).to_have_count(3)
    await expect(queue.get_by_test_id("road-order")).to_have_count(1)
    await expect(queue.get_by_test_id("road-order")).to_contain_text(plate)

    # 改派: another car for it before it leaves (the driver has not accepted yet).
    road = queue.get_by_test_id("road-order")
    await road.get_by_test_id("change-car-button").click()
    await expect(panel).to_have_attribute("data-state", "loaded")
    await expect(panel.get_by_test_id("assign-title")).to_contain_text("改派")
    await expect(panel.get_by_test_id("rental-company")).to_have_count(0)
    other = panel.get_by_test_id("candidate-car").first
    other_plate = await other.locator(".plate").inner_text()
    assert other_plate != plate  # its own car is booked by itself now
    await other.get_by_test_id("assign-car").click()
    await expect(page.get_by_test_id("toast")).to_contain_text(other_plate)
    await expect(road).to_contain_text(other_plate)

    # The carpool proposal: merged into one order, then assigned from its queue card.
    await proposal.get_by_test_id("merge-button").click()
    await expect(panel).to_have_attribute("data-state", "loaded")
    await expect(queue.get_by_test_id("carpool-proposal")).to_have_count(0)
    await panel.get_by_test_id("candidate-car").first.get_by_test_id("assign-car").click()
    await expect(page.get_by_test_id("toast")).to_be_visible()
    await expect(queue.get_by_test_id("queue-item")).to_have_count(1)
    await expect(queue.get_by_test_id("road-order")).to_have_count(2)

    # The cross-city request goes to a rental company (整日 charter).
    await queue.locator(f"[data-testid=queue-item][data-request-id='{far}']").click()
    await expect(panel).to_have_attribute("data-state", "loaded")
    company = panel.get_by_test_id("rental-company").first
    await company.get_by_test_id("charter-select").select_option("full_day")
    await company.get_by_test_id("send-rental").click()
    await expect(queue.get_by_test_id("rental-waiting-item")).to_have_count(1)
    await expect(queue.get_by_test_id("rental-waiting-item")).to_contain_text("09:")  # ~10 min countdown
    await page.screenshot(path=str(output_dir / "dispatch-2-queue.png"))

    # Taken back from the company (取消, confirmed): the request waits for a car again.
    page.once("dialog", lambda dialog: dialog.accept())
    await queue.get_by_test_id("rental-waiting-item").get_by_test_id("cancel-order").click()
    await expect(queue.get_by_test_id("rental-waiting-item")).to_have_count(0)
    await expect(queue.locator(f"[data-testid=queue-item][data-request-id='{far}']")).to_have_count(1)

    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("mode-dispatch")).to_contain_text("Dispatch")
    await expect(queue.get_by_test_id("dq-road")).to_contain_text("Orders on the road")
    await page.screenshot(path=str(output_dir / "dispatch-3-english.png"))

"""The dispatch workflow end to end in Debian's Chromium, each person in their own browser
context on the same running web app (a fresh seeded database):

1. the requester files an in-city request on /requests, placing both stops on the map;
2. the unit's approver approves it on /approvals;
3. the dispatcher assigns it on the console in two clicks (the request, then 派车 on a car
   with driver1 chosen);
4. driver1, on a phone-sized screen (390×844), accepts and carries it out on /driver: depart
   with the odometer, at the pickup, in service, end, return with the odometer and costs;
5. the requester confirms and rates it.

Screenshots are saved as test-output/workflow-*.png. The CSP stays on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dispatch.calendar import is_working_day
from fleet.db import connect
from tests.e2e.browser import (
    CHROMIUM,
    PHONE,
    Site,
    launch,
    log_in,
    new_page,
    seeded_site,
)
from tests.e2e.test_requests_browser import click_map_at, zoom_out_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

CITY_HALL = (30.5900, 114.2990)  # 武汉市人民政府
HONGSHAN = (30.5050, 114.3430)  # 洪山, across the Yangtze: same city, one approval level


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture(scope="module")
async def site(databases, services) -> AsyncIterator[Site]:
    async with seeded_site(databases, services, "wf") as served:
        yield served


async def test_request_approve_dispatch_drive_confirm(site: Site, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    db = await connect(site.database_url)
    try:
        driver1 = await db.fetchval(
            "SELECT d.id FROM drivers d JOIN users u ON u.id = d.user_id WHERE u.username = 'driver1'")
        async with playwright_api.async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                request_id = await _requester_files(browser, site, output_dir, expect, errors)
                await _approver_approves(browser, site, "approver", request_id, output_dir, expect, errors)
                if not is_working_day(today()):  # a rest day's trip adds a level (节假日)
                    await _approver_approves(browser, site, "leader", request_id, output_dir, expect, errors)
                plate = await _dispatcher_assigns(browser, site, request_id, driver1, output_dir,
                                                  expect, errors)
                await _driver_carries_out(browser, site, plate, output_dir, expect, errors)
                await _requester_confirms(browser, site, request_id, output_dir, expect, errors)
            finally:
                await browser.close()
        order = await db.fetchrow(
            """SELECT d.state, d.rating, d.odometer_start_km, d.odometer_end_km, d.tolls_cny,
                      d.billed_km, r.state AS request_state
               FROM dispatch_orders d JOIN trip_requests r ON r.id = d.request_id
               WHERE d.request_id = $1""", request_id)
        events = [r["event"] for r in await db.fetch(
            """SELECT e.event FROM dispatch_order_events e JOIN dispatch_orders d ON d.id = e.order_id
               WHERE d.request_id = $1 ORDER BY e.id""", request_id)]
    finally:
        await db.close()
    assert errors == [], errors  # no script errors, no CSP violations
    assert (order["state"], order["rating"], order["request_state"]) == ("rated", 5, "completed")
    assert (order["odometer_start_km"], order["odometer_end_km"]) == (23456.0, 23488.5)
    assert float(order["billed_km"]) == 32.5 and float(order["tolls_cny"]) == 15.0
    assert events == ["assign", "driver_accept", "depart", "arrive_pickup", "start_service",
                      "end_service", "return", "confirm", "rate"]


async def _requester_files(browser, site: Site, output_dir: Path, expect, errors) -> int:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, "requester", landing="/requests")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    form = page.get_by_test_id("request-form")
    await form.get_by_test_id("rf-trip-type").select_option("meeting")
    await form.get_by_test_id("rf-reason").fill("参加全市安全生产工作会议")
    await form.get_by_test_id("rf-passengers").fill("王强，刘洋")
    await form.get_by_test_id("rf-passenger-count").fill("2")
    day = today().isoformat()  # today's trip: the driver's page opens on today
    await form.get_by_test_id("rf-start").fill(f"{day}T09:00")
    await form.get_by_test_id("rf-end").fill(f"{day}T12:00")
    await form.get_by_test_id("rf-contact-phone").fill("13900002222")
    await zoom_out_to(page, 9)
    await click_map_at(page, *CITY_HALL)
    await click_map_at(page, *HONGSHAN)
    origin = form.locator("[data-testid=place-row][data-role=origin]")
    destination = form.locator("[data-testid=place-row][data-role=destination]")
    await expect(origin.get_by_test_id("place-city")).to_have_text("武汉")
    await expect(destination.get_by_test_id("place-city")).to_have_text("武汉")
    await origin.get_by_test_id("place-name").fill("武汉市人民政府")
    await destination.get_by_test_id("place-name").fill("洪山礼堂")
    await page.screenshot(path=str(output_dir / "workflow-1-requester-files.png"))
    await form.get_by_test_id("rf-submit").click()
    outcome = form.get_by_test_id("rf-outcome")
    await expect(outcome).to_have_attribute("data-state", "pending")
    # in-city on a working day: the unit's approver alone; on a rest day the leader too
    await expect(outcome).to_have_attribute("data-levels", "1" if is_working_day(today()) else "2")
    request_id = int(await outcome.get_attribute("data-request-id"))
    item = page.locator(f"[data-testid=request-item][data-request-id='{request_id}']")
    await expect(item.get_by_test_id("request-state")).to_have_text("待审批")
    await page.context.close()
    return request_id


async def _approver_approves(browser, site: Site, username: str, request_id: int, output_dir: Path,
                             expect, errors) -> None:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, username, landing="/approvals")
    item = page.locator(f"[data-testid=approval-item][data-request-id='{request_id}']")
    await item.click()
    detail = page.get_by_test_id("approval-detail")
    await expect(detail).to_have_attribute("data-request-id", str(request_id))
    await expect(detail.get_by_test_id("approval-stop")).to_have_count(2)
    await page.screenshot(path=str(output_dir / f"workflow-2-{username}.png"))
    await detail.get_by_test_id("approval-approve").click()
    await expect(detail.get_by_test_id("approval-message")).to_have_attribute("data-state", "done")
    await expect(item).to_have_count(0)
    await page.context.close()


async def _dispatcher_assigns(browser, site: Site, request_id: int, driver_id: int, output_dir: Path,
                              expect, errors) -> str:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, "dispatcher")
    await page.get_by_test_id("mode-dispatch").click()
    card = page.locator(f"[data-testid=queue-item][data-request-id='{request_id}']")
    await card.click()  # click 1: the request
    panel = page.get_by_test_id("assign-panel")
    await expect(panel).to_have_attribute("data-state", "loaded")
    best = panel.get_by_test_id("candidate-car").first
    plate = await best.locator(".plate").inner_text()
    await best.get_by_test_id("driver-select").select_option(str(driver_id))
    await page.screenshot(path=str(output_dir / "workflow-3-dispatcher.png"))
    await best.get_by_test_id("assign-car").click()  # click 2: 派车
    await expect(page.get_by_test_id("toast")).to_contain_text(plate)
    await expect(card).to_have_count(0)
    road = page.get_by_test_id("road-order")
    await expect(road).to_have_count(1)
    await expect(road).to_contain_text(plate)
    await page.screenshot(path=str(output_dir / "workflow-4-dispatched.png"))
    await page.context.close()
    return plate


async def _driver_carries_out(browser, site: Site, plate: str, output_dir: Path, expect, errors) -> None:
    page = await new_page(browser, errors, viewport=PHONE, mobile=True)
    await log_in(page, site.base_url, "driver1", landing="/driver")
    await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    card = page.get_by_test_id("order-card")
    await expect(card).to_have_count(1)
    await expect(card.get_by_test_id("plate")).to_have_text(plate)
    await expect(card.get_by_test_id("stop-dropoff")).to_contain_text("洪山礼堂")
    notice = page.locator("[data-testid=order-notice][data-kind=order_assigned]")
    if await notice.count():
        await notice.get_by_test_id("notice-ack").click()
    await page.screenshot(path=str(output_dir / "workflow-5-driver-new-order.png"))
    step = card.get_by_test_id("step")
    await step.click()  # 接单
    await expect(card.get_by_test_id("state")).to_have_text("已接单")
    await step.click()  # 出车
    await page.get_by_test_id("field-odometer_km").fill("23456")
    await page.get_by_test_id("sheet-submit").click()
    await expect(card.get_by_test_id("state")).to_have_text("已出车")
    for state in ("已到上车点", "服务中", "服务结束"):
        await step.click()
        await expect(card.get_by_test_id("state")).to_have_text(state)
    await page.screenshot(path=str(output_dir / "workflow-6-driver-in-service.png"))
    await step.click()  # 还车
    await page.get_by_test_id("field-odometer_km").fill("23488.5")
    await page.get_by_test_id("field-tolls_cny").fill("15")
    await page.get_by_test_id("field-parking_cny").fill("8")
    await page.screenshot(path=str(output_dir / "workflow-7-driver-return.png"))
    await page.get_by_test_id("sheet-submit").click()
    await expect(card.get_by_test_id("state")).to_have_text("已还车")
    await expect(card.get_by_test_id("finished")).to_contain_text("行驶 32.5 km")
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the driver's page is wider than the phone: {width}"
    await page.screenshot(path=str(output_dir / "workflow-8-driver-returned.png"))
    await page.context.close()


async def _requester_confirms(browser, site: Site, request_id: int, output_dir: Path, expect, errors) -> None:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, "requester", landing="/requests")
    item = page.locator(f"[data-testid=request-item][data-request-id='{request_id}']")
    await expect(item.get_by_test_id("request-state")).to_have_text("已完成")
    await item.get_by_test_id("request-toggle").click()
    order = item.get_by_test_id("order-item")
    await expect(order.get_by_test_id("order-state")).to_have_text("已回场")
    await order.get_by_test_id("order-confirm").click()
    await expect(order.get_by_test_id("order-state")).to_have_text("已确认")
    await order.locator("[data-testid=rating-star][data-value='5']").click()
    await order.get_by_test_id("order-feedback").fill("准时，路线熟悉")
    await order.get_by_test_id("order-rate-submit").click()
    await expect(order.get_by_test_id("order-state")).to_have_text("已评价")
    await page.screenshot(path=str(output_dir / "workflow-9-requester-confirms.png"))
    await page.context.close()

"""The rental company's page (租赁接单) in Debian's Chromium.

Orders are set up through the API of the served app (a requester files, the approver approves,
the dispatcher sends each order to the first rental company); then the company's operator
logs in, lands on /rental, sees the orders with their countdowns, accepts one with a car and a
driver from the chooser (cars that do not fit are shown with the reason and cannot be picked),
finds it under 已接单, and rejects another with a reason. The same page on a phone screen."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import CHROMIUM, PHONE, launch, log_in, new_page, serve_web
from tests.integration.test_trip_requests_api import body
from tests.integration.web_app import login
from tests.trip_dates import working_day_at

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

CST = timezone(timedelta(hours=8))
START = working_day_at(9)  # the next working day


@dataclass(frozen=True)
class Served:
    base_url: str
    company_id: int
    plates: dict[int, str]  # the company's cars


async def send_order(base_url: str, company_id: int, passengers: int, hour: int = 9, hours: int = 6) -> int:
    """A request filed, approved and sent to the company as an order; the order's id."""
    async with (httpx.AsyncClient(base_url=base_url) as requester,
                httpx.AsyncClient(base_url=base_url) as approver,
                httpx.AsyncClient(base_url=base_url) as dispatcher):
        for client, name in ((requester, "requester"), (approver, "approver"), (dispatcher, "dispatcher")):
            await login(client, name)
        start = START.replace(hour=hour)
        request = (await requester.post("/api/v1/trip-requests", json=body(
            start=start, hours=hours, passenger_count=passengers,
            passengers=[f"乘客{i}" for i in range(passengers)], contact_phone="13800000000"))).json()
        request = (await requester.post(f"/api/v1/trip-requests/{request['id']}/events",
                                        json={"event": "submit", "version": request["version"]})).json()
        approved = await approver.post(f"/api/v1/trip-requests/{request['id']}/events",
                                       json={"event": "approve", "version": request["version"]})
        assert approved.json()["state"] == "approved", approved.text
        order = (await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})).json()
        sent = await dispatcher.post(f"/api/v1/dispatch-orders/{order['id']}/events", json={
            "event": "send_to_rental", "version": order["version"], "rental_company_id": company_id,
            "charter_type": "full_day", "service_mode": "with_driver"})
        assert sent.status_code == 200, sent.text
        return order["id"]


async def order_as_dispatcher(base_url: str, order_id: int) -> tuple[dict, list[dict]]:
    async with httpx.AsyncClient(base_url=base_url) as dispatcher:
        await login(dispatcher, "dispatcher")
        order = (await dispatcher.get(f"/api/v1/dispatch-orders/{order_id}")).json()
        events = (await dispatcher.get(f"/api/v1/dispatch-orders/{order_id}/events")).json()
        return order, events


@pytest.fixture(scope="module")
async def served(databases, services) -> AsyncIterator[Served]:
    from fleet.db import connect

    database_url = await databases.create(template=await databases.template("seeded"))
    db = await connect(database_url)
    try:
        company_id = await db.fetchval("SELECT rental_company_id FROM users WHERE username = 'rental1'")
        plates = {r["id"]: r["plate"] for r in await db.fetch(
            "SELECT id, plate FROM vehicles WHERE rental_company_id = $1", company_id)}
    finally:
        await db.close()
    with serve_web(database_url, services.redis_url, f"rt{int(time.time() * 1000)}") as base_url:
        yield Served(base_url, company_id, plates)


async def test_operator_accepts_one_order_and_rejects_another(served, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    to_accept = await send_order(served.base_url, served.company_id, passengers=5)
    to_reject = await send_order(served.base_url, served.company_id, passengers=2, hour=14, hours=4)
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        page = await new_page(browser, errors)
        try:
            await log_in(page, served.base_url, "rental1", landing="/rental")
            await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
            await expect(page.get_by_test_id("nav-rental")).to_have_attribute("aria-current", "page")
            await expect(page.get_by_test_id("company-name")).to_contain_text("江城")
            await expect(page.get_by_test_id("count-waiting")).to_have_text("2")
            await expect(page.get_by_test_id("notice")).to_have_count(2)
            await expect(page.get_by_test_id("notice").first).to_contain_text("新订单待接单")
            card = page.locator(f"[data-testid=order-card][data-order-id='{to_accept}']")
            await expect(card.get_by_test_id("order-state")).to_have_text("待接单")
            await expect(card.get_by_test_id("order-passengers")).to_have_text("5 人")
            await expect(card.get_by_test_id("order-route")).to_contain_text("武汉 · 市政府")
            await expect(card.get_by_test_id("order-terms")).to_have_text("整日租（8 小时） · 车+驾")
            await expect(card.get_by_test_id("order-plan")).to_contain_text("商务车 · 基价 ¥")
            value = card.get_by_test_id("countdown-value")
            await expect(value).to_have_text(re.compile(r"^(09|10):\d\d$"))  # ten minutes to answer
            first = await value.inner_text()
            await expect(value).not_to_have_text(first)  # it counts down
            await page.screenshot(path=str(output_dir / "rental-waiting.png"), full_page=True)

            # 接单: the chooser offers the cars that fit (5 passengers: not the sedans)
            await page.get_by_test_id("notices-dismiss").click()
            await expect(page.get_by_test_id("notices")).to_be_hidden()
            await card.get_by_test_id("accept-button").click()
            dialog = page.get_by_test_id("accept-dialog")
            await expect(dialog).to_be_visible()
            fitting = dialog.locator("[data-testid=car-option][data-fits=true]")
            await expect(fitting.first).to_be_visible()
            unfit = dialog.locator("[data-testid=car-option][data-fits=false]")
            await expect(unfit.first).to_contain_text("座位不足")
            await expect(unfit.first.locator("input")).to_be_disabled()
            await expect(dialog.get_by_test_id("accept-confirm")).to_be_disabled()
            car_id = int(await fitting.first.get_attribute("data-id"))
            await fitting.first.click()
            await dialog.locator("[data-testid=driver-option][data-fits=true]").first.click()
            await page.screenshot(path=str(output_dir / "rental-accept-chooser.png"))
            await dialog.get_by_test_id("accept-confirm").click()
            await expect(dialog).to_be_hidden()
            await expect(page.get_by_test_id("toast")).to_contain_text(f"已接单 #{to_accept}")
            await expect(page.get_by_test_id("count-waiting")).to_have_text("1")
            await expect(page.get_by_test_id("count-accepted")).to_have_text("1")

            await page.get_by_test_id("tab-accepted").click()
            held = page.locator(f"[data-testid=order-card][data-order-id='{to_accept}']")
            await expect(held.get_by_test_id("order-state")).to_have_text("已接单")
            await expect(held.get_by_test_id("order-vehicle")).to_contain_text(served.plates[car_id])
            await expect(held.get_by_test_id("order-contact")).to_contain_text("13800000000")
            await page.screenshot(path=str(output_dir / "rental-accepted.png"), full_page=True)

            # 拒单 with a reason
            await page.get_by_test_id("tab-waiting").click()
            other = page.locator(f"[data-testid=order-card][data-order-id='{to_reject}']")
            await other.get_by_test_id("reject-button").click()
            reject = page.get_by_test_id("reject-dialog")
            await expect(reject.get_by_test_id("reject-confirm")).to_be_disabled()
            await reject.get_by_test_id("reject-chip").first.click()
            await reject.get_by_test_id("reject-reason").fill("该时段车辆已满，建议改派其他公司")
            await page.screenshot(path=str(output_dir / "rental-reject.png"))
            await reject.get_by_test_id("reject-confirm").click()
            await expect(reject).to_be_hidden()
            await expect(page.get_by_test_id("count-waiting")).to_have_text("0")
            await expect(page.get_by_test_id("orders-empty")).to_be_visible()
            await page.get_by_test_id("tab-history").click()
            row = page.locator(f"[data-testid=declined-row][data-order-id='{to_reject}']")
            await expect(row.get_by_test_id("declined-event")).to_have_text("已拒单")
            await expect(row.get_by_test_id("declined-note")).to_have_text("该时段车辆已满，建议改派其他公司")
            await page.screenshot(path=str(output_dir / "rental-history.png"), full_page=True)

            # English
            await page.get_by_test_id("lang-toggle").click()
            await expect(page.get_by_test_id("tab-waiting")).to_contain_text("To answer")
            await expect(row.get_by_test_id("declined-event")).to_have_text("Rejected")
            await page.get_by_test_id("tab-accepted").click()
            await expect(held.get_by_test_id("order-terms")).to_have_text("Full day (8 h) · car + driver")
            await page.screenshot(path=str(output_dir / "rental-en.png"), full_page=True)
            await page.get_by_test_id("lang-toggle").click()
        finally:
            await page.screenshot(path=str(output_dir / "rental-last.png"))
            await browser.close()
    assert errors == [], errors

    accepted, _ = await order_as_dispatcher(served.base_url, to_accept)
    assert accepted["state"] == "assigned" and accepted["vehicle_id"] == car_id
    rejected, history = await order_as_dispatcher(served.base_url, to_reject)
    assert rejected["state"] == "created" and rejected["rental_company_id"] is None
    assert (history[-1]["event"], history[-1]["note"]) == ("rental_reject", "该时段车辆已满，建议改派其他公司")


async def test_the_page_on_a_phone(served, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    # in the window of the order accepted above (if it ran): its car shows as booked then
    order_id = await send_order(served.base_url, served.company_id, passengers=1, hour=10, hours=3)
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        page = await new_page(browser, errors, viewport=PHONE, mobile=True)
        try:
            await log_in(page, served.base_url, "rental1", landing="/rental")
            card = page.locator(f"[data-testid=order-card][data-order-id='{order_id}']")
            await expect(card.get_by_test_id("countdown-value")).to_have_text(re.compile(r"^\d\d:\d\d$"))
            await page.screenshot(path=str(output_dir / "rental-phone.png"), full_page=True)
            wide = await page.evaluate(
                "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right"
                f" > {PHONE['width']} + 1).map((e) => e.dataset.testid || e.className || e.tagName)")
            assert wide == [], wide  # nothing sticks out sideways
            box = await card.get_by_test_id("accept-button").bounding_box()
            assert box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 30
            await card.get_by_test_id("accept-button").click()
            dialog = page.get_by_test_id("accept-dialog")
            await expect(dialog.locator("[data-testid=car-option]").first).to_be_visible()
            sheet = await dialog.bounding_box()
            assert sheet["width"] >= PHONE["width"] - 2  # a full-screen sheet
            await page.screenshot(path=str(output_dir / "rental-phone-chooser.png"))
            await dialog.get_by_test_id("accept-cancel").click()
            await expect(dialog).to_be_hidden()
        finally:
            await browser.close()
    assert errors == [], errors

"""The requester's and the approvers' pages in Debian's Chromium: a requester files a cross-city
request on the map picker (a click outside the nine cities is refused; each stop shows its
detected city), submits it and is told it needs two levels; the unit's approver decides level
1 on /approvals, the city's leader level 2; the requester sees 已批准. Both pages in English,
and on a phone-sized screen. The web app runs alone on a fresh seeded database."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
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
    serve_web,
)
from tests.e2e.test_console_browser import poll
from tests.integration.web_app import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

WUHAN_GOV = (30.5900, 114.2990)  # origin, in 武汉
EZHOU_GOV = (30.3960, 114.8900)  # destination, in 鄂州
XINYANG = (31.9000, 114.3000)  # Henan: outside the service area


@pytest.fixture(scope="module")
async def site(databases, services) -> AsyncIterator[Site]:
    async with seeded_site(databases, services, "rq") as served:
        yield served


def trip_day() -> date:
    """A working day a few days ahead, so that the trip needs no holiday level."""
    day = date.today() + timedelta(days=3)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


async def click_map_at(page, lat: float, lon: float) -> None:
    map_box = await page.get_by_test_id("rf-map").bounding_box()
    point = await page.evaluate(f"window.__requests.pointOf({lat}, {lon})")
    assert 0 < point["x"] < map_box["width"] and 0 < point["y"] < map_box["height"], point
    await page.mouse.click(map_box["x"] + point["x"], map_box["y"] + point["y"])


async def zoom_out_to(page, zoom: int) -> None:
    while (await page.evaluate("window.__requests.view()"))["zoom"] > zoom:
        await page.locator("[data-testid=rf-map] .leaflet-control-zoom-out").click()
        await poll(page, "window.__requests.view()", lambda view: not view["moving"],
                   timeout_s=10, what="the map settling after zooming out")


async def test_cross_city_request_approved_in_two_levels(site: Site, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            request_id = await _file_request(browser, site, output_dir, expect, errors)
            await _approve(browser, site, "approver", request_id, 1, output_dir, expect, errors)
            await _approve(browser, site, "leader", request_id, 2, output_dir, expect, errors)
            await _requester_sees_approved(browser, site, request_id, output_dir, expect, errors)
            await _on_a_phone(browser, site, output_dir, expect, errors)
        finally:
            await browser.close()
    # No script errors, no CSP violations; the browser logs the refused point's 404 (the
    # locate endpoint's answer outside the service area), which is expected — once.
    expected = "console: Failed to load resource: the server responded with a status of 404 (Not Found)"
    assert errors == [expected], errors
    db = await connect(site.database_url)
    try:
        kinds = await db.fetch(
            """SELECT u.username, n.kind FROM notifications n JOIN users u ON u.id = n.user_id
               WHERE (n.data->>'request_id')::int = $1 ORDER BY n.id""", request_id)
    finally:
        await db.close()
    assert [(k["username"], k["kind"]) for k in kinds] == [
        ("approver", "approval_pending"), ("leader", "approval_pending"),
        ("requester", "request_approved")]


async def _file_request(browser, site: Site, output_dir: Path, expect, errors) -> int:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, "requester", landing="/requests")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(page.get_by_test_id("nav-requests")).to_have_attribute("aria-current", "page")
    form = page.get_by_test_id("request-form")
    await form.get_by_test_id("rf-trip-type").select_option("official")
    await form.get_by_test_id("rf-reason").fill("赴鄂州市政府调研")
    await form.get_by_test_id("rf-passengers").fill("张三，李四")
    await form.get_by_test_id("rf-passenger-count").fill("2")
    day = trip_day().isoformat()
    await form.get_by_test_id("rf-start").fill(f"{day}T09:00")
    await form.get_by_test_id("rf-end").fill(f"{day}T17:00")
    await form.get_by_test_id("rf-car-level").select_option("sedan")
    await form.get_by_test_id("rf-contact-phone").fill("13800000000")

    # The map opens on Wuhan; out to where Ezhou and the province border are both in view.
    await zoom_out_to(page, 7)
    await click_map_at(page, *XINYANG)
    error = form.get_by_test_id("rf-place-error")
    await expect(error).to_be_visible()
    await expect(error).to_have_attribute("data-code", "outside_service_area")
    await expect(error).to_contain_text("不在服务范围内")
    origin = form.locator("[data-testid=place-row][data-role=origin]")
    await expect(origin.get_by_test_id("place-city")).to_have_text("未选点")  # nothing placed

    await click_map_at(page, *WUHAN_GOV)
    await expect(error).to_be_hidden()
    await expect(origin.get_by_test_id("place-city")).to_have_text("武汉")
    destination = form.locator("[data-testid=place-row][data-role=destination]")
    await expect(destination).to_have_attribute("aria-current", "true")  # the next stop to place
    await click_map_at(page, *EZHOU_GOV)
    await expect(destination.get_by_test_id("place-city")).to_have_text("鄂州")
    await expect(destination.get_by_test_id("place-city")).to_have_attribute("data-city-code", "420700")
    await origin.get_by_test_id("place-name").fill("中共武汉市委办公厅")
    await destination.get_by_test_id("place-name").fill("鄂州市人民政府")
    assert await page.locator(".stop-pin").count() == 2
    await page.screenshot(path=str(output_dir / "requests-form-filled.png"))

    await form.get_by_test_id("rf-submit").click()
    outcome = form.get_by_test_id("rf-outcome")
    await expect(outcome).to_have_attribute("data-state", "pending")
    await expect(outcome).to_have_attribute("data-levels", "2")
    await expect(outcome).to_contain_text("需 2 级审批")
    await expect(outcome).to_contain_text("跨市")
    request_id = int(await outcome.get_attribute("data-request-id"))

    item = page.locator(f"[data-testid=request-item][data-request-id='{request_id}']")
    await expect(item.get_by_test_id("request-state")).to_have_text("待审批")
    await expect(item.get_by_test_id("request-route")).to_contain_text("武汉 · 中共武汉市委办公厅 → 鄂州 · 鄂州市人民政府")
    await expect(item.get_by_test_id("request-levels")).to_contain_text("审批 0/2 级")
    await page.screenshot(path=str(output_dir / "requests-submitted.png"))
    await page.context.close()
    return request_id


async def _approve(browser, site: Site, username: str, request_id: int, level: int,
                   output_dir: Path, expect, errors) -> None:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, username, landing="/approvals")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    item = page.locator(f"[data-testid=approval-item][data-request-id='{request_id}']")
    await expect(item).to_contain_text(f"第 {level}/2 级")
    await expect(item).to_contain_text("武汉 → 鄂州")
    await item.click()
    detail = page.get_by_test_id("approval-detail")
    await expect(detail).to_have_attribute("data-request-id", str(request_id))
    await expect(detail.get_by_test_id("approval-level")).to_have_attribute("data-level", str(level))
    await expect(detail.locator("[data-testid=approval-warning][data-warning=extra_levels]")).to_contain_text("跨市")
    await expect(detail.get_by_test_id("approval-stop")).to_have_count(2)
    await expect(detail.locator("[data-testid=approval-stop][data-city-code='420700']")).to_contain_text("鄂州")
    await expect(detail.locator(".ap-map .stop-pin")).to_have_count(2)
    await page.screenshot(path=str(output_dir / f"approvals-level{level}-{username}.png"))

    # A rejection needs a reason: refused on the page, nothing sent.
    await detail.get_by_test_id("approval-reject").click()
    await expect(detail.get_by_test_id("approval-message")).to_have_attribute("data-state", "invalid")
    await detail.get_by_test_id("approval-note").fill("同意")
    await detail.get_by_test_id("approval-approve").click()
    await expect(detail.get_by_test_id("approval-message")).to_have_attribute("data-state", "done")
    await expect(item).to_have_count(0)
    await expect(page.locator(f"[data-testid=decided-item][data-request-id='{request_id}']")).to_be_visible()

    await page.get_by_test_id("lang-toggle").click()
    await expect(page.locator("#ap-awaiting-title")).to_contain_text("Awaiting my approval")
    await expect(detail.get_by_test_id("approval-message")).to_contain_text("approved")
    await expect(page.get_by_test_id("nav-approvals")).to_have_text("Approvals")
    await page.screenshot(path=str(output_dir / f"approvals-level{level}-en.png"))
    await page.get_by_test_id("lang-toggle").click()  # back to Chinese for the next person
    await page.context.close()


async def _requester_sees_approved(browser, site: Site, request_id: int, output_dir: Path,
                                   expect, errors) -> None:
    page = await new_page(browser, errors)
    await log_in(page, site.base_url, "requester", landing="/requests")
    item = page.locator(f"[data-testid=request-item][data-request-id='{request_id}']")
    await expect(item.get_by_test_id("request-state")).to_have_text("已批准")
    await item.get_by_test_id("request-toggle").click()
    timeline = item.get_by_test_id("request-timeline")
    await expect(timeline.get_by_test_id("timeline-event")).to_have_count(4)
    await expect(timeline).to_contain_text("审批同意")
    await page.get_by_test_id("notif-bell").click()
    await expect(page.locator("[data-testid=notif-item][data-kind=request_approved]")).to_contain_text(
        "用车申请已批准：赴鄂州市政府调研")
    await page.screenshot(path=str(output_dir / "requests-approved.png"))

    await page.get_by_test_id("lang-toggle").click()
    await expect(item.get_by_test_id("request-state")).to_have_text("Approved")
    await expect(page.get_by_test_id("rf-submit")).to_have_text("Submit")
    await expect(page.locator("#rq-new-title")).to_have_text("New request")
    await expect(timeline).to_contain_text("Approved")
    await page.screenshot(path=str(output_dir / "requests-approved-en.png"))
    await page.get_by_test_id("lang-toggle").click()
    await page.context.close()


async def _on_a_phone(browser, site: Site, output_dir: Path, expect, errors) -> None:
    page = await new_page(browser, errors, viewport=PHONE, mobile=True)
    await log_in(page, site.base_url, "requester", landing="/requests")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # nothing sticks out sideways
    await page.screenshot(path=str(output_dir / "requests-phone.png"), full_page=True)
    await page.context.close()
    page = await new_page(browser, errors, viewport=PHONE, mobile=True)
    await log_in(page, site.base_url, "approver", landing="/approvals")
    await expect(page.get_by_test_id("decided-item")).to_have_count(1)
    await page.get_by_test_id("decided-item").click()
    await expect(page.get_by_test_id("approval-detail")).to_contain_text("已批准")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await page.screenshot(path=str(output_dir / "approvals-phone.png"), full_page=True)
    await page.context.close()


@pytest.fixture
async def fresh_site(databases, services) -> AsyncIterator[Site]:
    database_url = await databases.create(template=await databases.template("seeded"))
    db = await connect(database_url)
    try:  # the requester receives 车补; his unit may ask for sedans only (用车制度)
        await db.execute("UPDATE users SET transport_subsidy = true WHERE username = 'requester'")
        await db.execute(
            """INSERT INTO approval_policies (org_id, allowed_car_levels)
               SELECT org_id, '{sedan}' FROM users WHERE username = 'requester'""")
    finally:
        await db.close()
    with serve_web(database_url, services.redis_url, f"rq{int(time.time() * 1000)}") as base_url:
        yield Site(base_url, database_url)


async def api_as(site: Site, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=site.base_url, timeout=20)
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


async def send(client, path: str, body: dict) -> dict:
    response = await client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def carried_out(site: Site, request: dict, vehicle_id: int, driver_id: int) -> dict:
    """Through the API: the dispatcher assigns a car and driver1, who carries the trip out."""
    dispatcher, driver = await api_as(site, "dispatcher"), await api_as(site, "driver1")
    try:
        order = await send(dispatcher, "/api/v1/dispatch-orders", {"request_id": request["id"]})
        path = f"/api/v1/dispatch-orders/{order['id']}/events"
        order = await send(dispatcher, path, {"event": "assign", "version": order["version"],
                                              "vehicle_id": vehicle_id, "driver_id": driver_id})
        steps = [("driver_accept", {}), ("depart", {"odometer_km": 1000.0}), ("arrive_pickup", {}),
                 ("start_service", {}), ("end_service", {}), ("return", {"odometer_km": 1042.5})]
        for name, extra in steps:
            order = await send(driver, path, {"event": name, "version": order["version"], **extra})
        assert order["state"] == "returned"
        return order
    finally:
        await dispatcher.aclose()
        await driver.aclose()


async def test_policy_refusal_subsidy_warning_and_the_requesters_word(fresh_site: Site, output_dir: Path):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    errors: list[str] = []
    day = trip_day()
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await new_page(browser, errors)
            await log_in(page, fresh_site.base_url, "requester", landing="/requests")
            await expect(page.locator("body")).to_have_attribute("data-ready", "true")
            form = page.get_by_test_id("request-form")
            await form.get_by_test_id("rf-reason").fill("市内会议保障")
            await form.get_by_test_id("rf-start").fill(f"{day.isoformat()}T09:00")
            await form.get_by_test_id("rf-end").fill(f"{day.isoformat()}T12:00")
            await form.get_by_test_id("rf-car-level").select_option("business")
            # Both stops from the named places (常用地点), searched by name.
            await form.get_by_test_id("rf-place-search").fill("汉口站")
            await form.locator("[data-testid=place-option][data-code=PL-420100-HKSTN]").click()
            await form.get_by_test_id("rf-place-search").fill("洪山宾馆")
            await form.locator("[data-testid=place-option][data-code=PL-420100-HONGSHAN]").click()
            rows = form.get_by_test_id("place-row")
            await expect(rows.nth(0).get_by_test_id("place-name")).to_have_value("汉口站")
            await expect(rows.nth(1).get_by_test_id("place-city")).to_have_text("武汉")

            await form.get_by_test_id("rf-submit").click()  # 用车制度: sedans only
            outcome = form.get_by_test_id("rf-outcome")
            await expect(outcome).to_have_attribute("data-state", "refused")
            await expect(outcome).to_have_attribute("data-code", "car_level_not_allowed")
            await expect(outcome).to_contain_text("可申请：轿车")
            await expect(page.get_by_test_id("request-item").get_by_test_id("request-state")).to_have_text("草稿")
            await page.screenshot(path=str(output_dir / "requests-refused-car-level.png"))
            await form.get_by_test_id("rf-car-level").select_option("sedan")
            await form.get_by_test_id("rf-submit").click()  # the same draft, changed and submitted
            await expect(outcome).to_have_attribute("data-state", "pending")
            await expect(outcome).to_have_attribute("data-warnings", "transport_subsidy")
            await expect(outcome).to_contain_text("车补提醒")
            await expect(page.get_by_test_id("request-item")).to_have_count(1)
            request_id = int(await outcome.get_attribute("data-request-id"))
            await page.context.close()

            # The approver sees the 车补 warning prominently, and approves.
            page = await new_page(browser, errors)
            await log_in(page, fresh_site.base_url, "approver", landing="/approvals")
            item = page.locator(f"[data-testid=approval-item][data-request-id='{request_id}']")
            await expect(item.get_by_test_id("chip-transport_subsidy")).to_have_text("车补")
            await item.click()
            warning = page.locator("[data-testid=approval-warning][data-warning=transport_subsidy]")
            await expect(warning).to_contain_text("车补提醒")
            await page.screenshot(path=str(output_dir / "approvals-subsidy-warning.png"))
            await page.get_by_test_id("approval-approve").click()
            await expect(page.get_by_test_id("approval-message")).to_have_attribute("data-state", "done")
            await page.context.close()

            # A second request, filed and approved through the API; both are carried out.
            requester = await api_as(fresh_site, "requester")
            approver = await api_as(fresh_site, "approver")
            try:
                first = (await requester.get(f"/api/v1/trip-requests/{request_id}")).json()
                second = await send(requester, "/api/v1/trip-requests", {
                    **{k: first[k] for k in ("trip_type", "passengers", "passenger_count", "origin",
                                             "destinations", "round_trip", "car_level_wanted")},
                    "reason": "第二次市内会议", "planned_start": first["planned_start"],
                    "planned_end": first["planned_end"]})
                second = await send(requester, f"/api/v1/trip-requests/{second['id']}/events",
                                    {"event": "submit", "version": second["version"]})
                second = await send(approver, f"/api/v1/trip-requests/{second['id']}/events",
                                    {"event": "approve", "version": second["version"]})
            finally:
                await requester.aclose()
                await approver.aclose()
            db = await connect(fresh_site.database_url)
            try:
                vehicles = await db.fetch(
                    """SELECT v.id FROM vehicles v JOIN vehicle_documents d ON d.vehicle_id = v.id
                       WHERE v.home_city_code = '420100' AND v.source = 'platform'
                         AND v.car_level = 'sedan' AND v.use_category = 'general'
                       GROUP BY v.id HAVING min(d.expires_on) > current_date + 30
                       ORDER BY v.id LIMIT 2""")
                driver_id = await db.fetchval(
                    "SELECT d.id FROM drivers d JOIN users u ON u.id = d.user_id WHERE u.username = 'driver1'")
            finally:
                await db.close()
            order_a = await carried_out(fresh_site, first, vehicles[0]["id"], driver_id)
            order_b = await carried_out(fresh_site, second, vehicles[1]["id"], driver_id)

            # The requester confirms and rates one order, disputes the other.
            page = await new_page(browser, errors)
            await log_in(page, fresh_site.base_url, "requester", landing="/requests")
            a = page.locator(f"[data-testid=request-item][data-request-id='{request_id}']")
            await expect(a.get_by_test_id("request-state")).to_have_text("已完成")
            await a.get_by_test_id("request-toggle").click()
            order = a.locator(f"[data-testid=order-item][data-order-id='{order_a['id']}']")
            await expect(order.get_by_test_id("order-state")).to_have_text("已回场")
            await expect(order.get_by_test_id("order-plate")).to_contain_text(order_a["plate"])
            await expect(order.get_by_test_id("order-driver")).to_contain_text(order_a["driver_name"])
            await order.get_by_test_id("order-confirm").click()
            await expect(order.get_by_test_id("order-state")).to_have_text("已确认")
            await order.locator("[data-testid=rating-star][data-value='4']").click()
            await order.get_by_test_id("order-feedback").fill("准时，服务周到")
            await order.get_by_test_id("order-rate-submit").click()
            await expect(order.get_by_test_id("order-state")).to_have_text("已评价")
            await expect(order.get_by_test_id("order-rating")).to_have_attribute("data-rating", "4")

            b = page.locator(f"[data-testid=request-item][data-request-id='{second['id']}']")
            await b.get_by_test_id("request-toggle").click()
            other = b.locator(f"[data-testid=order-item][data-order-id='{order_b['id']}']")
            await other.get_by_test_id("order-dispute").click()
            await other.get_by_test_id("order-dispute-submit").click()  # no reason: not sent
            await expect(other.get_by_test_id("order-state")).to_have_text("已回场")
            await other.get_by_test_id("order-dispute-reason").fill("里程与实际不符")
            await other.get_by_test_id("order-dispute-submit").click()
            await expect(other.get_by_test_id("order-state")).to_have_text("有异议")
            await expect(other).to_contain_text("异议：里程与实际不符")
            await expect(other.get_by_test_id("order-driver")).to_contain_text("驾驶员：")
            await page.screenshot(path=str(output_dir / "requests-orders-confirm-dispute.png"))
            await page.get_by_test_id("lang-toggle").click()
            await expect(order.get_by_test_id("order-state")).to_have_text("Rated")
            await expect(other.get_by_test_id("order-state")).to_have_text("Disputed")
            await expect(other.get_by_test_id("order-driver")).to_contain_text("Driver: ")  # not "："
            await expect(other).to_contain_text("Dispute: 里程与实际不符")
            await page.screenshot(path=str(output_dir / "requests-orders-en.png"))
            await page.context.close()
        finally:
            await browser.close()
    assert [e for e in errors if "status of 409" not in e] == [], errors  # the refusal's 409 only
    assert len(errors) == 1, errors

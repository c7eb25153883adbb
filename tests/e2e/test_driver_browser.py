"""The driver's page (/driver) on a phone-sized screen (390×844) in Debian's Chromium.

The web app runs alone (uvicorn in a thread) on a seeded database; the order is set up over
the API (requester files, approver approves, dispatcher assigns a Wuhan platform car with
driver1's drivers row). driver1 then accepts, departs, arrives, serves, returns with the
行车日志 on his phone, acknowledges a remote reminder, and switches to English. A second test
shares the phone's position for a leased car without a terminal and checks that the position
arrives on MQTT as the car's 'phone' device. The CSP stays on."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import orjson
import paho.mqtt.client as mqtt
import pytest

from fleet.db import connect
from fleet.mqtt_url import parse_mqtt_url
from fleet.users import upsert_user
from tests.e2e.browser import CHROMIUM, PHONE, launch, log_in, new_page, serve_web
from tests.integration.web_app import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
LOCAL = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Served:
    base_url: str
    database_url: str
    mqtt_url: str
    topic_root: str


@pytest.fixture(scope="module")
async def served(databases, services):
    database_url = await databases.create(template=await databases.template("seeded"))
    prefix = f"drv{uuid.uuid4().hex[:8]}"
    root = f"{prefix}/v1"
    with serve_web(database_url, services.redis_url, prefix, mqtt_url=services.mqtt_url,
                   mqtt_topic_root=root) as base_url:
        yield Served(base_url, database_url, services.mqtt_url, root)


# -- setting the order up over the API ---------------------------------------------------------

@asynccontextmanager
async def api_client(base_url: str, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        yield client


def today_at(hour: int) -> datetime:
    return datetime.now(LOCAL).replace(hour=hour, minute=0, second=0, microsecond=0)


async def approved_request(base_url: str, **extra) -> dict:
    """A request for today 09:00–17:00 in Wuhan, approved level by level."""
    trip = {
        "trip_type": "official", "reason": "赴江汉区调研基层治理", "passengers": ["张伟", "李娜"],
        "passenger_count": 2, "planned_start": today_at(9).isoformat(),
        "planned_end": today_at(17).isoformat(),
        "origin": {"name": "武汉市人民政府", "lat": 30.5928, "lon": 114.3055, "city_code": "420100"},
        "destinations": [{"name": "江汉区政务服务中心", "lat": 30.6012, "lon": 114.2708,
                          "city_code": "420100"}],
        "round_trip": True, "driver_waits": True, "contact_phone": "13800001234", **extra,
    }
    async with api_client(base_url, "requester") as requester:
        r = await requester.post("/api/v1/trip-requests", json=trip)
        assert r.status_code == 201, r.text
        request = r.json()
        request = (await requester.post(f"/api/v1/trip-requests/{request['id']}/events",
                                        json={"event": "submit", "version": request["version"]})).json()
    for name in ("approver", "leader"):  # a holiday adds the city leader's level
        if request["state"] != "pending_approval":
            break
        async with api_client(base_url, name) as approver:
            request = (await approver.post(f"/api/v1/trip-requests/{request['id']}/events",
                                           json={"event": "approve", "version": request["version"]})).json()
    assert request["state"] == "approved", request
    return request


async def order_event(client: httpx.AsyncClient, order: dict, event: str, **extra) -> dict:
    r = await client.post(f"/api/v1/dispatch-orders/{order['id']}/events",
                          json={"event": event, "version": order["version"], **extra})
    assert r.status_code == 200, r.text
    return r.json()


async def assigned_to_driver1(served: Served) -> dict:
    request = await approved_request(served.base_url)
    db = await connect(served.database_url)
    try:
        vehicle = await db.fetchval(
            """SELECT id FROM vehicles WHERE home_city_code = '420100' AND source = 'platform'
               AND seats >= 5 ORDER BY id LIMIT 1""")
        driver = await db.fetchval(
            "SELECT d.id FROM drivers d JOIN users u ON u.id = d.user_id WHERE u.username = 'driver1'")
    finally:
        await db.close()
    async with api_client(served.base_url, "dispatcher") as dispatcher:
        r = await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})
        assert r.status_code == 201, r.text
        return await order_event(dispatcher, r.json(), "assign", vehicle_id=vehicle, driver_id=driver)


# -- the browser ---------------------------------------------------------------------------------

async def shot(page, output_dir, name: str, *, full_page: bool = False) -> None:
    await page.wait_for_timeout(250)  # animations and fonts settle
    await page.screenshot(path=str(output_dir / name), full_page=full_page)


async def no_horizontal_overflow(page) -> None:
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is wider than the phone: {widths}"


async def test_driver_carries_out_an_order_on_his_phone(served, output_dir):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    order = await assigned_to_driver1(served)
    errors: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        page = await new_page(browser, errors, viewport=PHONE, mobile=True)
        try:
            await _carry_out(page, served, order, output_dir, expect)
        finally:
            await page.screenshot(path=str(output_dir / "driver-last.png"))
            await browser.close()
    # The test takes the phone offline on purpose (_starts_offline): a poll in flight then fails
    # at the network level (net::ERR_FAILED). HTTP errors ("status of 4xx/5xx") still count.
    errors = [e for e in errors if "net::ERR_FAILED" not in e]
    assert errors == [], errors  # no script errors, no CSP violations


async def _carry_out(page, served: Served, order: dict, output_dir, expect) -> None:
    await log_in(page, served.base_url, "driver1", landing="/driver")
    await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    await expect(page.locator("body")).to_have_attribute("data-sw", "registered")

    # Installable: the manifest is linked and served.
    href = await page.locator("link[rel=manifest]").get_attribute("href")
    assert href == "/driver/manifest.webmanifest"
    manifest = orjson.loads(await (await page.request.get(served.base_url + href)).body())
    assert manifest["name"] == "公务用车·驾驶员" and manifest["start_url"] == "/driver"
    assert manifest["display"] == "standalone" and manifest["icons"]
    icon = await page.request.get(served.base_url + manifest["icons"][0]["src"])
    assert icon.ok and "svg" in icon.headers["content-type"]
    sw = await page.request.get(served.base_url + "/driver/sw.js")
    assert sw.headers["service-worker-allowed"] == "/driver"

    # The new order is announced, and its card says everything needed.
    notice = page.locator("[data-testid=order-notice][data-kind=order_assigned]")
    await expect(notice).to_contain_text(f"派车单 {order['id']}")
    card = page.locator(f"[data-testid=order-card][data-order-id='{order['id']}']")
    await expect(card.get_by_test_id("time")).to_have_text("09:00–17:00")
    await expect(card.get_by_test_id("state")).to_have_text("待接单")
    await expect(card.get_by_test_id("stop-pickup")).to_contain_text("武汉市人民政府")
    await expect(card.get_by_test_id("stop-dropoff")).to_contain_text("江汉区政务服务中心")
    await expect(card.get_by_test_id("passengers")).to_contain_text("张伟、李娜")
    await expect(card.get_by_test_id("call")).to_have_attribute("href", "tel:13800001234")
    await expect(card.get_by_test_id("plate")).to_have_text(order["plate"])
    navigate = await card.get_by_test_id("navigate").get_attribute("href")
    assert navigate.startswith("https://uri.amap.com/navigation?to=114.3055,30.5928,")
    assert "coordinate=wgs84" in navigate and "mode=car" in navigate
    other = await card.get_by_test_id("navigate-other").get_attribute("href")
    assert other.startswith("geo:30.5928,114.3055?q=30.5928,114.3055(")
    await expect(card.get_by_test_id("share")).to_have_count(0)  # the car has its terminal
    await no_horizontal_overflow(page)
    await shot(page, output_dir, "driver-1-new-order.png")
    await notice.get_by_test_id("notice-ack").click()
    await expect(notice).to_have_count(0)

    step = card.get_by_test_id("step")
    await step.click()  # 接单
    await expect(card.get_by_test_id("state")).to_have_text("已接单")
    await expect(step).to_have_text("出车")
    await step.click()
    sheet = page.get_by_test_id("step-sheet")
    await expect(sheet).to_be_visible()
    await page.get_by_test_id("sheet-submit").click()  # nothing entered: refused on the phone
    await expect(page.get_by_test_id("sheet-error")).to_have_text("请填写里程表读数")
    await page.get_by_test_id("field-odometer_km").fill("12000.5")
    await shot(page, output_dir, "driver-2-depart-sheet.png")
    await page.get_by_test_id("sheet-submit").click()
    await expect(sheet).to_be_hidden()
    await expect(card.get_by_test_id("state")).to_have_text("已出车")

    for label, state in (("到达上车点", "已到上车点"), ("开始服务", "服务中"), ("结束服务", "服务结束")):
        await expect(step).to_have_text(label)
        if label == "开始服务":
            dest = await card.get_by_test_id("navigate").get_attribute("href")
            assert dest.startswith("https://uri.amap.com/navigation?to=114.2708,30.6012,")
            await shot(page, output_dir, "driver-3-at-pickup.png")
        await step.click()
        await expect(card.get_by_test_id("state")).to_have_text(state)

    await expect(step).to_have_text("还车")
    await step.click()
    await expect(page.get_by_test_id("field-odometer_km")).to_have_value("12000.5")  # prefilled
    await page.get_by_test_id("field-odometer_km").fill("11999")
    await page.get_by_test_id("sheet-submit").click()
    await expect(page.get_by_test_id("sheet-error")).to_contain_text("还车里程不能小于出车里程")
    await page.get_by_test_id("field-odometer_km").fill("12086.3")
    await page.get_by_test_id("field-tolls_cny").fill("45")
    await page.get_by_test_id("field-parking_cny").fill("10")
    await page.get_by_test_id("field-fuel_cny").fill("120.5")
    energy = "field-fuel_l" if await page.get_by_test_id("field-fuel_l").count() else "field-charge_kwh"
    await page.get_by_test_id(energy).fill("16.2")
    await page.get_by_test_id("field-nights_out_of_town").fill("0")  # an in-city day
    await shot(page, output_dir, "driver-4-return-sheet.png")
    await page.get_by_test_id("sheet-submit").click()
    await expect(sheet).to_be_hidden()
    await expect(card.get_by_test_id("state")).to_have_text("已还车")
    await expect(card.get_by_test_id("finished")).to_contain_text("行驶 85.8 km")
    await expect(card.get_by_test_id("finished")).to_contain_text("¥175.50")
    await expect(card.get_by_test_id("step")).to_have_count(0)

    db = await connect(served.database_url)
    try:
        row = await db.fetchrow(
            """SELECT state, odometer_start_km, odometer_end_km, tolls_cny, parking_cny, fuel_cny,
                      fuel_l, charge_kwh, nights_out_of_town FROM dispatch_orders WHERE id = $1""",
            order["id"])
        assert row["state"] == "returned"
        assert (row["odometer_start_km"], row["odometer_end_km"]) == (12000.5, 12086.3)
        assert (row["tolls_cny"], row["parking_cny"], row["fuel_cny"]) == (
            Decimal("45.00"), Decimal("10.00"), Decimal("120.50"))
        assert Decimal("16.20") in (row["fuel_l"], row["charge_kwh"])
        assert row["nights_out_of_town"] == 0

        # A remote reminder (远程提醒) shows as a banner that stays until acknowledged.
        reminder_id = await db.fetchval(
            """INSERT INTO notifications (user_id, kind, text)
               SELECT id, 'reminder', '请于22:00前将车辆返回定点停放处' FROM users
               WHERE username = 'driver1' RETURNING id""")
        await page.evaluate("window.__driver.refresh()")
        banner = page.get_by_test_id("reminder")
        await expect(banner.get_by_test_id("reminder-text")).to_have_text("请于22:00前将车辆返回定点停放处")
        await expect(banner).to_contain_text("远程提醒")
        await page.evaluate("window.scrollTo(0, 0)")
        await no_horizontal_overflow(page)
        await shot(page, output_dir, "driver-5-reminder.png")
        await banner.get_by_test_id("notice-ack").click()
        await expect(banner).to_have_count(0)
        assert await db.fetchval("SELECT read_at IS NOT NULL FROM notifications WHERE id = $1",
                                 reminder_id)
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        await expect(page.get_by_test_id("reminder")).to_have_count(0)  # gone for good
    finally:
        await db.close()
    await shot(page, output_dir, "driver-6-finished.png", full_page=True)

    # English.
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("lang-toggle")).to_have_text("中文")
    await expect(card.get_by_test_id("state")).to_have_text("Returned")
    await expect(card.get_by_test_id("finished")).to_contain_text("85.8 km driven")
    await expect(page.get_by_test_id("day-today")).to_have_text("Today")
    await no_horizontal_overflow(page)
    await shot(page, output_dir, "driver-7-english.png")
    await page.get_by_test_id("day-tomorrow").click()
    await expect(page.get_by_test_id("empty")).to_contain_text("No orders here")
    await page.get_by_test_id("day-today").click()
    await expect(card).to_be_visible()
    await page.get_by_test_id("lang-toggle").click()
    await expect(card.get_by_test_id("state")).to_have_text("已还车")
    await _starts_offline(page, card, output_dir, expect)


async def _starts_offline(page, card, output_dir, expect) -> None:
    """The service worker controls the page: offline, /driver starts from its cache with the
    orders last loaded, and says it is offline."""
    assert await page.evaluate("navigator.serviceWorker.ready.then((r) => r.active !== null)")
    await page.reload()  # now under the worker's control: the shell and the orders are cached
    await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    assert await page.evaluate("navigator.serviceWorker.controller !== null")
    await page.wait_for_load_state("networkidle")  # no request of the online page left in flight
    await page.context.set_offline(True)
    try:
        await page.reload()
        await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        await expect(page.get_by_test_id("offline-banner")).to_be_visible()
        await expect(card.get_by_test_id("state")).to_have_text("已还车")
        await shot(page, output_dir, "driver-8-offline.png")
    finally:
        await page.context.set_offline(False)
    await expect(page.get_by_test_id("offline-banner")).to_be_hidden()


# -- sharing the phone's position for a leased car without a terminal ----------------------------

async def leased_order_departed(served: Served) -> tuple[dict, int]:
    db = await connect(served.database_url)
    try:
        await upsert_user(db, username="driver_rc", display_name="唐鑫", org_code="420100-PF",
                          roles=["driver"], password=PASSWORD)
        company = await db.fetchval("SELECT id FROM rental_companies WHERE code = 'RC-JIANGHAN'")
        driver = await db.fetchval(
            """UPDATE drivers SET user_id = (SELECT id FROM users WHERE username = 'driver_rc')
               WHERE code = 'DRV-JIANGHAN-001' RETURNING id""")
        vehicle = await db.fetchval(
            """SELECT v.id FROM vehicles v WHERE v.rental_company_id = $1 AND v.car_level = 'sedan'
               AND v.home_city_code = '420100'
               AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.vehicle_id = v.id)
               ORDER BY v.id LIMIT 1""", company)
    finally:
        await db.close()
    request = await approved_request(served.base_url, passengers=["王强"], passenger_count=1,
                                     planned_start=today_at(9).isoformat(),
                                     planned_end=today_at(12).isoformat())
    async with (api_client(served.base_url, "dispatcher") as dispatcher,
                api_client(served.base_url, "admin") as admin,
                api_client(served.base_url, "driver_rc") as phone):
        r = await dispatcher.post("/api/v1/dispatch-orders", json={"request_id": request["id"]})
        order = await order_event(dispatcher, r.json(), "send_to_rental", rental_company_id=company,
                                  charter_type="half_day", service_mode="with_driver")
        order = await order_event(admin, order, "rental_accept", vehicle_id=vehicle, driver_id=driver)
        order = await order_event(phone, order, "driver_accept")
        order = await order_event(phone, order, "depart", odometer_km=30500)
    return order, vehicle


def subscribe(url: str, topic: str) -> tuple[mqtt.Client, queue.Queue]:
    address = parse_mqtt_url(url)
    received: queue.Queue = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"e2e-{uuid.uuid4().hex[:10]}",
                         protocol=mqtt.MQTTv311)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda c, u, message: received.put(message.payload)
    client.connect(address.host, address.port)
    client.loop_start()
    assert subscribed.wait(10), "no SUBACK"
    return client, received


async def test_driver_shares_his_phone_position_for_a_car_without_terminal(served, output_dir):
    playwright_api = pytest.importorskip("playwright.async_api")
    expect = playwright_api.expect
    order, vehicle = await leased_order_departed(served)
    subscriber, received = subscribe(served.mqtt_url, f"{served.topic_root}/devices/phone-v{vehicle}/telemetry")
    errors: list[str] = []
    try:
        async with playwright_api.async_playwright() as playwright:
            browser = await launch(playwright)
            page = await new_page(browser, errors, viewport=PHONE, mobile=True)
            await page.context.grant_permissions(["geolocation"], origin=served.base_url)
            await page.context.set_geolocation({"latitude": 30.5801, "longitude": 114.2802, "accuracy": 9})
            try:
                await log_in(page, served.base_url, "driver_rc", landing="/driver")
                card = page.locator(f"[data-testid=order-card][data-order-id='{order['id']}']")
                share = card.get_by_test_id("share")
                await expect(share).to_have_attribute("data-state", "off")
                await expect(share).to_contain_text("本车无车载终端")
                await share.get_by_test_id("share-toggle").click()
                await expect(share).to_have_attribute("data-state", "on")
                await expect(share.get_by_test_id("share-status")).to_contain_text("已共享")
                await shot(page, output_dir, "driver-9-sharing-location.png")
                payload = orjson.loads(await asyncio.to_thread(received.get, True, 10))
                assert (payload["lat"], payload["lon"], payload["fix"]) == (30.5801, 114.2802, True)
                sent_at = datetime.fromisoformat(payload["ts"])
                assert abs(time.time() - sent_at.timestamp()) < 120 and payload["ts"].endswith("+08:00")
                # a reload resumes the sharing by itself
                await page.reload()
                await expect(share).to_have_attribute("data-state", "on")
            finally:
                await page.screenshot(path=str(output_dir / "driver-share-last.png"))
                await browser.close()
    finally:
        subscriber.disconnect()
        subscriber.loop_stop()
    assert errors == [], errors
    db = await connect(served.database_url)
    try:
        kind = await db.fetchval("SELECT kind FROM devices WHERE uid = $1", f"phone-v{vehicle}")
    finally:
        await db.close()
    assert kind == "phone"

"""The dispatcher's remote reminder (远程提醒) is recorded like the rules' ones: a reminders row
with who sent it, the command id the terminal received, when the broker took it, and the
driver's notice."""

from __future__ import annotations

from tests.integration.test_dispatch_orders_api import approved_request, order_event
from tests.integration.test_driver_api import app_with, next_message, subscribe
from tests.integration.test_trip_requests_api import users
from tests.integration.web_app import login, new_client


async def test_the_dispatchers_reminder_is_a_reminders_row(broker_settings, db, services):
    await users(db)
    vehicle, uid = await db.fetchrow(
        "SELECT v.id, d.uid FROM vehicles v JOIN devices d ON d.vehicle_id = v.id "
        "WHERE v.home_city_code = '420100' AND v.source = 'platform' ORDER BY v.id LIMIT 1")
    driver, driver_user = await db.fetchrow(
        "SELECT d.id, u.id FROM drivers d JOIN users u ON u.id = d.user_id "
        "WHERE u.username = 'driver1'")
    subscriber, received = subscribe(services.mqtt_url,
                                     f"{broker_settings.mqtt_topic_root}/devices/{uid}/cmd")
    try:
        async with app_with(broker_settings) as app, new_client(app) as requester, \
                new_client(app) as dispatcher:
            await login(requester, "requester")
            await login(dispatcher, "dispatcher")
            request = await approved_request(app, requester)
            order = (await dispatcher.post("/api/v1/dispatch-orders",
                                           json={"request_id": request["id"]})).json()
            await order_event(dispatcher, order, "assign", vehicle_id=vehicle, driver_id=driver)
            sent = await dispatcher.post("/api/v1/dispatch/reminders", json={
                "order_id": order["id"], "text": "请于22:00前返回停放点", "tts": False})
            assert sent.status_code == 200, sent.text
            _, command = await next_message(received)
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    row = await db.fetchrow("SELECT * FROM reminders WHERE command_id = $1", command["id"])
    assert row is not None and sent.json()["device_command_id"] == command["id"]
    dispatcher_id = await db.fetchval("SELECT id FROM users WHERE username = 'dispatcher'")
    assert (row["vehicle_id"], row["device_uid"], row["order_id"]) == (vehicle, uid, order["id"])
    assert (row["created_by"], row["driver_user_id"], row["tts"]) == (dispatcher_id, driver_user, False)
    assert row["text"] == "请于22:00前返回停放点" and row["published_at"] is not None
    notice = await db.fetchrow("SELECT user_id, kind, text, data FROM notifications WHERE id = $1",
                               row["notification_id"])
    assert (notice["user_id"], notice["kind"]) == (driver_user, "reminder")
    assert notice["data"]["command_id"] == command["id"] and notice["data"]["order_id"] == order["id"]
    assert row["violation_id"] is None and row["acked_at"] is None

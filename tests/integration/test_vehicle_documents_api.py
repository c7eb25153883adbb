"""一车一档: the 30-day reminders list what expires soon (expired first), a renewal takes the
car off it, and a user of another city sees none of this city's documents."""

from __future__ import annotations

from datetime import date, timedelta

from fleet.users import upsert_user
from tests.integration.web_app import PASSWORD, assert_error, login


async def test_reminders_renewal_and_scope(client, db):
    await login(client, "dispatcher")
    reminders = (await client.get("/api/v1/vehicle-documents/reminders")).json()
    assert reminders, "the seed spreads some expiries within 30 days"
    days = [r["days_left"] for r in reminders]
    assert days == sorted(days) and max(days) <= 30
    assert {r["city_code"] for r in reminders} == {"420100"}  # the Wuhan dispatcher's city only
    expired = next(r for r in reminders if r["days_left"] < 0)
    assert expired["kind"] == "annual_inspection"

    renewed = await client.put(
        f"/api/v1/vehicle-documents/{expired['vehicle_id']}/annual_inspection",
        json={"number": "NJ-2027-001", "expires_on": (date.today() + timedelta(days=365)).isoformat()})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["days_left"] >= 364
    again = (await client.get("/api/v1/vehicle-documents/reminders")).json()
    assert (expired["vehicle_id"], "annual_inspection") not in {(r["vehicle_id"], r["kind"]) for r in again}
    docs = (await client.get(f"/api/v1/vehicle-documents/{expired['vehicle_id']}")).json()
    assert {d["kind"] for d in docs} == {"registration", "insurance", "annual_inspection"}

    bad = await client.put(f"/api/v1/vehicle-documents/{expired['vehicle_id']}/passport",
                           json={"expires_on": "2027-01-01"})
    assert_error(bad, 422)
    assert_error(await client.put(f"/api/v1/vehicle-documents/{expired['vehicle_id']}/insurance",
                                  json={"expires_on": "not a date"}), 422)

    huangshi = await db.fetchval("SELECT code FROM organisations WHERE code = '420200-PF'")
    await upsert_user(db, username="hs_dispatcher", display_name="黄石调度", org_code=huangshi,
                      roles=["dispatcher"], password=PASSWORD)
    await login(client, "hs_dispatcher")
    theirs = (await client.get("/api/v1/vehicle-documents/reminders")).json()
    assert {r["city_code"] for r in theirs} <= {"420200"}
    assert_error(await client.get(f"/api/v1/vehicle-documents/{expired['vehicle_id']}"), 404)
    assert_error(await client.put(f"/api/v1/vehicle-documents/{expired['vehicle_id']}/insurance",
                                  json={"expires_on": "2030-01-01"}), 404)
    await login(client, "requester")
    assert_error(await client.get("/api/v1/vehicle-documents/reminders"), 403)

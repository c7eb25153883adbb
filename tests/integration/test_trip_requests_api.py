"""Trip requests over the API: file, submit (approval levels from the trip), approve level by
level, reject with a reason; illegal events and stale versions are 409; roles are enforced; a
user of another city can neither read nor change the request (a hidden cross-org probe)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fleet.users import upsert_user
from tests.integration.web_app import PASSWORD, assert_error, login, new_client

CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 24, 9, 0, tzinfo=CST)  # a Tuesday, a working day


def body(dest_city="420100", start=START, hours=6, **extra) -> dict:
    return {
        "trip_type": "official", "reason": "赴基层调研", "passengers": ["张三"], "passenger_count": 1,
        "planned_start": start.isoformat(), "planned_end": (start + timedelta(hours=hours)).isoformat(),
        "origin": {"name": "市政府", "lat": 30.5928, "lon": 114.3055, "city_code": "420100"},
        "destinations": [{"name": "目的地", "lat": 30.39, "lon": 114.89, "city_code": dest_city}],
        **extra,
    }


async def users(db) -> dict[str, str]:
    """An approver in the requester's unit, and a requester of a unit in another city."""
    unit = await db.fetchval(
        "SELECT o.code FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.username = 'requester'")
    other = await db.fetchval(
        "SELECT code FROM organisations WHERE kind = 'unit' AND city_code = '420200' ORDER BY id LIMIT 1")
    await upsert_user(db, username="approver", display_name="审批人", org_code=unit,
                      roles=["approver"], password=PASSWORD)
    await upsert_user(db, username="outsider", display_name="黄石用车人", org_code=other,
                      roles=["requester", "approver"], password=PASSWORD)
    return {"unit": unit, "other": other}


async def event(client, request_id: int, name: str, version: int, note: str = ""):
    return await client.post(f"/api/v1/trip-requests/{request_id}/events",
                             json={"event": name, "version": version, "note": note})


async def test_cross_city_request_needs_two_levels_then_is_approved(app, client, db):
    await users(db)
    await login(client, "requester")
    created = await client.post("/api/v1/trip-requests", json=body(dest_city="420700"))
    assert created.status_code == 201, created.text
    r = created.json()
    assert r["state"] == "draft" and r["allowed_events"] == ["submit", "withdraw"]
    submitted = await event(client, r["id"], "submit", r["version"])
    assert submitted.status_code == 200, submitted.text
    r = submitted.json()
    assert (r["state"], r["approval_levels"]) == ("pending_approval", 2)  # base + cross-city
    forbidden = await event(client, r["id"], "approve", r["version"])
    assert_error(forbidden, 403)  # a requester does not approve

    async with new_client(app) as approver:
        await login(approver, "approver")
        first = await event(approver, r["id"], "approve", r["version"], "同意")
        assert first.json()["state"] == "pending_approval" and first.json()["approved_levels"] == 1
        stale = await event(approver, r["id"], "approve", r["version"])  # the old version again
        assert assert_error(stale, 409)["code"] == "stale_version"
        second = await event(approver, r["id"], "approve", first.json()["version"], "同意")
        assert second.json()["state"] == "approved"
        again = await event(approver, r["id"], "approve", second.json()["version"])
        error = assert_error(again, 409)
        assert error["code"] == "illegal_transition" and "approve" in error["message"]
        history = (await approver.get(f"/api/v1/trip-requests/{r['id']}/events")).json()
    assert [h["event"] for h in history] == ["submit", "checked", "approve", "approve"]
    assert history[0]["note"] == "extra approval: cross_city"


async def test_reject_with_a_reason_and_withdraw(app, client, db):
    await users(db)
    await login(client, "requester")
    r = (await client.post("/api/v1/trip-requests", json=body())).json()
    r = (await event(client, r["id"], "submit", r["version"])).json()
    assert r["approval_levels"] == 1
    async with new_client(app) as approver:
        await login(approver, "approver")
        rejected = (await event(approver, r["id"], "reject", r["version"], "事由不充分")).json()
    assert rejected["state"] == "rejected"
    other = (await client.post("/api/v1/trip-requests", json=body())).json()
    withdrawn = (await event(client, other["id"], "withdraw", other["version"])).json()
    assert withdrawn["state"] == "withdrawn"


async def test_another_citys_user_cannot_see_or_touch_the_request(app, client, db):
    await users(db)
    await login(client, "requester")
    r = (await client.post("/api/v1/trip-requests", json=body())).json()
    async with new_client(app) as outsider:
        await login(outsider, "outsider")
        assert_error(await outsider.get(f"/api/v1/trip-requests/{r['id']}"), 404)
        assert_error(await event(outsider, r["id"], "submit", r["version"]), 404)
        assert_error(await outsider.get(f"/api/v1/trip-requests/{r['id']}/events"), 404)
        listed = (await outsider.get("/api/v1/trip-requests")).json()
        assert r["id"] not in [item["id"] for item in listed["items"]]
    mine = (await client.get("/api/v1/trip-requests?state=draft")).json()
    assert r["id"] in [item["id"] for item in mine["items"]]


async def test_bad_bodies_are_422_never_500(client, db):
    await users(db)
    await login(client, "requester")
    for bad in (
        body(hours=-1),  # ends before it starts
        {**body(), "planned_start": "2026-11-24T09:00:00"},  # no offset
        {**body(), "destinations": []},
        {**body(), "trip_type": "party"},
        {**body(), "unknown": 1},
        {**body(), "origin": {"name": "x", "lat": 95, "lon": 114, "city_code": "420100"}},
    ):
        assert_error(await client.post("/api/v1/trip-requests", json=bad), 422)
    r = (await client.post("/api/v1/trip-requests", json=body())).json()
    assert_error(await event(client, r["id"], "explode", r["version"]), 422)
    assert_error(await event(client, r["id"], "checked", r["version"]), 422)  # the system's own
    assert_error(await client.get("/api/v1/trip-requests/0"), 422)
    assert_error(await client.get("/api/v1/trip-requests/99999999"), 404)

"""Trip requests over the API: file, submit (approval levels from the trip), approve level by
level, reject with a reason; illegal events and stale versions are 409; roles are enforced; a
user of another city can neither read nor change the request (a hidden cross-org probe)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from fleet.users import upsert_user
from tests.integration.web_app import PASSWORD, assert_error, login, new_client
from tests.trip_dates import working_day_at

CST = timezone(timedelta(hours=8))
START = working_day_at(9)  # the next working day, 09:00 in Wuhan


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


async def filed(client, **extra) -> dict:
    created = await client.post("/api/v1/trip-requests", json=body(**extra))
    assert created.status_code == 201, created.text
    return created.json()


async def submitted(client, **extra) -> dict:
    r = await filed(client, **extra)
    response = await event(client, r["id"], "submit", r["version"])
    assert response.status_code == 200, response.text
    return response.json()


async def awaiting(client) -> list[int]:
    page = await client.get("/api/v1/trip-requests?awaiting_me=true")
    assert page.status_code == 200, page.text
    return [item["id"] for item in page.json()["items"]]


async def notifications(db, username: str, kind: str) -> list[dict]:
    rows = await db.fetch(
        """SELECT n.data, n.text FROM notifications n JOIN users u ON u.id = n.user_id
           WHERE u.username = $1 AND n.kind = $2 ORDER BY n.id""", username, kind)
    return [{**dict(r["data"]), "text": r["text"]} for r in rows]


async def test_cross_city_request_needs_two_levels_then_is_approved(app, client, db):
    await users(db)
    await login(client, "requester")
    r = await filed(client, dest_city="420700")
    assert r["state"] == "draft" and r["allowed_events"] == ["submit", "withdraw"]
    assert r["driver_waits"] is True and r["applicant_name"].startswith("用车人")
    r = (await event(client, r["id"], "submit", r["version"])).json()
    assert (r["state"], r["approval_levels"]) == ("pending_approval", 2)  # base + cross-city
    assert r["approval_reasons"] == ["cross_city"] and r["precheck_warnings"] == []
    forbidden = await event(client, r["id"], "approve", r["version"])
    assert_error(forbidden, 403)  # a requester does not approve
    assert [n["request_id"] for n in await notifications(db, "approver", "approval_pending")] == [r["id"]]
    assert await notifications(db, "leader", "approval_pending") == []  # the unit's approver first

    async with new_client(app) as approver, new_client(app) as leader:
        await login(approver, "approver")
        await login(leader, "leader")
        assert r["id"] in await awaiting(approver)
        first = await event(approver, r["id"], "approve", r["version"], "同意")
        assert first.json()["state"] == "pending_approval" and first.json()["approved_levels"] == 1
        stale = await event(approver, r["id"], "approve", r["version"])  # the old version again
        assert assert_error(stale, 409)["code"] == "stale_version"
        assert r["id"] not in await awaiting(approver)  # level 2 is not the unit's
        assert r["id"] in await awaiting(leader)
        twice = await event(approver, r["id"], "approve", first.json()["version"], "同意")
        assert assert_error(twice, 409)["code"] == "already_approved_by_you"
        [pending] = await notifications(db, "leader", "approval_pending")
        assert (pending["request_id"], pending["level"], pending["approval_levels"]) == (r["id"], 2, 2)
        assert pending["reason"] == "赴基层调研" and pending["planned_start"].startswith(
            START.astimezone(UTC).isoformat()[:16])
        second = await event(leader, r["id"], "approve", first.json()["version"], "同意")
        assert second.json()["state"] == "approved"
        assert r["id"] not in await awaiting(leader)
        again = await event(leader, r["id"], "approve", second.json()["version"])
        error = assert_error(again, 409)
        assert error["code"] == "illegal_transition" and "approve" in error["message"]
        history = (await approver.get(f"/api/v1/trip-requests/{r['id']}/events")).json()
        decided = (await leader.get("/api/v1/trip-requests?decided_by_me=true")).json()
    assert [h["event"] for h in history] == ["submit", "checked", "approve", "approve"]
    assert history[0]["note"] == "extra approval: cross_city"
    leader_name = await db.fetchval("SELECT display_name FROM users WHERE username = 'leader'")
    assert [h["actor"] for h in history[2:]] == ["审批人", leader_name]
    assert [item["id"] for item in decided["items"]] == [r["id"]]
    [approved] = await notifications(db, "requester", "request_approved")
    assert approved["request_id"] == r["id"]


async def test_level_one_is_the_units_and_a_second_level_needs_someone_above(app, client, db):
    ids = await users(db)
    await upsert_user(db, username="approver2", display_name="另一审批人", org_code=ids["unit"],
                      roles=["approver"], password=PASSWORD)
    await login(client, "requester")
    r = await submitted(client, dest_city="420700")
    async with new_client(app) as leader, new_client(app) as colleague, new_client(app) as approver:
        await login(leader, "leader")
        await login(colleague, "approver2")
        await login(approver, "approver")
        # the unit has its own approvers: level 1 is theirs, not the city leader's
        assert r["id"] not in await awaiting(leader)
        above = assert_error(await event(leader, r["id"], "approve", r["version"]), 403)
        assert above["code"] == "not_your_level" and "requesting unit" in above["message"]
        assert_error(await event(leader, r["id"], "reject", r["version"], "不同意"), 403)
        first = (await event(colleague, r["id"], "approve", r["version"])).json()
        assert first["approved_levels"] == 1
        assert r["id"] not in await awaiting(approver)  # level 2 is not the unit's
        refused = assert_error(await event(approver, r["id"], "approve", first["version"]), 403)
        assert refused["code"] == "not_your_level" and "above the requesting unit" in refused["message"]
        assert refused["details"] == {"level": 2, "approval_levels": 2}
        self_again = assert_error(await event(colleague, r["id"], "approve", first["version"]), 409)
        assert self_again["code"] == "already_approved_by_you"
        assert r["id"] in await awaiting(leader)
        second = (await event(leader, r["id"], "approve", first["version"])).json()
        assert second["state"] == "approved"
    for username in ("approver", "approver2"):
        assert [n["level"] for n in await notifications(db, username, "approval_pending")] == [1]
    assert [n["level"] for n in await notifications(db, "leader", "approval_pending")] == [2]


async def test_policies_by_depth_and_trip_type_decide_the_levels(app, client, db):
    ids = await users(db)
    unit_id = await db.fetchval("SELECT id FROM organisations WHERE code = $1", ids["unit"])
    await db.execute(
        """INSERT INTO approval_policies (org_id, trip_type, base_levels, cross_city_extra,
               night_extra, holiday_extra, allowed_car_levels)
           VALUES ($1, 'meeting', 2, 0, 0, 0, NULL), ($1, NULL, 1, 1, 1, 1, '{sedan}')""",
        unit_id,
    )
    await login(client, "requester")
    meeting = await submitted(client, dest_city="420700", trip_type="meeting")
    assert (meeting["approval_levels"], meeting["approval_reasons"]) == (2, [])  # the unit's meeting rule
    reception = await submitted(client, trip_type="reception", car_level_wanted="sedan")
    assert reception["approval_levels"] == 1  # the unit's generic rule beats the province's reception rule
    emergency = await submitted(client, trip_type="emergency")
    assert emergency["approval_levels"] == 1


async def test_a_car_class_outside_the_policy_is_refused_and_stays_a_draft(client, db):
    ids = await users(db)
    unit_id = await db.fetchval("SELECT id FROM organisations WHERE code = $1", ids["unit"])
    await db.execute(
        "INSERT INTO approval_policies (org_id, allowed_car_levels) VALUES ($1, '{sedan,minibus}')",
        unit_id)
    await login(client, "requester")
    r = await filed(client, car_level_wanted="business")
    refused = assert_error(await event(client, r["id"], "submit", r["version"]), 409)
    assert refused["code"] == "car_level_not_allowed" and "sedan" in refused["message"]
    assert refused["details"]["allowed_car_levels"] == ["minibus", "sedan"]
    after = (await client.get(f"/api/v1/trip-requests/{r['id']}")).json()
    assert (after["state"], after["version"]) == ("draft", r["version"])
    assert await db.fetchval("SELECT count(*) FROM trip_request_events WHERE request_id = $1", r["id"]) == 0
    # The applicant changes the draft to a car class the policy allows, and submits it.
    stale = await client.put(f"/api/v1/trip-requests/{r['id']}",
                             json={**body(car_level_wanted="sedan"), "version": r["version"] + 5})
    assert assert_error(stale, 409)["code"] == "stale_version"
    changed = await client.put(f"/api/v1/trip-requests/{r['id']}",
                               json={**body(car_level_wanted="sedan"), "version": r["version"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["car_level_wanted"] == "sedan" and changed.json()["version"] == r["version"] + 1
    ok = (await event(client, r["id"], "submit", changed.json()["version"])).json()
    assert ok["state"] == "pending_approval"
    too_late = await client.put(f"/api/v1/trip-requests/{r['id']}",
                                json={**body(), "version": ok["version"]})
    assert assert_error(too_late, 409)["code"] == "not_a_draft"


async def test_transport_subsidy_warns_the_approver_of_an_in_city_trip(app, client, db):
    await users(db)
    await db.execute("UPDATE users SET transport_subsidy = true WHERE username = 'requester'")
    await login(client, "requester")
    in_city = await submitted(client, driver_waits=False, contact_phone="13800000000")
    assert in_city["precheck_warnings"] == ["transport_subsidy"]
    assert (in_city["driver_waits"], in_city["contact_phone"]) == (False, "13800000000")
    out_of_town = await submitted(client, dest_city="420700")
    assert out_of_town["precheck_warnings"] == []
    async with new_client(app) as approver:
        await login(approver, "approver")
        seen = (await approver.get(f"/api/v1/trip-requests/{in_city['id']}")).json()
    assert seen["precheck_warnings"] == ["transport_subsidy"]


async def test_an_emergency_is_dispatched_at_once_and_approved_afterwards(app, client, db):
    await users(db)
    await login(client, "requester")
    r = await submitted(client, trip_type="emergency", dest_city="420700")
    assert r["state"] == "dispatching" and r["emergency_deadline"] is not None
    assert r["emergency_approved"] is None and r["approval_levels"] == 1  # province emergency rule
    [pending] = await notifications(db, "approver", "approval_pending")
    assert pending["emergency"] is True and pending["emergency_deadline"]
    async with new_client(app) as approver:
        await login(approver, "approver")
        assert r["id"] in await awaiting(approver)
        approved = (await event(approver, r["id"], "approve", r["version"], "补批")).json()
        assert approved["emergency_approved"] is True and approved["state"] == "dispatching"
        assert r["id"] not in await awaiting(approver)
    assert [n["request_id"] for n in await notifications(db, "requester", "request_approved")] == [r["id"]]


async def test_reject_with_a_reason_and_withdraw(app, client, db):
    await users(db)
    await login(client, "requester")
    r = await submitted(client)
    assert r["approval_levels"] == 1
    async with new_client(app) as approver:
        await login(approver, "approver")
        no_reason = assert_error(await event(approver, r["id"], "reject", r["version"], "  "), 422)
        assert no_reason["code"] == "reason_required"
        rejected = (await event(approver, r["id"], "reject", r["version"], "事由不充分")).json()
    assert rejected["state"] == "rejected"
    [told] = await notifications(db, "requester", "request_rejected")
    assert (told["request_id"], told["rejection_reason"], told["text"]) == (r["id"], "事由不充分", "事由不充分")
    other = await filed(client)
    withdrawn = (await event(client, other["id"], "withdraw", other["version"])).json()
    assert withdrawn["state"] == "withdrawn"
    mine = (await client.get("/api/v1/trip-requests?mine=true")).json()
    assert {item["id"] for item in mine["items"]} == {r["id"], other["id"]}


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
    submitted_r = (await event(client, r["id"], "submit", r["version"])).json()
    async with new_client(app) as outsider:
        await login(outsider, "outsider")  # an approver too, but of another city
        assert submitted_r["id"] not in await awaiting(outsider)
        assert_error(await event(outsider, r["id"], "approve", submitted_r["version"]), 404)
        assert (await outsider.get("/api/v1/trip-requests?decided_by_me=true")).json()["total"] == 0
    mine = (await client.get("/api/v1/trip-requests?state=pending_approval")).json()
    assert r["id"] in [item["id"] for item in mine["items"]]


async def test_trip_times_are_bounded(client, db):
    await users(db)
    await login(client, "requester")
    now = datetime.now(UTC)
    for start, hours, words in (
        (now - timedelta(hours=25), 2, "24 hours in the past"),
        (now + timedelta(days=181), 2, "180 days ahead"),
        (START, 31 * 24 + 1, "31 days"),
    ):
        refused = assert_error(await client.post("/api/v1/trip-requests",
                                                 json=body(start=start, hours=hours)), 422)
        assert words in refused["message"], refused
        edited = await client.put(f"/api/v1/trip-requests/{(await filed(client))['id']}",
                                  json={**body(start=start, hours=hours), "version": 1})
        assert words in assert_error(edited, 422)["message"]
    # an emergency filed while it is under way (the car went at once), a month-long posting
    late = await filed(client, trip_type="emergency", start=now - timedelta(hours=23), hours=30)
    assert late["state"] == "draft"
    await filed(client, start=now + timedelta(days=179), hours=31 * 24)


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
        {**body(), "contact_phone": "call me"},
    ):
        assert_error(await client.post("/api/v1/trip-requests", json=bad), 422)
    unknown = assert_error(await client.post("/api/v1/trip-requests", json=body(dest_city="999999")), 422)
    assert unknown["code"] == "unknown_city"
    r = (await client.post("/api/v1/trip-requests", json=body())).json()
    assert_error(await event(client, r["id"], "explode", r["version"]), 422)
    assert_error(await event(client, r["id"], "checked", r["version"]), 422)  # the system's own
    assert_error(await client.get("/api/v1/trip-requests/0"), 422)
    assert_error(await client.get("/api/v1/trip-requests/99999999"), 404)

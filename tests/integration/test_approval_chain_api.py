"""Who acts on a request over the API: only the applicant (or an org admin) submits, withdraws
or edits it; nobody decides their own request; level 1 goes above the unit only when the unit
has no approver of its own (the applicant aside); a chain needing more distinct approvers than
there are is capped at submission (chain_capped) so that it can always be completed."""

from __future__ import annotations

from fleet.users import upsert_user
from tests.integration.test_trip_requests_api import (
    START,
    awaiting,
    body,
    event,
    filed,
    notifications,
    submitted,
    users,
)
from tests.integration.web_app import PASSWORD, assert_error, login, new_client


async def test_only_the_applicant_or_an_org_admin_submits_withdraws_or_edits(app, client, db):
    ids = await users(db)
    await upsert_user(db, username="colleague", display_name="同事", org_code=ids["unit"],
                      roles=["requester"], password=PASSWORD)
    await upsert_user(db, username="unitadmin", display_name="单位管理员", org_code=ids["unit"],
                      roles=["org_admin"], password=PASSWORD)
    await login(client, "requester")
    draft = await filed(client)
    pending = await submitted(client)
    async with new_client(app) as colleague, new_client(app) as unit_admin:
        await login(colleague, "colleague")
        await login(unit_admin, "unitadmin")
        for refused in (
            await event(colleague, draft["id"], "submit", draft["version"]),
            await event(colleague, draft["id"], "withdraw", draft["version"]),
            await event(colleague, pending["id"], "withdraw", pending["version"]),
            await colleague.put(f"/api/v1/trip-requests/{draft['id']}",
                                json={**body(reason="改掉别人的申请"), "version": draft["version"]}),
        ):
            assert assert_error(refused, 403)["code"] == "not_your_request"
        unchanged = (await client.get(f"/api/v1/trip-requests/{draft['id']}")).json()
        assert (unchanged["state"], unchanged["reason"]) == ("draft", "赴基层调研")
        # the unit's org admin stands in for the applicant
        edited = await unit_admin.put(f"/api/v1/trip-requests/{draft['id']}",
                                      json={**body(reason="单位管理员代改"), "version": draft["version"]})
        assert edited.status_code == 200, edited.text
        withdrawn = await event(unit_admin, pending["id"], "withdraw", pending["version"])
        assert withdrawn.json()["state"] == "withdrawn", withdrawn.text
    # the applicant still does both
    mine = (await event(client, draft["id"], "submit", edited.json()["version"])).json()
    assert mine["state"] == "pending_approval"


async def test_nobody_decides_their_own_request(app, client, db):
    ids = await users(db)
    await upsert_user(db, username="chief", display_name="科长", org_code=ids["unit"],
                      roles=["requester", "approver"], password=PASSWORD)
    async with new_client(app) as chief, new_client(app) as approver:
        await login(chief, "chief")
        await login(approver, "approver")
        r = await submitted(chief)
        assert r["id"] not in await awaiting(chief)
        for name, note in (("approve", ""), ("reject", "自己驳回")):
            own = assert_error(await event(chief, r["id"], name, r["version"], note), 403)
            assert own["code"] == "own_request"
        assert r["id"] in await awaiting(approver)  # the unit's other approver decides it
        assert (await event(approver, r["id"], "approve", r["version"])).json()["state"] == "approved"
    assert await notifications(db, "chief", "approval_pending") == []


async def test_level_one_goes_above_when_the_units_only_approver_is_the_applicant(app, client, db):
    ids = await users(db)
    await db.execute("UPDATE users SET active = false WHERE username = 'approver'")
    await upsert_user(db, username="chief", display_name="科长", org_code=ids["unit"],
                      roles=["requester", "approver"], password=PASSWORD)
    async with new_client(app) as chief, new_client(app) as leader:
        await login(chief, "chief")
        await login(leader, "leader")
        r = await submitted(chief)
        assert r["approval_levels"] == 1
        assert r["id"] in await awaiting(leader)  # nobody else at the unit: the city decides
        assert [n["request_id"] for n in await notifications(db, "leader", "approval_pending")] == [r["id"]]
        assert (await event(leader, r["id"], "approve", r["version"])).json()["state"] == "approved"


async def test_a_chain_longer_than_the_approvers_is_capped(app, client, db):
    await users(db)
    await login(client, "requester")
    # cross-city and into the night: 3 levels by policy, but only the unit's approver and the
    # city's leader may decide them — 2 distinct people
    night = START.replace(hour=19)
    r = await submitted(client, dest_city="420700", start=night, hours=4)
    assert (r["approval_levels"], r["approval_reasons"]) == (2, ["cross_city", "night", "chain_capped"])
    async with new_client(app) as approver, new_client(app) as leader:
        await login(approver, "approver")
        await login(leader, "leader")
        r = (await event(approver, r["id"], "approve", r["version"])).json()
        r = (await event(leader, r["id"], "approve", r["version"])).json()
    assert r["state"] == "approved"
    history = (await client.get(f"/api/v1/trip-requests/{r['id']}/events")).json()
    assert history[0]["note"] == "extra approval: cross_city, night, chain_capped"

    # a second leader of the city: three people, three levels
    city = await db.fetchval("SELECT o.code FROM users u JOIN organisations o ON o.id = u.org_id "
                             "WHERE u.username = 'leader'")
    await upsert_user(db, username="leader2", display_name="另一分管领导", org_code=city,
                      roles=["approver"], password=PASSWORD)
    full = await submitted(client, dest_city="420700", start=night, hours=4)
    assert (full["approval_levels"], full["approval_reasons"]) == (3, ["cross_city", "night"])
    # a unit without any approver and one leader above: a cross-city trip gets one level
    await db.execute("UPDATE users SET active = false WHERE username IN ('approver', 'leader2')")
    one = await submitted(client, dest_city="420700")
    assert (one["approval_levels"], one["approval_reasons"]) == (1, ["cross_city", "chain_capped"])


async def test_an_admin_still_decides_any_level(app, client, db):
    await users(db)
    await login(client, "requester")
    r = await submitted(client, dest_city="420700")
    async with new_client(app) as admin:
        await login(admin, "admin")
        assert r["id"] in await awaiting(admin)
        first = (await event(admin, r["id"], "approve", r["version"])).json()
        assert first["approved_levels"] == 1
        again = assert_error(await event(admin, r["id"], "approve", first["version"]), 409)
        assert again["code"] == "already_approved_by_you"

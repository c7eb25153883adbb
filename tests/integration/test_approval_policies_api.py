"""Approval policies (审批规则) over the API: everyone reads those governing their scope; admins
set them anywhere, org admins in their own subtree only; bad input 422, an unknown (or unseen)
organisation 404, a second policy for the same organisation and trip type 409."""

from __future__ import annotations

from fleet.users import upsert_user
from tests.integration.web_app import PASSWORD, assert_error, login, new_client

RULES = {"base_levels": 2, "cross_city_extra": 1, "night_extra": 0, "holiday_extra": 1,
         "allowed_car_levels": ["sedan", "business", "sedan"]}


async def org_ids(db) -> dict[str, int]:
    rows = await db.fetch("SELECT code, id FROM organisations WHERE code = ANY($1::text[])",
                          ["420000", "420100", "420102", "420102-ZFB", "420200", "420200-GAJ"])
    return {r["code"]: r["id"] for r in rows}


async def test_admin_sets_a_policy_and_everyone_below_reads_it(app, client, db):
    orgs = await org_ids(db)
    await login(client, "admin")
    created = await client.post("/api/v1/approval-policies",
                                json={"org_id": orgs["420100"], "trip_type": "meeting", **RULES})
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["allowed_car_levels"] == ["business", "sedan"] and policy["editable"] is True
    assert (policy["org_code"], policy["trip_type"], policy["base_levels"]) == ("420100", "meeting", 2)
    duplicate = await client.post("/api/v1/approval-policies",
                                  json={"org_id": orgs["420100"], "trip_type": "meeting", **RULES})
    assert assert_error(duplicate, 409)["code"] == "policy_exists"
    generic = await client.post("/api/v1/approval-policies", json={"org_id": orgs["420100"], **RULES})
    assert generic.status_code == 201 and generic.json()["trip_type"] is None
    assert_error(await client.post("/api/v1/approval-policies",
                                   json={"org_id": orgs["420100"], **RULES}), 409)  # NULL = NULL here

    async with new_client(app) as requester, new_client(app) as outsider:
        await login(requester, "requester")  # a Wuhan unit: the province's and Wuhan's policies
        seen = (await requester.get("/api/v1/approval-policies")).json()
        codes = {(p["org_code"], p["trip_type"]) for p in seen}
        assert {("420000", None), ("420000", "reception"), ("420100", "meeting"), ("420100", None)} <= codes
        assert not any(p["editable"] for p in seen)
        assert_error(await requester.post("/api/v1/approval-policies",
                                          json={"org_id": orgs["420100"], **RULES}), 403)
        await upsert_user(db, username="hs_user", display_name="黄石用户", org_code="420200-GAJ",
                          roles=["requester"], password=PASSWORD)
        await login(outsider, "hs_user")
        theirs = {p["org_code"] for p in (await outsider.get("/api/v1/approval-policies")).json()}
        assert "420100" not in theirs and "420000" in theirs

    updated = await client.put(f"/api/v1/approval-policies/{policy['id']}",
                               json={**RULES, "base_levels": 3, "allowed_car_levels": None})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["base_levels"], updated.json()["allowed_car_levels"]) == (3, None)
    deleted = await client.delete(f"/api/v1/approval-policies/{policy['id']}")
    assert deleted.status_code == 204
    assert_error(await client.delete(f"/api/v1/approval-policies/{policy['id']}"), 404)


async def test_an_org_admin_sets_policies_in_their_subtree_only(app, client, db):
    orgs = await org_ids(db)
    await upsert_user(db, username="district_admin", display_name="江岸区管理员", org_code="420102",
                      roles=["org_admin"], password=PASSWORD)
    await login(client, "district_admin")
    own = await client.post("/api/v1/approval-policies", json={"org_id": orgs["420102"], **RULES})
    assert own.status_code == 201, own.text
    below = await client.post("/api/v1/approval-policies",
                              json={"org_id": orgs["420102-ZFB"], "trip_type": "reception", **RULES})
    assert below.status_code == 201 and below.json()["editable"] is True
    above = await client.post("/api/v1/approval-policies", json={"org_id": orgs["420100"], **RULES})
    assert assert_error(above, 403)["code"] == "forbidden"  # seen (it governs them), not theirs
    elsewhere = await client.post("/api/v1/approval-policies", json={"org_id": orgs["420200"], **RULES})
    assert assert_error(elsewhere, 404)["code"] == "organisation_not_found"  # another city: unseen
    missing = await client.post("/api/v1/approval-policies", json={"org_id": 999999, **RULES})
    assert assert_error(missing, 404)["code"] == "organisation_not_found"
    province_rule = await db.fetchval(
        "SELECT id FROM approval_policies WHERE org_id = $1 AND trip_type IS NULL", orgs["420000"])
    listed = {p["id"]: p for p in (await client.get("/api/v1/approval-policies")).json()}
    assert listed[province_rule]["editable"] is False
    assert_error(await client.put(f"/api/v1/approval-policies/{province_rule}", json=RULES), 403)
    assert_error(await client.delete(f"/api/v1/approval-policies/{province_rule}"), 403)
    async with new_client(app) as other:
        await upsert_user(db, username="hs_admin", display_name="黄石管理员", org_code="420200",
                          roles=["org_admin"], password=PASSWORD)
        await login(other, "hs_admin")
        assert_error(await other.put(f"/api/v1/approval-policies/{own.json()['id']}", json=RULES), 404)


async def test_bad_policies_are_422(client, db):
    orgs = await org_ids(db)
    await login(client, "admin")
    for bad in (
        {"org_id": orgs["420100"], **RULES, "base_levels": 0},
        {"org_id": orgs["420100"], **RULES, "base_levels": 6},
        {"org_id": orgs["420100"], **RULES, "night_extra": 3},
        {"org_id": orgs["420100"], **RULES, "allowed_car_levels": []},
        {"org_id": orgs["420100"], **RULES, "allowed_car_levels": ["limousine"]},
        {"org_id": orgs["420100"], **RULES, "trip_type": "party"},
        {"org_id": 0, **RULES},
        {**RULES},
        {"org_id": orgs["420100"], **RULES, "extra": 1},
    ):
        assert_error(await client.post("/api/v1/approval-policies", json=bad), 422)
    assert_error(await client.put("/api/v1/approval-policies/0", json=RULES), 422)
    assert_error(await client.put("/api/v1/approval-policies/99999", json=RULES), 404)

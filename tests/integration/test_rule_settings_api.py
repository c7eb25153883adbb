"""Rule parameters per organisation (versioned, audited) and holiday seals and duty
registrations (audited, in reach of admins and the org admins of the subtree); each change
marks the cars concerned for the rules worker."""

from __future__ import annotations

from contextlib import asynccontextmanager

from supervision import audit_store
from supervision.param_checks import check_values
from tests.integration.violation_fixtures import review_users, unit_car
from tests.integration.web_app import assert_error, login, new_client


@asynccontextmanager
async def as_user(app, username):
    async with new_client(app) as client:
        await login(client, username)
        yield client


async def test_parameters_resolve_and_version(app, db):
    car = await unit_car(db)
    await review_users(db, car)
    city = await db.fetchval("SELECT id FROM organisations WHERE code = '420100'")
    async with as_user(app, "admin") as admin:
        before = (await admin.get("/api/v1/rule-params", params={"org_id": car.org_id})).json()
        r2 = next(r for r in before["rules"] if r["rule_id"] == "R2")
        assert (r2["version"], r2["source_org_id"], r2["values"]["night_from"]) == (0, None, "20:00")
        made = await admin.post("/api/v1/rule-params", json={
            "org_id": city, "rule_id": "R2", "params": {"night_from": "21:00"}, "note": "夏季作息"})
        assert made.status_code == 201, made.text
        assert made.json()["version"] == 1
        again = await admin.post("/api/v1/rule-params", json={
            "org_id": city, "rule_id": "R2", "params": {"night_from": "21:30"}})
        assert again.json()["version"] == 2
        platform = await admin.post("/api/v1/rule-params", json={
            "org_id": None, "rule_id": "R6", "params": {"tolerance_pct": 15}})
        assert platform.json()["org_id"] is None and platform.json()["version"] == 1
        now = (await admin.get("/api/v1/rule-params", params={"org_id": car.org_id})).json()
        rules = {r["rule_id"]: r for r in now["rules"]}
        assert (rules["R2"]["version"], rules["R2"]["source_org_id"]) == (2, city)
        assert rules["R2"]["values"]["night_from"] == "21:30" and rules["R2"]["values"]["night_to"] == "06:00"
        assert (rules["R6"]["version"], rules["R6"]["values"]["tolerance_pct"]) == (1, 15)
        for bad in ({"nigth_from": "21:00"}, {"night_from": "9pm"}, {"severity": "loud"}, {}):
            refused = await admin.post("/api/v1/rule-params", json={"org_id": city, "rule_id": "R2", "params": bad})
            assert assert_error(refused, 422)["code"] == "bad_params", bad
        assert_error(await admin.post("/api/v1/rule-params", json={"org_id": 999999, "rule_id": "R2",
                                                                   "params": {"night_from": "21:00"}}), 404)
    assert await db.fetchval("SELECT count(*) FROM rule_dirty WHERE vehicle_id = $1", car.id) == 1
    trail = await audit_store.trail(db, f"rule_params:{city}:R2")
    assert [(r["action"], r["to_state"]) for r in trail] == [("set", "v1"), ("set", "v2")]
    async with as_user(app, "unitadmin") as unit:
        assert (await unit.get("/api/v1/rule-params")).status_code == 200
        assert_error(await unit.post("/api/v1/rule-params", json={
            "org_id": car.org_id, "rule_id": "R2", "params": {"night_from": "22:00"}}), 403)
        assert_error(await unit.get("/api/v1/rule-params", params={"org_id": city}), 404)
    async with as_user(app, "hs_admin") as other:
        assert_error(await other.get("/api/v1/rule-params", params={"org_id": car.org_id}), 404)
    async with as_user(app, "requester") as requester:
        assert_error(await requester.get("/api/v1/rule-params"), 403)


async def test_seals_and_duty_registrations(app, db):
    car = await unit_car(db)
    await review_users(db, car)
    seal = {"org_id": car.org_id, "name": "国庆节封存", "starts_at": "2026-09-30T18:00:00+08:00",
            "ends_at": "2026-10-08T08:00:00+08:00"}
    duty = {"vehicle_id": car.id, "reason": "防汛值班", "starts_at": "2026-07-01T00:00:00+08:00",
            "ends_at": "2026-07-08T00:00:00+08:00"}
    async with as_user(app, "unitadmin") as unit:
        made = await unit.post("/api/v1/seals", json=seal)
        assert made.status_code == 201, made.text
        seal_id = made.json()["id"]
        changed = await unit.put(f"/api/v1/seals/{seal_id}", json={**{k: seal[k] for k in ("starts_at", "ends_at")},
                                                                   "name": "国庆中秋封存"})
        assert changed.json()["name"] == "国庆中秋封存"
        assert [s["id"] for s in (await unit.get("/api/v1/seals")).json()] == [seal_id]
        registered = await unit.post("/api/v1/duty-registrations", json=duty)
        assert registered.status_code == 201, registered.text
        duty_id = registered.json()["id"]
        assert (await unit.get("/api/v1/duty-registrations", params={"vehicle_id": car.id})).json()[0]["plate"] == car.plate
        assert_error(await unit.post("/api/v1/seals", json={**seal, "ends_at": seal["starts_at"]}), 422)
    async with as_user(app, "hs_admin") as other:
        assert_error(await other.post("/api/v1/seals", json=seal), 404)
        assert_error(await other.put(f"/api/v1/seals/{seal_id}", json={**{k: seal[k] for k in ("starts_at", "ends_at")},
                                                                       "name": "x"}), 404)
        assert_error(await other.delete(f"/api/v1/duty-registrations/{duty_id}"), 404)
        assert_error(await other.post("/api/v1/duty-registrations", json=duty), 404)
        assert (await other.get("/api/v1/seals")).json() == []
    async with as_user(app, "dispatcher") as dispatcher:
        assert_error(await dispatcher.get("/api/v1/seals"), 403)
    async with as_user(app, "admin") as admin:
        assert (await admin.delete(f"/api/v1/seals/{seal_id}")).status_code == 204
        assert (await admin.delete(f"/api/v1/duty-registrations/{duty_id}")).status_code == 204
        assert_error(await admin.delete(f"/api/v1/seals/{seal_id}"), 404)
    assert [r["action"] for r in await audit_store.trail(db, f"seal:{seal_id}")] == ["created", "changed", "deleted"]
    assert [r["action"] for r in await audit_store.trail(db, f"duty:{duty_id}")] == ["created", "deleted"]
    dirty_from = await db.fetchval("SELECT from_ts FROM rule_dirty WHERE vehicle_id = $1", car.id)
    assert dirty_from.isoformat().startswith("2026-06-30T16:00")  # the duty's start, UTC
    assert (await audit_store.verify(db)).ok


def test_value_checks() -> None:
    assert check_values("R4", {"check_time": "22:30", "lot_tolerance_m": 150}) == []
    assert check_values("R10", {"by_category": {"special_technical": {"day_max_km": 600}}}) == []
    assert check_values("R10", {"by_category": {"taxi": {}}}) != []
    assert check_values("R6", {"tolerance_pct": -1}) == ["tolerance_pct: not negative"]
    assert check_values("R6", {"tolerance_pct": True}) == ["tolerance_pct: a number"]
    assert check_values("R99", {"x": 1}) == ["unknown rule R99"]

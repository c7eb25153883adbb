"""Rule parameters per organisation (versioned, audited) and holiday seals and duty
registrations (audited, in reach of admins and the org admins of the subtree); each change
marks the cars concerned for the rules worker."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from fleet.users import upsert_user
from supervision import audit_store
from supervision.param_checks import check_values
from tests.integration.violation_fixtures import LOCAL, PASSWORD, review_users, unit_car
from tests.integration.web_app import assert_error, login, new_client
from web.routes.seals import adds_past_cover


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
    starts = (datetime.now(LOCAL) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                               microsecond=0)
    duty = {"vehicle_id": car.id, "reason": "防汛值班", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(days=7)).isoformat()}
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
        assert registered.json()["plate"] == car.plate
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
    assert dirty_from == datetime.fromisoformat(seal["starts_at"])  # the earliest change's start
    assert (await audit_store.verify(db)).ok


async def test_a_unit_registers_duty_from_now_on_only(app, db):
    """The unit under supervision may not whitewash its own past: duty over earlier times is
    registered by an admin or an inspector (each registration audited)."""
    car = await unit_car(db)
    await review_users(db, car)
    await upsert_user(db, username="hs_inspector", display_name="黄石稽查员", org_code="420200",
                      roles=["inspector"], password=PASSWORD)
    now = datetime.now(LOCAL).replace(microsecond=0)
    past = {"vehicle_id": car.id, "reason": "应急值班（补报）",
            "starts_at": (now - timedelta(days=6)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat()}
    soon = {**past, "reason": "防汛值班", "starts_at": (now - timedelta(minutes=10)).isoformat()}
    async with as_user(app, "unitadmin") as unit:
        refused = await unit.post("/api/v1/duty-registrations", json=past)
        error = assert_error(refused, 403)
        assert error["code"] == "duty_backdated" and error["details"]["earliest_start"]
        made = await unit.post("/api/v1/duty-registrations", json=soon)
        assert made.status_code == 201, made.text
        assert made.json()["plate"] == car.plate
        duty_id = made.json()["id"]
        # nor stretched back afterwards, by its start or by an end long past
        stretched = await unit.put(f"/api/v1/duty-registrations/{duty_id}",
                                   json={k: past[k] for k in ("starts_at", "ends_at", "reason")})
        assert assert_error(stretched, 403)["code"] == "duty_backdated"
        longer = await unit.put(f"/api/v1/duty-registrations/{duty_id}", json={
            **{k: soon[k] for k in ("starts_at", "reason")},
            "ends_at": (now + timedelta(hours=5)).isoformat()})
        assert longer.status_code == 200 and longer.json()["plate"] == car.plate
    async with as_user(app, "hs_inspector") as other_city:     # reads all, registers its own
        assert duty_id in {d["id"] for d in (await other_city.get("/api/v1/duty-registrations")).json()}
        assert_error(await other_city.post("/api/v1/duty-registrations", json=past), 404)
    for username in ("inspector", "admin"):
        async with as_user(app, username) as cleared:
            made = await cleared.post("/api/v1/duty-registrations", json=past)
            assert made.status_code == 201, (username, made.text)
            assert made.json()["plate"] == car.plate
            trail = await audit_store.trail(db, f"duty:{made.json()['id']}")
            assert [(r["action"], r["actor_name"] is not None) for r in trail] == [("created", True)]
    async with as_user(app, "requester") as requester:
        assert_error(await requester.post("/api/v1/duty-registrations", json=soon), 403)


def test_only_new_cover_of_the_past_counts() -> None:
    t = datetime(2026, 12, 1, 12, 0, tzinfo=LOCAL)
    hour = timedelta(hours=1)
    assert adds_past_cover(t - 2 * hour, t + hour, t)
    assert not adds_past_cover(t, t + hour, t)
    was = (t - 5 * hour, t - 3 * hour)
    assert not adds_past_cover(t - 4 * hour, t - 3 * hour, t, was)       # shortened
    assert adds_past_cover(t - 6 * hour, t - 3 * hour, t, was)           # earlier start
    assert adds_past_cover(t - 5 * hour, t - hour, t, was)               # later end, in the past
    assert not adds_past_cover(t + hour, t + 2 * hour, t, was)           # moved to the future
    ongoing = (t - 5 * hour, t + hour)
    assert not adds_past_cover(t - 5 * hour, t + 9 * hour, t, ongoing)   # extended ahead


def test_value_checks() -> None:
    assert check_values("R4", {"check_time": "22:30", "lot_tolerance_m": 150}) == []
    assert check_values("R10", {"by_category": {"special_technical": {"day_max_km": 600}}}) == []
    assert check_values("R10", {"by_category": {"taxi": {}}}) != []
    assert check_values("R6", {"tolerance_pct": -1}) == ["tolerance_pct: not negative"]
    assert check_values("R6", {"tolerance_pct": True}) == ["tolerance_pct: a number"]
    assert check_values("R99", {"x": 1}) == ["unknown rule R99"]


def test_values_that_would_break_the_rules_are_refused() -> None:
    assert check_values("R1", {"min_trip_m": float("inf")}) == ["min_trip_m: a finite number"]
    assert check_values("R1", {"min_trip_m": float("nan")}) == ["min_trip_m: a finite number"]
    assert check_values("R1", {"min_trip_s": -60}) == ["min_trip_s: not negative"]
    assert check_values("R1", {"min_trip_m": None}) == ["min_trip_m: a number"]
    assert check_values("R2", {"night_from": "06:00"}) != []          # 06:00 → 06:00: empty
    assert check_values("R2", {"night_from": "21:00", "night_to": "21:00"}) != []
    assert check_values("R2", {"night_from": "21:00", "night_to": "05:00"}) == []
    assert check_values("R1", {"office_from": "18:00"}) != []         # 18:00 → 17:30
    assert check_values("R4", {"alarm_time": "22:00"}) != []
    assert check_values("R6", {"default_limit_kmh": 0}) == ["default_limit_kmh: above zero"]
    assert check_values("R7", {"power_cut_bit": 40}) != [] and check_values("R7", {"antenna_bit": 5}) == []
    assert check_values("R9", {"categories": ["entertainment", "karaoke"]}) == ["categories: unknown karaoke"]
    assert check_values("R2", {"by_category": {"emergency": {"night_to": "20:00"}}}) != []


async def test_the_api_refuses_non_finite_and_empty_windows(app, db):
    async with as_user(app, "admin") as admin:
        raw = '{"org_id": null, "rule_id": "R1", "params": {"min_trip_m": 1e400}}'
        refused = await admin.post("/api/v1/rule-params", content=raw,
                                   headers={"content-type": "application/json"})
        body = assert_error(refused, 422)
        assert body["code"] == "bad_params" and "finite" in body["message"]
        for bad in ({"night_from": "06:00"}, {"min_night_s": -1}, {"severity": None},
                    {"nightfrom": "21:00"}, {"min_night_s": "60"}):
            refused = await admin.post("/api/v1/rule-params",
                                       json={"org_id": None, "rule_id": "R2", "params": bad})
            assert assert_error(refused, 422)["code"] == "bad_params", bad
    assert await db.fetchval("SELECT count(*) FROM rule_params") == 0

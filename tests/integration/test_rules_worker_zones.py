"""The rules worker and the zones' lives: a zone deleted after a day was judged still counts
when that day is judged again (for the times before its deletion), so its violations are not
retracted with a false reason; a zone owned by another organisation's subtree never judges
the car (the org-scoped binding, with the car's org path passed at every zone lookup).
"""

from __future__ import annotations

from datetime import date

import pytest

from fleet.db import connect, create_pool
from supervision import rules_store, zone_store
from supervision.runner import RulesSettings, RulesWorker
from supervision.zone_validation import zone_fields
from tests.integration.rules_worker_fixtures import (
    Car,
    Track,
    ms,
    running_ingest,
    scripted_day,
    seeded_car,
    send,
    settings_for,
    wait_for_trip,
)
from tests.waiting import wait_until

NOW = RulesSettings(settle_s=0.0)


@pytest.fixture
async def db(seeded_db_url):
    conn = await connect(seeded_db_url)
    yield conn
    await conn.close()


@pytest.fixture
async def pool(seeded_db_url):
    pool = await create_pool(seeded_db_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


async def club_at(db, car: Car, code: str, org_code: str | None) -> int:
    """An entertainment venue (a sensitive place R9 watches) around where the car parks."""
    fields, problems = zone_fields({"shape": "circle", "purpose": "sensitive_place",
                                    "category": "entertainment", "centre": list(car.away),
                                    "radius_m": 150})
    assert not problems
    org_id = None if org_code is None else await db.fetchval(
        "SELECT id FROM organisations WHERE code = $1", org_code)
    fields.update(name_zh=f"某娱乐会所 {code}", name_en=f"A club {code}", org_id=org_id,
                  city_code="420100", active=True)
    async with db.transaction():
        row = await zone_store.insert_zone(db, code, fields, None)
    return row["id"]


def night_at_the_club(car: Car, day: date) -> Track:
    t = Track()
    t.park(ms(day, "20:30"), ms(day, "21:00"), car.lot)
    t.drive(ms(day, "21:00"), ms(day, "21:25"), car.lot, car.away)
    t.park(ms(day, "21:26"), ms(day, "21:50"), car.away)
    return t


async def test_a_deleted_zone_still_judges_the_days_before_its_deletion(
        services, seeded_db_url, db, pool, unique_prefix, tmp_path):
    car, day = await seeded_car(db), scripted_day()
    club = await club_at(db, car, "SZ-T-CLUB", None)
    elsewhere = await club_at(db, car, "SZ-T-HS-CLUB", "420200")     # 黄石's: not this car's
    settings = settings_for(services, seeded_db_url, unique_prefix, tmp_path)
    clock = {"now": ms(day, "21:52")}
    worker = RulesWorker(pool, NOW, clock=lambda: clock["now"])
    async with running_ingest(settings, db, car) as pub:
        await send(pub, settings.mqtt_topic_root, car, night_at_the_club(car, day), db)
        await wait_for_trip(db, car, ms(day, "21:00"), ms(day, "21:26"))

        async def parked() -> bool:
            return bool(await db.fetchval(
                "SELECT count(*) FROM stops WHERE vehicle_id = $1 AND start_ts >= $2",
                car.vehicle_id, rules_store.to_dt(ms(day, "21:20"))))

        await wait_until(parked, timeout_s=20, interval_s=0.2)
    while await worker.run_once():
        pass
    r9 = await db.fetchrow("SELECT id, state, summary FROM violations WHERE rule_id = 'R9' "
                           "AND vehicle_id = $1", car.vehicle_id)
    assert r9 is not None and r9["state"] == "open"
    assert [z["id"] for z in r9["summary"]["zones"]] == [club]
    [revision] = await db.fetch("SELECT bundle FROM violation_evidence WHERE violation_id = $1",
                                r9["id"])
    assert elsewhere not in {z["id"] for z in revision["bundle"]["zones"]}

    # the venue's zone is deleted (today); the day is judged again (an order changed, say)
    current = await zone_store.fetch_row(db, club, lock=False)
    async with db.transaction():
        await zone_store.update_zone(db, current, {"active": False}, None)
    [deleted] = await zone_store.load_zones(db, include_inactive=True, ids=[club])
    assert deleted.retired_ms is not None and deleted.retired_ms > ms(day, "21:50")
    worker.forget_zones()
    await rules_store.mark_dirty(pool, car.vehicle_id, ms(day, "20:00"))
    clock["now"] = ms(day, "21:55")
    while await worker.run_once():
        pass
    state = await db.fetchval("SELECT state FROM violations WHERE id = $1", r9["id"])
    assert state == "open"
    actions = [r["action"] for r in await db.fetch(
        "SELECT action FROM audit_log WHERE subject = $1 ORDER BY id", f"violation:{r9['id']}")]
    assert "retract" not in actions

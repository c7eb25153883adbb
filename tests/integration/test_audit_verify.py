"""`fleet audit verify` as an operator runs it: it passes on the audit trail of a real review,
then fails (exit 1, naming the record) once a past record is altered in the database by hand —
the superuser switching the append-only trigger off, changing a reason, switching it on."""

from __future__ import annotations

from datetime import date

from supervision import violation_store
from supervision.review import Event, State
from tests.integration.test_cli import SECRET, clean_env, fleet
from tests.integration.violation_fixtures import make_violation, unit_car


async def _review(db) -> int:
    """A violation detected, sent to its unit, explained, confirmed: four audit records."""
    car = await unit_car(db)
    violation_id = await make_violation(db, car, date(2026, 11, 30), with_positions=False)
    inspector = await db.fetchval("SELECT id FROM users WHERE username = 'inspector'")
    for event, to_state, reason in ((Event.SEND, State.AWAITING_EXPLANATION, "请说明"),
                                    (Event.EXPLAIN, State.UNDER_REVIEW, "加班送文件"),
                                    (Event.CONFIRM, State.CONFIRMED, "说明不成立")):
        async with db.transaction():
            row = await violation_store.lock(db, violation_id)
            await violation_store.move(db, row, event, to_state, inspector, reason)
    return violation_id


async def test_verify_passes_then_fails_after_a_hand_edit(seeded_db_url, db, services, unique_prefix):
    await _review(db)
    env = clean_env(FLEET_DATABASE_URL=seeded_db_url, FLEET_SECRET_KEY=SECRET,
                    FLEET_REDIS_URL=services.redis_url, FLEET_REDIS_PREFIX=unique_prefix)
    ok = fleet("audit", "verify", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "4 records verified" in ok.stdout and "OK" in ok.stdout

    target = await db.fetchval("SELECT id FROM audit_log WHERE action = 'explain'")
    await db.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    try:
        await db.execute("UPDATE audit_log SET reason = '已补办派车单' WHERE id = $1", target)
    finally:
        await db.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")

    bad = fleet("audit", "verify", env=env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"[changed] record {target}" in bad.stdout
    assert "Traceback" not in bad.stderr


async def test_verify_catches_a_deleted_tail(seeded_db_url, db, services, unique_prefix):
    await _review(db)
    env = clean_env(FLEET_DATABASE_URL=seeded_db_url, FLEET_SECRET_KEY=SECRET,
                    FLEET_REDIS_URL=services.redis_url, FLEET_REDIS_PREFIX=unique_prefix)
    assert fleet("audit", "verify", env=env).returncode == 0
    await db.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    try:
        await db.execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    finally:
        await db.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    bad = fleet("audit", "verify", env=env)
    assert bad.returncode == 1 and "[tail_removed]" in bad.stdout, bad.stdout
    # without Redis the checkpoint row still catches it
    no_redis = fleet("audit", "verify", env={k: v for k, v in env.items() if k != "FLEET_REDIS_URL"})
    assert no_redis.returncode == 1 and "[tail_removed]" in no_redis.stdout

from fleet.db import connect
from fleet.migrate import migrate, migration_files


async def test_migrations_apply_once_then_nothing(databases):
    url = await databases.create()
    conn = await connect(url)
    try:
        first = await migrate(conn)
        second = await migrate(conn)
        assert first == [name for name, _ in migration_files()]
        assert second == []
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
        for required in ("organisations", "users", "vehicles", "devices", "drivers",
                         "rental_companies", "geofences", "trip_requests", "dispatch_orders",
                         "positions", "dead_letters", "latest_vehicle_state"):
            assert required in tables
        partitions = await conn.fetchval(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'positions'::regclass"
        )
        assert partitions >= 10  # default + ten daily partitions around today
    finally:
        await conn.close()


async def test_changed_migration_is_refused(db_conn):
    await db_conn.execute("UPDATE schema_migrations SET checksum = 'tampered' WHERE name = (SELECT min(name) FROM schema_migrations)")
    try:
        await migrate(db_conn)
    except RuntimeError as exc:
        assert "changed after it was applied" in str(exc)
    else:
        raise AssertionError("a changed migration must be refused")


async def test_partition_function_is_idempotent(db_conn):
    created = await db_conn.fetchval("SELECT ensure_position_partitions('2026-01-01', '2026-01-03')")
    again = await db_conn.fetchval("SELECT ensure_position_partitions('2026-01-01', '2026-01-03')")
    assert (created, again) == (3, 0)

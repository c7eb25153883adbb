"""The audit trail in PostgreSQL (supervision/audit_store.py): append in the caller's
transaction, concurrent appenders never fork the chain, a rolled-back append leaves no gap,
and verify catches what a superuser does past the append-only trigger."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from fleet.db import create_pool
from supervision import audit_store
from supervision.audit import GENESIS_HASH, Checkpoint


async def _append(conn: asyncpg.Connection, n: int, subject: str = "violation:1") -> None:
    for i in range(n):
        async with conn.transaction():
            await audit_store.append(conn, None, subject, "transition", "open", "confirmed",
                                     f"reason {i}", {"i": i, "km": 12.5, "zh": "说明"})


async def _tamper(conn: asyncpg.Connection, sql: str, *args) -> None:
    """What a superuser can do: switch the append-only trigger off, change, switch it on."""
    await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


async def test_append_needs_a_transaction(db_conn) -> None:
    with pytest.raises(audit_store.NotInTransaction):
        await audit_store.append(db_conn, None, "violation:1", "x", None, None, "", {})
    with pytest.raises(audit_store.NotInTransaction):
        await audit_store.lock_chain(db_conn)
    async with db_conn.transaction():  # taken early, then again by append: re-entrant
        await audit_store.lock_chain(db_conn)
        await audit_store.append(db_conn, None, "violation:1", "x", None, None, "", {})


async def test_append_chains_and_verifies(db_conn) -> None:
    await _append(db_conn, 5)
    rows = await db_conn.fetch("SELECT id, prev_hash, hash, data FROM audit_log ORDER BY id")
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == GENESIS_HASH
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 5))
    cp = await audit_store.checkpoint(db_conn)
    assert cp == Checkpoint(5, rows[-1]["hash"])
    result = await audit_store.verify(db_conn)
    assert result.ok and result.count == 5, result.problems
    trail = await audit_store.trail(db_conn, "violation:1")
    assert [r["reason"] for r in trail] == [f"reason {i}" for i in range(5)]


async def test_rolled_back_append_leaves_no_gap(db_conn) -> None:
    await _append(db_conn, 1)
    with pytest.raises(RuntimeError):
        async with db_conn.transaction():
            await audit_store.append(db_conn, None, "violation:2", "x", None, None, "", {})
            raise RuntimeError("the change it recorded failed")
    await _append(db_conn, 1)
    assert [r["id"] for r in await db_conn.fetch("SELECT id FROM audit_log ORDER BY id")] == [1, 2]
    assert (await audit_store.verify(db_conn)).ok


async def test_concurrent_appenders_never_fork(migrated_db_url) -> None:
    pool = await create_pool(migrated_db_url, min_size=4, max_size=4)
    try:
        async def worker(k: int) -> None:
            async with pool.acquire() as conn:
                await _append(conn, 15, f"violation:{k}")

        await asyncio.gather(*(worker(k) for k in range(4)))
        async with pool.acquire() as conn:
            result = await audit_store.verify(conn)
            assert result.ok and result.count == 60, result.problems
            assert await conn.fetchval("SELECT count(DISTINCT prev_hash) FROM audit_log") == 60
    finally:
        await pool.close()


async def test_table_refuses_update_and_delete(db_conn) -> None:
    await _append(db_conn, 2)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db_conn.execute("UPDATE audit_log SET reason = 'x' WHERE id = 1")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db_conn.execute("DELETE FROM audit_log WHERE id = 2")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db_conn.execute("UPDATE audit_checkpoint SET last_id = 1")


async def test_verify_catches_a_changed_reason(db_conn) -> None:
    await _append(db_conn, 6)
    await _tamper(db_conn, "UPDATE audit_log SET reason = 'nothing happened' WHERE id = 3")
    result = await audit_store.verify(db_conn)
    assert [(p.kind, p.id) for p in result.problems] == [("changed", 3)]


async def test_verify_catches_changed_data(db_conn) -> None:
    await _append(db_conn, 3)
    await _tamper(db_conn, """UPDATE audit_log SET data = jsonb_set(data, '{km}', '1.0')
                              WHERE id = 2""")
    assert [p.kind for p in (await audit_store.verify(db_conn)).problems] == ["changed"]


async def test_verify_catches_a_deleted_record(db_conn) -> None:
    await _append(db_conn, 6)
    await _tamper(db_conn, "DELETE FROM audit_log WHERE id = 4")
    result = await audit_store.verify(db_conn)
    assert [(p.kind, p.id) for p in result.problems] == [("removed", 5)]


async def test_verify_catches_a_deleted_tail_and_appends_keep_it_visible(db_conn) -> None:
    await _append(db_conn, 6)
    await _tamper(db_conn, "DELETE FROM audit_log WHERE id >= 5")
    result = await audit_store.verify(db_conn)
    assert [(p.kind, p.id) for p in result.problems] == [("tail_removed", 6)]
    await _append(db_conn, 1)  # the platform goes on; the hole stays visible
    assert await db_conn.fetchval("SELECT max(id) FROM audit_log") == 7
    assert [p.kind for p in (await audit_store.verify(db_conn)).problems] == ["removed"]


async def test_outside_checkpoint_catches_a_rewritten_chain(db_conn) -> None:
    await _append(db_conn, 4)
    outside = (await audit_store.verify(db_conn)).last
    await _tamper(db_conn, "DELETE FROM audit_log")
    await db_conn.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER audit_checkpoint_forward_only")
    await db_conn.execute("DELETE FROM audit_checkpoint")
    await db_conn.execute("ALTER TABLE audit_checkpoint ENABLE TRIGGER audit_checkpoint_forward_only")
    await _append(db_conn, 2)  # a fresh, internally whole chain
    assert (await audit_store.verify(db_conn)).ok
    result = await audit_store.verify(db_conn, outside)
    assert [p.kind for p in result.problems] == ["tail_removed"]

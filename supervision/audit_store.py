"""PostgreSQL side of the audit trail (审计): append a record to the hash chain, read a
subject's trail, verify the whole chain.

`append` runs inside the caller's transaction (the transition it records commits with it or
not at all). A transaction-scoped advisory lock serialises appenders, so the chain never forks:
each record takes the next id after the newest one (ids are contiguous: a rolled-back append
leaves no gap) and links to its hash. The checkpoint row (migration 0013) moves with it.

The chain's threats and what catches them (`verify`):
- a past record's content changed (UPDATE past the append-only trigger): its hash no longer
  matches (kind "changed");
- a past record removed: the next record's prev_hash links to nothing present ("removed");
- the newest records removed: the checkpoint names a record that is gone ("tail_removed");
- checkpoint and chain both rewritten by hand: the last verified point kept in Redis by
  `fleet audit verify` (outside the database) names a record that is gone or has another
  hash ("tail_removed" / "checkpoint").
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from supervision.audit import (
    GENESIS_HASH,
    AuditRecord,
    ChainVerifier,
    Checkpoint,
    Problem,
    normalise,
    seal,
)

LOCK_KEY = 0x4A0D0000 + zlib.crc32(b"audit_log") % 0xFFFF
BATCH = 5000
_COLUMNS = "id, at, actor_id, subject, action, from_state, to_state, reason, data, prev_hash, hash"


class NotInTransaction(RuntimeError):
    """append() needs the caller's transaction: the record commits with what it records."""


async def lock_chain(conn: asyncpg.Connection) -> None:
    """Takes the audit lock now (held until the transaction ends; taking it again is free).
    A transaction that will append after locking rows (a violation, a seal) must take it
    BEFORE those row locks: with one order for everyone — the audit lock, then rows — two
    writers can never wait on each other in a cycle."""
    if not conn.is_in_transaction():
        raise NotInTransaction("the audit lock is held for the caller's transaction")
    await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)


async def append(
    conn: asyncpg.Connection,
    actor_id: int | None,
    subject: str,
    action: str,
    from_state: str | None,
    to_state: str | None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditRecord:
    """Appends one record (actor_id None: the system) and returns it, hashed. Call it inside
    the transaction that makes the change it records; it holds the audit lock until that
    transaction ends, so keep such transactions short (and see `lock_chain` on lock order)."""
    if not conn.is_in_transaction():
        raise NotInTransaction("audit_store.append must run inside the caller's transaction")
    await lock_chain(conn)
    row = await conn.fetchrow(
        """SELECT (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1) AS last_id,
                  (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) AS last_hash,
                  (SELECT last_id FROM audit_checkpoint WHERE id = 1) AS checkpoint_id,
                  clock_timestamp() AS at""")
    # After a removed tail the checkpoint is ahead of the table: the next id stays past it,
    # so the removal remains visible as a gap instead of being papered over.
    next_id = max(row["last_id"] or 0, row["checkpoint_id"] or 0) + 1
    record = seal(AuditRecord(
        id=next_id, at=row["at"], actor_id=actor_id, subject=subject, action=action,
        from_state=from_state, to_state=to_state, reason=reason or "",
        data=normalise(data or {}), prev_hash=row["last_hash"] or GENESIS_HASH))
    await conn.execute(
        f"""INSERT INTO audit_log ({_COLUMNS}) OVERRIDING SYSTEM VALUE
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10, $11)""",
        record.id, record.at, record.actor_id, record.subject, record.action, record.from_state,
        record.to_state, record.reason, json.dumps(record.data, ensure_ascii=False), record.prev_hash,
        record.hash)
    await conn.execute(
        """INSERT INTO audit_checkpoint (id, last_id, last_hash) VALUES (1, $1, $2)
           ON CONFLICT (id) DO UPDATE SET last_id = EXCLUDED.last_id,
               last_hash = EXCLUDED.last_hash, updated_at = now()""",
        record.id, record.hash)
    return record


async def trail(conn: asyncpg.Connection | asyncpg.Pool, subject: str) -> list[asyncpg.Record]:
    """A subject's records, oldest first, with the actor's name."""
    return await conn.fetch(
        """SELECT a.id, a.at, a.actor_id, u.display_name AS actor_name, a.subject, a.action,
                  a.from_state, a.to_state, a.reason, a.data, a.hash
           FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
           WHERE a.subject = $1 ORDER BY a.id""", subject)


async def checkpoint(conn: asyncpg.Connection) -> Checkpoint | None:
    row = await conn.fetchrow("SELECT last_id, last_hash FROM audit_checkpoint WHERE id = 1")
    return Checkpoint(row["last_id"], row["last_hash"]) if row else None


async def records(conn: asyncpg.Connection, batch: int = BATCH) -> AsyncIterator[list[AuditRecord]]:
    """The whole chain in id order, in batches (keyset pages: no long transaction)."""
    after = 0
    while True:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2", after, batch)
        if not rows:
            return
        yield [AuditRecord.from_row(r) for r in rows]
        after = rows[-1]["id"]


@dataclass(frozen=True)
class VerifyResult:
    count: int
    last: Checkpoint | None  # the newest record verified
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify(conn: asyncpg.Connection, extra: Checkpoint | None = None,
                 extra_name: str = "last verified point") -> VerifyResult:
    """Recomputes the whole chain against the table's checkpoint and, when given, another one
    kept elsewhere (`extra`). The checkpoint is read before the scan: appends during the scan
    only lengthen the chain."""
    verifier = ChainVerifier([("checkpoint", await checkpoint(conn)), (extra_name, extra)])
    async for batch in records(conn):
        verifier.feed(batch)
    last = Checkpoint(verifier.last_id, verifier.last_hash) if verifier.count else None
    return VerifyResult(verifier.count, last, verifier.finish())

"""PostgreSQL side of the review (监督检查): move a violation through its states, store a
unit's explanations and their files, and create a violation with its first evidence — each
with its audit record (supervision/audit_store.py) in the same transaction.

The caller owns the transaction: it locks the violation (`lock`), checks the move
(supervision/review.py), then calls `move`. `system_move` does all three for the platform's
own moves (overdue, auto_close, retract: the web job and the rules worker).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from supervision import audit_store
from supervision.review import (
    MACHINE,
    Event,
    IllegalTransition,
    State,
    is_overdue,
)

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_PENDING_FILES = 10  # uploaded by one user, not yet sent with an explanation


def subject(violation_id: int) -> str:
    return f"violation:{violation_id}"


def local_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(LOCAL_TZ).date()


async def lock(conn: asyncpg.Connection, violation_id: int) -> asyncpg.Record | None:
    """The violation, locked until the transaction ends, with its organisation's path. The
    audit lock is taken first (audit_store.lock_chain: one lock order for every writer)."""
    await audit_store.lock_chain(conn)
    return await conn.fetchrow(
        """SELECT v.id, v.rule_id, v.severity, v.state, v.version, v.org_id, v.explanation_due,
                  v.vehicle_id, o.path AS org_path
           FROM violations v JOIN organisations o ON o.id = v.org_id
           WHERE v.id = $1 FOR UPDATE OF v""", violation_id)


async def move(
    conn: asyncpg.Connection, row: asyncpg.Record, event: Event, to_state: State,
    actor_id: int | None, reason: str, *, due: date | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Writes the checked move of a locked violation and its audit record; the new version.
    `due` (a send) sets the explanation deadline."""
    version = await conn.fetchval(
        """UPDATE violations SET state = $2, version = version + 1, updated_at = now(),
               explanation_due = CASE WHEN $3::date IS NULL THEN explanation_due ELSE $3::date END
           WHERE id = $1 RETURNING version""", row["id"], to_state.value, due)
    record = {"version": version, **(data or {})}
    if due is not None:
        record["explanation_due"] = due.isoformat()
    await audit_store.append(conn, actor_id, subject(row["id"]), event.value, row["state"],
                             to_state.value, reason, record)
    return version


async def system_move(conn: asyncpg.Connection, violation_id: int, event: Event, reason: str,
                      data: dict[str, Any] | None = None) -> State | None:
    """The platform's own move (overdue, auto_close, retract), inside the caller's transaction:
    the new state, or None when the violation's state does not allow it (left as it is)."""
    row = await lock(conn, violation_id)
    if row is None:
        return None
    try:
        to_state = MACHINE.next(State(row["state"]), event)
    except IllegalTransition:
        return None
    await move(conn, row, event, to_state, None, reason, data=data)
    return to_state


async def add_explanation(conn: asyncpg.Connection, violation_id: int, kind: str, text: str,
                          user_id: int, attachment_ids: list[int]) -> int:
    """Stores the unit's text and claims the user's files sent with it; the explanation's id.
    Raises LookupError when a file is not one of the user's pending files of this violation."""
    explanation_id = await conn.fetchval(
        """INSERT INTO violation_explanations (violation_id, kind, text, submitted_by)
           VALUES ($1, $2, $3, $4) RETURNING id""", violation_id, kind, text, user_id)
    if attachment_ids:
        claimed = await conn.fetch(
            """UPDATE violation_attachments SET explanation_id = $1
               WHERE violation_id = $2 AND uploaded_by = $3 AND explanation_id IS NULL
                 AND id = ANY($4::bigint[]) RETURNING id""",
            explanation_id, violation_id, user_id, attachment_ids)
        if len(claimed) != len(set(attachment_ids)):
            missing = sorted(set(attachment_ids) - {r["id"] for r in claimed})
            raise LookupError(missing)
    return explanation_id


async def count_pending_files(conn: asyncpg.Connection, violation_id: int, user_id: int) -> int:
    return await conn.fetchval(
        """SELECT count(*) FROM violation_attachments
           WHERE violation_id = $1 AND uploaded_by = $2 AND explanation_id IS NULL""",
        violation_id, user_id)


async def add_file(conn: asyncpg.Connection, violation_id: int, filename: str,
                   content_type: str, data: bytes, user_id: int) -> asyncpg.Record:
    """Stores one file (pending until an explanation claims it); its metadata. Size and
    SHA-256 are PostgreSQL's, computed from the bytes it stores."""
    return await conn.fetchrow(
        """INSERT INTO violation_attachments (violation_id, filename, content_type, size_bytes,
               sha256, data, uploaded_by)
           VALUES ($1, $2, $3, octet_length($4::bytea), encode(sha256($4::bytea), 'hex'), $4, $5)
           RETURNING id, violation_id, explanation_id, filename, content_type, size_bytes, sha256,
                     uploaded_by, uploaded_at""",
        violation_id, filename, content_type, data, user_id)


async def create(
    conn: asyncpg.Connection, *, rule_id: str, finding_key: str, vehicle_id: int | None,
    org_id: int, severity: str, started_at: datetime, ended_at: datetime | None,
    params: dict[str, Any], params_version: int, summary: dict[str, Any],
    bundle: dict[str, Any], reason: str = "detected", actor_id: int | None = None,
) -> int:
    """A new violation (state open) with evidence revision 1 and its 'detected' audit record;
    its id."""
    violation_id = await conn.fetchval(
        """INSERT INTO violations (rule_id, finding_key, vehicle_id, org_id, severity,
               started_at, ended_at, local_day, params, params_version, summary)
           VALUES ($1, $2, $3, $4, $5, $6, $7, ($6 AT TIME ZONE 'Asia/Shanghai')::date, $8, $9, $10)
           RETURNING id""",
        rule_id, finding_key, vehicle_id, org_id, severity, started_at, ended_at, params,
        params_version, summary)
    await conn.execute(
        """INSERT INTO violation_evidence (violation_id, revision, reason, bundle)
           VALUES ($1, 1, $2, $3)""", violation_id, reason, bundle)
    await audit_store.append(conn, actor_id, subject(violation_id), "detected", None, "open",
                             reason, {"rule_id": rule_id, "severity": severity,
                                      "finding_key": finding_key, "revision": 1})
    return violation_id


async def mark_overdue(pool: asyncpg.Pool, today: date | None = None) -> int:
    """逾期: every violation still awaiting its explanation past the due day moves to overdue
    (one transaction each, with its audit record). The web job runs this; returns how many."""
    today = today or local_today()
    ids = [r["id"] for r in await pool.fetch(
        """SELECT id FROM violations WHERE state = 'awaiting_explanation'
             AND explanation_due < $1 ORDER BY id""", today)]
    moved = 0
    for violation_id in ids:
        async with pool.acquire() as conn, conn.transaction():
            row = await lock(conn, violation_id)
            if row is None or row["state"] != State.AWAITING_EXPLANATION.value:
                continue  # answered meanwhile
            if not is_overdue(row["explanation_due"], today):
                continue
            await move(conn, row, Event.OVERDUE, State.OVERDUE, None,
                       f"no explanation by {row['explanation_due'].isoformat()}",
                       data={"explanation_due": row["explanation_due"].isoformat()})
            moved += 1
    if moved:
        log.info("violations overdue: %d", moved)
    return moved

"""PostgreSQL writes of the rules worker's verdicts (reconcile's actions): violations inserted
or amended with a new evidence revision, retracted or auto-closed through the review's own
system move (supervision/violation_store.py), notes for the reviewers — each with its
audit_log record (supervision/audit_store.py) in the caller's transaction — and the R17
case each part belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import asyncpg

from supervision import audit_store, violation_store
from supervision.model import Finding, RuleParams
from supervision.reconcile import Action, Stored
from supervision.review import Event
from supervision.rules_store import to_dt

SYSTEM_EVENTS = {"retract": Event.RETRACT, "auto_close": Event.AUTO_CLOSE}


def subject(violation_id: int) -> str:
    return violation_store.subject(violation_id)


async def row(conn: asyncpg.Connection, violation_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, rule_id, finding_key, vehicle_id, org_id, severity, state, started_at,
                  ended_at, local_day, driver_id, order_ids, params, params_version, summary,
                  provisional, request_id
           FROM violations WHERE id = $1""", violation_id)


async def latest_bundle(conn: asyncpg.Connection, violation_id: int) -> tuple[int, dict[str, Any]]:
    found = await conn.fetchrow(
        """SELECT revision, bundle FROM violation_evidence WHERE violation_id = $1
           ORDER BY revision DESC LIMIT 1""", violation_id)
    return (0, {}) if found is None else (found["revision"], found["bundle"])


async def add_evidence(conn: asyncpg.Connection, violation_id: int, reason: str,
                       bundle: dict[str, Any]) -> int:
    """The next revision of the frozen evidence; its number."""
    return await conn.fetchval(
        """INSERT INTO violation_evidence (violation_id, revision, reason, bundle)
           SELECT $1, coalesce(max(revision), 0) + 1, $2, $3 FROM violation_evidence
           WHERE violation_id = $1 RETURNING revision""", violation_id, reason, bundle)


async def insert(conn: asyncpg.Connection, finding: Finding, *, vehicle_id: int | None,
                 org_id: int, local_day: date, params: RuleParams | None,
                 driver_id: int | None, bundle: dict[str, Any], reason: str) -> int | None:
    """A new violation (open) with evidence revision 1 and its 'detected' record; None when
    another day's evaluation stored the same (rule, key) meanwhile."""
    violation_id = await conn.fetchval(
        """INSERT INTO violations (rule_id, finding_key, vehicle_id, org_id, request_id,
               severity, state, started_at, ended_at, local_day, driver_id, order_ids, params,
               params_version, summary, provisional)
           VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (rule_id, finding_key) DO NOTHING RETURNING id""",
        finding.rule_id, finding.key, vehicle_id, org_id, finding.request_id, finding.severity,
        to_dt(finding.start_ms), None if finding.end_ms is None else to_dt(finding.end_ms),
        local_day, driver_id, list(finding.order_ids),
        dict(params.values) if params is not None else {},
        params.version if params is not None else 0, finding.summary, finding.provisional)
    if violation_id is None:
        return None
    revision = await add_evidence(conn, violation_id, reason, bundle)
    await audit_store.append(conn, None, subject(violation_id), "detected", None, "open", reason,
                             {"rule_id": finding.rule_id, "finding_key": finding.key,
                              "severity": finding.severity, "provisional": finding.provisional,
                              "revision": revision, "local_day": local_day.isoformat()})
    return violation_id


async def amend(conn: asyncpg.Connection, action: Action, *, params: RuleParams | None,
                driver_id: int | None, bundle: dict[str, Any]) -> int:
    """Writes what re-evaluation found now (and the state back to open when reinstated);
    a new evidence revision and an 'amended' (or 'reinstated') record."""
    finding, stored = action.finding, action.stored
    assert finding is not None and stored is not None and stored.id is not None
    await conn.execute(
        """UPDATE violations SET severity = $2, started_at = $3, ended_at = $4, driver_id = $5,
               order_ids = $6, params = $7, params_version = $8, summary = $9, provisional = $10,
               state = coalesce($11, state), version = version + 1, updated_at = now()
           WHERE id = $1""",
        stored.id, finding.severity, to_dt(finding.start_ms),
        None if finding.end_ms is None else to_dt(finding.end_ms), driver_id,
        list(finding.order_ids), dict(params.values) if params is not None else {},
        params.version if params is not None else 0, finding.summary, finding.provisional,
        action.to_state)
    revision = await add_evidence(conn, stored.id, action.reason, bundle)
    reinstated = action.to_state is not None and action.to_state != stored.state
    await audit_store.append(
        conn, None, subject(stored.id), "reinstated" if reinstated else "amended", stored.state,
        action.to_state or stored.state, action.reason,
        {"severity": finding.severity, "severity_before": stored.severity,
         "provisional": finding.provisional, "revision": revision})
    return revision


async def close(conn: asyncpg.Connection, action: Action, bundle: dict[str, Any]) -> str | None:
    """Retract or auto-close (the review's system moves, with their audit record) and file the
    evidence that no longer supports it; the new state, or None when the state allows neither
    (then left as it is)."""
    stored = action.stored
    assert stored is not None and stored.id is not None
    state = await violation_store.system_move(conn, stored.id, SYSTEM_EVENTS[action.kind],
                                              action.reason, {"rule_id": stored.rule_id})
    if state is None:
        return None
    await add_evidence(conn, stored.id, action.reason, bundle)
    return str(state)


async def note(conn: asyncpg.Connection, stored: Stored, reason: str) -> bool:
    """A note for the reviewers (late data no longer supports a violation in their hands),
    written once: not again while the subject's newest record already says it."""
    assert stored.id is not None
    last = await conn.fetchval(
        "SELECT reason FROM audit_log WHERE subject = $1 ORDER BY id DESC LIMIT 1",
        subject(stored.id))
    if last == reason:
        return False
    await audit_store.append(conn, None, subject(stored.id), "note", stored.state, stored.state,
                             reason, {"rule_id": stored.rule_id})
    return True


async def set_case(conn: asyncpg.Connection, case_id: int,
                   parts: Iterable[tuple[str, str]]) -> None:
    """R17: its parts point at the case; violations no longer part of it are released."""
    parts = sorted(set(parts))
    await conn.execute(
        """UPDATE violations SET case_id = NULL WHERE case_id = $1
             AND (rule_id, finding_key) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))""",
        case_id, [p[0] for p in parts], [p[1] for p in parts])
    if parts:
        await conn.execute(
            """UPDATE violations SET case_id = $1 WHERE id <> $1
                 AND (rule_id, finding_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))""",
            case_id, [p[0] for p in parts], [p[1] for p in parts])


async def release_case(conn: asyncpg.Connection, case_id: int) -> None:
    await conn.execute("UPDATE violations SET case_id = NULL WHERE case_id = $1", case_id)


async def driver(conn: asyncpg.Connection, driver_id: int | None) -> dict[str, Any] | None:
    if driver_id is None:
        return None
    found = await conn.fetchrow("SELECT id, name, user_id FROM drivers WHERE id = $1", driver_id)
    return None if found is None else {"id": found["id"], "name": found["name"],
                                       "user_id": found["user_id"]}

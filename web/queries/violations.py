"""Reads of violations (违规) for the review: the filtered list (keyset pages), counts by rule
and outcome, one violation with its evidence, explanations, attachments and audit trail.
Plain SQL.

Scope: `scope_root_id` None reads everything (inspectors and admins, province-wide);
otherwise the violations of organisations in that subtree (org admins, dispatchers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg

MAX_EXPORT_ROWS = 20_000

_COLUMNS = """v.id, v.rule_id, v.finding_key, v.severity, v.state, v.started_at, v.ended_at,
    v.local_day, v.vehicle_id, vh.plate, vh.use_category, vh.source AS vehicle_source,
    v.org_id, o.name_zh AS org_name_zh, o.name_en AS org_name_en, o.path AS org_path,
    o.city_code, c.name_zh AS city_name_zh, c.name_en AS city_name_en,
    v.driver_id, dr.name AS driver_name, v.request_id, v.order_ids, v.params, v.params_version,
    v.summary, v.provisional, v.case_id, v.detected_at, v.updated_at, v.explanation_due,
    v.version,
    (SELECT e.bundle -> 'message' FROM violation_evidence e WHERE e.violation_id = v.id
     ORDER BY e.revision DESC LIMIT 1) AS message"""
_FROM = """FROM violations v
    JOIN organisations o ON o.id = v.org_id
    LEFT JOIN cities c ON c.code = o.city_code
    LEFT JOIN vehicles vh ON vh.id = v.vehicle_id
    LEFT JOIN drivers dr ON dr.id = v.driver_id"""


@dataclass(frozen=True)
class ViolationFilter:
    rules: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    city: str | None = None
    unit_id: int | None = None  # the organisation and everything below it
    vehicle_id: int | None = None
    plate: str | None = None  # part of the plate
    day_from: date | None = None
    day_to: date | None = None
    text: str | None = None  # plate, unit, rule, message, summary
    sent_to_units: bool = False  # only what a unit has before it (its page)


@dataclass
class _Sql:
    clauses: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self) -> str:
        return "WHERE " + " AND ".join(self.clauses) if self.clauses else ""


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(f: ViolationFilter, scope_root_id: int | None) -> _Sql:
    sql = _Sql()
    if scope_root_id is not None:
        sql.clauses.append(f"o.path @> ARRAY[{sql.arg(scope_root_id)}::int]")
    if f.rules:
        sql.clauses.append(f"v.rule_id = ANY({sql.arg(list(f.rules))}::text[])")
    if f.severities:
        sql.clauses.append(f"v.severity = ANY({sql.arg(list(f.severities))}::text[])")
    if f.states:
        sql.clauses.append(f"v.state = ANY({sql.arg(list(f.states))}::text[])")
    if f.sent_to_units:
        sql.clauses.append("(v.explanation_due IS NOT NULL OR v.state IN ('confirmed', "
                           "'rectified', 'closed', 'referred'))")
    if f.city:
        sql.clauses.append(f"o.city_code = {sql.arg(f.city)}")
    if f.unit_id is not None:
        sql.clauses.append(f"o.path @> ARRAY[{sql.arg(f.unit_id)}::int]")
    if f.vehicle_id is not None:
        sql.clauses.append(f"v.vehicle_id = {sql.arg(f.vehicle_id)}")
    if f.plate:
        sql.clauses.append(f"vh.plate ILIKE {sql.arg(_like(f.plate))}")
    if f.day_from is not None:
        sql.clauses.append(f"v.local_day >= {sql.arg(f.day_from)}")
    if f.day_to is not None:
        sql.clauses.append(f"v.local_day <= {sql.arg(f.day_to)}")
    if f.text:
        p = sql.arg(_like(f.text))
        sql.clauses.append(
            f"""(vh.plate ILIKE {p} OR o.name_zh ILIKE {p} OR o.name_en ILIKE {p}
                 OR v.rule_id ILIKE {p} OR v.summary::text ILIKE {p}
                 OR EXISTS (SELECT 1 FROM violation_evidence e WHERE e.violation_id = v.id
                            AND (e.bundle -> 'message')::text ILIKE {p}))""")
    return sql


async def page(pool: asyncpg.Pool, f: ViolationFilter, scope_root_id: int | None, limit: int,
               before: tuple[date, int] | None = None) -> list[asyncpg.Record]:
    """Newest day first, then newest id: up to `limit` + 1 rows (one more says there is a
    next page), after the keyset cursor `before` (local_day, id)."""
    sql = _where(f, scope_root_id)
    if before is not None:
        sql.clauses.append(
            f"(v.local_day, v.id) < ({sql.arg(before[0])}::date, {sql.arg(before[1])}::bigint)")
    return await pool.fetch(
        f"SELECT {_COLUMNS} {_FROM} {sql.where()} ORDER BY v.local_day DESC, v.id DESC "
        f"LIMIT {sql.arg(limit + 1)}", *sql.args)


async def export_rows(pool: asyncpg.Pool, f: ViolationFilter,
                      scope_root_id: int | None) -> list[asyncpg.Record]:
    """The whole filtered list for a download (at most MAX_EXPORT_ROWS + 1: the caller refuses
    more)."""
    return await page(pool, f, scope_root_id, MAX_EXPORT_ROWS)


async def counts(pool: asyncpg.Pool, f: ViolationFilter, scope_root_id: int | None) -> list[asyncpg.Record]:
    """(rule_id, severity, state, n) over the filtered list."""
    sql = _where(f, scope_root_id)
    return await pool.fetch(
        f"""SELECT v.rule_id, v.severity, v.state, count(*)::int AS n {_FROM} {sql.where()}
            GROUP BY v.rule_id, v.severity, v.state ORDER BY v.rule_id, v.severity, v.state""",
        *sql.args)


async def one(conn: asyncpg.Connection | asyncpg.Pool, violation_id: int,
              scope_root_id: int | None) -> asyncpg.Record | None:
    sql = _where(ViolationFilter(), scope_root_id)
    sql.clauses.append(f"v.id = {sql.arg(violation_id)}")
    return await conn.fetchrow(f"SELECT {_COLUMNS} {_FROM} {sql.where()}", *sql.args)


async def evidence(pool: asyncpg.Pool, violation_id: int) -> list[asyncpg.Record]:
    """Every revision of the frozen evidence, oldest first."""
    return await pool.fetch(
        """SELECT revision, created_at, reason, bundle FROM violation_evidence
           WHERE violation_id = $1 ORDER BY revision""", violation_id)


async def explanations(pool: asyncpg.Pool, violation_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT x.id, x.kind, x.text, x.submitted_by, u.display_name AS submitted_by_name,
                  x.submitted_at
           FROM violation_explanations x JOIN users u ON u.id = x.submitted_by
           WHERE x.violation_id = $1 ORDER BY x.id""", violation_id)


async def attachments(pool: asyncpg.Pool, violation_id: int) -> list[asyncpg.Record]:
    """The files of the violation's explanations (not the bytes); files uploaded but never
    sent with an explanation are left out."""
    return await pool.fetch(
        """SELECT a.id, a.violation_id, a.explanation_id, a.filename, a.content_type,
                  a.size_bytes, a.sha256, a.uploaded_by, u.display_name AS uploaded_by_name,
                  a.uploaded_at
           FROM violation_attachments a JOIN users u ON u.id = a.uploaded_by
           WHERE a.violation_id = $1 AND a.explanation_id IS NOT NULL ORDER BY a.id""",
        violation_id)


async def attachment_file(pool: asyncpg.Pool, violation_id: int,
                          attachment_id: int) -> asyncpg.Record | None:
    return await pool.fetchrow(
        """SELECT id, filename, content_type, data, explanation_id, uploaded_by
           FROM violation_attachments WHERE id = $1 AND violation_id = $2""",
        attachment_id, violation_id)


async def rule_ids(pool: asyncpg.Pool) -> list[str]:
    """The rules that have violations (for the filter's choices)."""
    return [r["rule_id"] for r in await pool.fetch(
        "SELECT DISTINCT rule_id FROM violations ORDER BY rule_id")]

"""PostgreSQL side of what admins set for the rules: parameter versions per organisation
(规则参数), holiday seals (节假日封存) and duty registrations (值班/应急报备). Every change has
its audit record in the same transaction, and marks the cars it concerns dirty so that the
rules worker judges their days again (from the change's start).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from supervision import audit_store

_SEAL = "id, org_id, name, starts_at, ends_at, created_by, created_at"
_DUTY = "id, vehicle_id, starts_at, ends_at, reason, created_by, created_at"


def _iso(row: asyncpg.Record | dict) -> dict[str, Any]:
    """The row as audit data: times as ISO text, without the organisation path."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()
            if k != "org_path"}


async def _mark_dirty(conn: asyncpg.Connection, vehicle_sql: str, arg: int, from_ts: datetime) -> None:
    """Rows in vehicle_id order, like every multi-row upsert of rule_dirty (migration 0012)."""
    await conn.execute(
        f"""INSERT INTO rule_dirty (vehicle_id, from_ts)
            SELECT v.id, $2::timestamptz FROM vehicles v WHERE {vehicle_sql} ORDER BY v.id
            ON CONFLICT (vehicle_id) DO UPDATE SET from_ts = least(rule_dirty.from_ts, EXCLUDED.from_ts),
                marked_at = now()""", arg, from_ts)


_ORG_CARS = "v.owner_org_id IN (SELECT id FROM organisations WHERE path @> ARRAY[$1::int])"
_ONE_CAR = "v.id = $1"


# --- rule parameters -------------------------------------------------------------------

async def add_rule_params(conn: asyncpg.Connection, org_id: int | None, rule_id: str,
                          params: dict[str, Any], note: str, user_id: int,
                          valid_from: datetime | None) -> asyncpg.Record:
    """The next version of the organisation's (None: the platform's) parameters of a rule."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('rule_params:' || $1 || ':' || $2))",
                       str(org_id), rule_id)
    version = await conn.fetchval(
        """SELECT coalesce(max(version), 0) + 1 FROM rule_params
           WHERE org_id IS NOT DISTINCT FROM $1 AND rule_id = $2""", org_id, rule_id)
    row = await conn.fetchrow(
        """INSERT INTO rule_params (org_id, rule_id, version, params, valid_from, created_by, note)
           VALUES ($1, $2, $3, $4, coalesce($5, now()), $6, $7)
           RETURNING id, org_id, rule_id, version, params, valid_from, created_by, created_at, note""",
        org_id, rule_id, version, params, valid_from, user_id, note)
    await audit_store.append(conn, user_id, f"rule_params:{org_id or 'platform'}:{rule_id}",
                             "set", None, f"v{version}", note,
                             {"version": version, "params": params,
                              "valid_from": row["valid_from"].isoformat()})
    if org_id is None:  # the platform's: every car
        await _mark_dirty(conn, "$1::int IS NOT NULL", 0, row["valid_from"])
    else:
        await _mark_dirty(conn, _ORG_CARS, org_id, row["valid_from"])
    return row


# --- holiday seals --------------------------------------------------------------------

async def add_seal(conn: asyncpg.Connection, org_id: int, name: str, starts_at: datetime,
                   ends_at: datetime, user_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO holiday_seals (org_id, name, starts_at, ends_at, created_by)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_SEAL}""",
        org_id, name, starts_at, ends_at, user_id)
    await audit_store.append(conn, user_id, f"seal:{row['id']}", "created", None, "active", name,
                             _iso(row))
    await _mark_dirty(conn, _ORG_CARS, org_id, starts_at)
    return row


async def lock_seal(conn: asyncpg.Connection, seal_id: int) -> asyncpg.Record | None:
    await audit_store.lock_chain(conn)  # the audit lock before the row: one order for all
    return await conn.fetchrow(
        """SELECT s.id, s.org_id, s.name, s.starts_at, s.ends_at, s.created_by, s.created_at,
                  o.path AS org_path
           FROM holiday_seals s JOIN organisations o ON o.id = s.org_id
           WHERE s.id = $1 FOR UPDATE OF s""", seal_id)


async def update_seal(conn: asyncpg.Connection, before: asyncpg.Record, name: str,
                      starts_at: datetime, ends_at: datetime, user_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""UPDATE holiday_seals SET name = $2, starts_at = $3, ends_at = $4 WHERE id = $1
            RETURNING {_SEAL}""", before["id"], name, starts_at, ends_at)
    await audit_store.append(conn, user_id, f"seal:{row['id']}", "changed", "active", "active",
                             name, {"before": _iso(before),
                                    "after": _iso(row)})
    await _mark_dirty(conn, _ORG_CARS, row["org_id"], min(starts_at, before["starts_at"]))
    return row


async def delete_seal(conn: asyncpg.Connection, before: asyncpg.Record, user_id: int) -> None:
    await conn.execute("DELETE FROM holiday_seals WHERE id = $1", before["id"])
    await audit_store.append(conn, user_id, f"seal:{before['id']}", "deleted", "active", None,
                             before["name"], _iso(before))
    await _mark_dirty(conn, _ORG_CARS, before["org_id"], before["starts_at"])


# --- duty registrations --------------------------------------------------------------

async def add_duty(conn: asyncpg.Connection, vehicle_id: int, starts_at: datetime,
                   ends_at: datetime, reason: str, user_id: int) -> asyncpg.Record:
    """A registration (with the car's plate), its audit record, the car marked from its start."""
    row = await conn.fetchrow(
        f"""WITH d AS (
                INSERT INTO duty_registrations (vehicle_id, starts_at, ends_at, reason, created_by)
                VALUES ($1, $2, $3, $4, $5) RETURNING {_DUTY})
            SELECT d.*, v.plate FROM d JOIN vehicles v ON v.id = d.vehicle_id""",
        vehicle_id, starts_at, ends_at, reason, user_id)
    await audit_store.append(conn, user_id, f"duty:{row['id']}", "created", None, "active", reason,
                             _iso(row))
    await _mark_dirty(conn, _ONE_CAR, vehicle_id, starts_at)
    return row


async def lock_duty(conn: asyncpg.Connection, duty_id: int) -> asyncpg.Record | None:
    await audit_store.lock_chain(conn)  # the audit lock before the row: one order for all
    return await conn.fetchrow(
        """SELECT d.id, d.vehicle_id, d.starts_at, d.ends_at, d.reason, d.created_by, d.created_at,
                  v.plate, o.path AS org_path
           FROM duty_registrations d JOIN vehicles v ON v.id = d.vehicle_id
           JOIN organisations o ON o.id = v.owner_org_id
           WHERE d.id = $1 FOR UPDATE OF d""", duty_id)


async def update_duty(conn: asyncpg.Connection, before: asyncpg.Record, starts_at: datetime,
                      ends_at: datetime, reason: str, user_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""WITH d AS (
                UPDATE duty_registrations SET starts_at = $2, ends_at = $3, reason = $4
                WHERE id = $1 RETURNING {_DUTY})
            SELECT d.*, v.plate FROM d JOIN vehicles v ON v.id = d.vehicle_id""",
        before["id"], starts_at, ends_at, reason)
    await audit_store.append(conn, user_id, f"duty:{row['id']}", "changed", "active", "active",
                             reason, {"before": _iso(before),
                                      "after": _iso(row)})
    await _mark_dirty(conn, _ONE_CAR, row["vehicle_id"], min(starts_at, before["starts_at"]))
    return row


async def delete_duty(conn: asyncpg.Connection, before: asyncpg.Record, user_id: int) -> None:
    await conn.execute("DELETE FROM duty_registrations WHERE id = $1", before["id"])
    await audit_store.append(conn, user_id, f"duty:{before['id']}", "deleted", "active", None,
                             before["reason"], _iso(before))
    await _mark_dirty(conn, _ONE_CAR, before["vehicle_id"], before["starts_at"])

"""节假日封存 (holiday seals: the sealed organisation's cars must not move) and 值班/应急报备
(duty registrations: a car declared on duty for a period), for the rules R3 and the profiles.

Admins manage every organisation's; org admins those of their subtree (and its cars'); others
may not (403); an organisation, a car or an entry outside the subtree is a 404. Every change
is audited and makes the rules judge the cars concerned again.

Duty registrations soften what the rules find (a 执法/应急 car's night or rest-day trip on
duty is INFO), so the unit under supervision must not register its own past: an org admin
registers duty from now on (a start at most 15 minutes back) and may not stretch a
registration over earlier times; a registration over the past is for an admin or an
inspector (inspectors, who read every registration, register within their own scope).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Query, Response

from supervision import settings_store as store
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.principal import Principal
from web.schemas.common import error_responses
from web.schemas.rule_settings import DutyChange, DutyIn, DutyRead, SealChange, SealIn, SealRead

router = APIRouter(prefix="/api/v1", tags=["seals and duty"])
MANAGERS = frozenset({"admin", "org_admin"})
DUTY_ROLES = frozenset({"admin", "org_admin", "inspector"})
PAST_DUTY_ROLES = frozenset({"admin", "inspector"})     # may register duty over the past
BACKDATE_GRACE = timedelta(minutes=15)                  # "from now on", with the form's delay
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_ERRORS = error_responses(401, 403, 404, 422)


def _scope(user: Principal) -> int | None:
    if not user.has_any_role(MANAGERS):
        raise ApiError(403, "Seals and duty registrations are managed by admins and org admins.",
                       code="forbidden")
    return None if "admin" in user.roles else user.scope_root_id


def _reaches(scope: int | None, path: list[int] | None) -> bool:
    return path is not None and (scope is None or scope in path)


async def _org_in_reach(pool: asyncpg.Pool, org_id: int, scope: int | None) -> None:
    path = await pool.fetchval("SELECT path FROM organisations WHERE id = $1", org_id)
    if not _reaches(scope, path):
        raise ApiError(404, f"Organisation {org_id} not found.", code="org_not_found")


async def _car_in_reach(pool: asyncpg.Pool, vehicle_id: int, scope: int | None) -> None:
    path = await pool.fetchval(
        """SELECT o.path FROM vehicles v JOIN organisations o ON o.id = v.owner_org_id
           WHERE v.id = $1""", vehicle_id)
    if not _reaches(scope, path):
        raise ApiError(404, f"Vehicle {vehicle_id} not found.", code="vehicle_not_found")


# --- seals -------------------------------------------------------------------------------

@router.get("/seals", response_model=list[SealRead], responses=_ERRORS)
async def list_seals(user: CurrentUser, pool: PoolDep,
                     current: Annotated[bool, Query(description="only those not yet over")] = False) -> list[dict]:
    scope = _scope(user)
    rows = await pool.fetch(
        """SELECT s.id, s.org_id, o.name_zh AS org_name_zh, o.name_en AS org_name_en, s.name,
                  s.starts_at, s.ends_at, s.created_by, s.created_at
           FROM holiday_seals s JOIN organisations o ON o.id = s.org_id
           WHERE ($1::int IS NULL OR o.path @> ARRAY[$1::int]) AND (NOT $2 OR s.ends_at > now())
           ORDER BY s.starts_at DESC, s.id DESC LIMIT 500""", scope, current)
    return [dict(r) for r in rows]


@router.post("/seals", response_model=SealRead, status_code=201, responses=_ERRORS)
async def create_seal(body: SealIn, user: CurrentUser, pool: PoolDep) -> dict:
    """Seal an organisation's cars (and those of the organisations below it) for a period."""
    await _org_in_reach(pool, body.org_id, _scope(user))
    async with pool.acquire() as conn, conn.transaction():
        row = await store.add_seal(conn, body.org_id, body.name.strip(), body.starts_at,
                                   body.ends_at, user.id)
    return dict(row)


async def _locked_seal(conn: asyncpg.Connection, seal_id: int, user: Principal) -> asyncpg.Record:
    row = await store.lock_seal(conn, seal_id)
    if row is None or not _reaches(_scope(user), row["org_path"]):
        raise ApiError(404, f"Seal {seal_id} not found.", code="seal_not_found")
    return row


@router.put("/seals/{seal_id}", response_model=SealRead, responses=_ERRORS)
async def change_seal(seal_id: EntryId, body: SealChange, user: CurrentUser, pool: PoolDep) -> dict:
    async with pool.acquire() as conn, conn.transaction():
        before = await _locked_seal(conn, seal_id, user)
        row = await store.update_seal(conn, before, body.name.strip(), body.starts_at,
                                      body.ends_at, user.id)
    return dict(row)


@router.delete("/seals/{seal_id}", status_code=204, response_class=Response, responses=_ERRORS)
async def delete_seal(seal_id: EntryId, user: CurrentUser, pool: PoolDep) -> Response:
    """Lift a seal (the audit trail keeps what it was)."""
    async with pool.acquire() as conn, conn.transaction():
        await store.delete_seal(conn, await _locked_seal(conn, seal_id, user), user.id)
    return Response(status_code=204)


# --- duty registrations -----------------------------------------------------------------

def _duty_scope(user: Principal, *, reading: bool = False) -> int | None:
    if not user.has_any_role(DUTY_ROLES):
        raise ApiError(403, "Duty registrations are managed by admins, org admins and "
                       "inspectors.", code="forbidden")
    if "admin" in user.roles or (reading and "inspector" in user.roles):
        return None
    return user.scope_root_id


def adds_past_cover(starts_at: datetime, ends_at: datetime, cutoff: datetime,
                    before: tuple[datetime, datetime] | None = None) -> bool:
    """Whether the window [starts_at, ends_at] covers time before `cutoff` that `before` (the
    registration as it was; None for a new one) did not cover."""
    if before is None:
        return starts_at < cutoff
    old_start, old_end = before
    earlier = starts_at < old_start and starts_at < cutoff
    later = ends_at > old_end and max(old_end, starts_at) < cutoff
    return earlier or later


def _check_not_backdated(user: Principal, starts_at: datetime, ends_at: datetime,
                         before: asyncpg.Record | None = None) -> None:
    if user.has_any_role(PAST_DUTY_ROLES):
        return
    cutoff = datetime.now(UTC) - BACKDATE_GRACE
    was = None if before is None else (before["starts_at"], before["ends_at"])
    if adds_past_cover(starts_at, ends_at, cutoff, was):
        raise ApiError(403, "Duty is registered from now on; a registration over the past is "
                       "made by an admin or an inspector.", code="duty_backdated",
                       details={"earliest_start": cutoff.isoformat()})


@router.get("/duty-registrations", response_model=list[DutyRead], responses=_ERRORS)
async def list_duty(user: CurrentUser, pool: PoolDep,
                    vehicle_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    current: Annotated[bool, Query(description="only those not yet over")] = False) -> list[dict]:
    scope = _duty_scope(user, reading=True)
    rows = await pool.fetch(
        """SELECT d.id, d.vehicle_id, v.plate, d.starts_at, d.ends_at, d.reason, d.created_by,
                  d.created_at
           FROM duty_registrations d JOIN vehicles v ON v.id = d.vehicle_id
           JOIN organisations o ON o.id = v.owner_org_id
           WHERE ($1::int IS NULL OR o.path @> ARRAY[$1::int])
             AND ($2::int IS NULL OR d.vehicle_id = $2) AND (NOT $3 OR d.ends_at > now())
           ORDER BY d.starts_at DESC, d.id DESC LIMIT 500""", scope, vehicle_id, current)
    return [dict(r) for r in rows]


@router.post("/duty-registrations", response_model=DutyRead, status_code=201, responses=_ERRORS)
async def create_duty(body: DutyIn, user: CurrentUser, pool: PoolDep) -> dict:
    """Register a car on duty (值班/应急) for a period: its rest-day and night trips then count
    as INFO for 执法/应急 cars (domain.md §6 profiles). An org admin's starts now or later
    (15 minutes back at most; 403 duty_backdated), an admin's or an inspector's at any time."""
    await _car_in_reach(pool, body.vehicle_id, _duty_scope(user))
    _check_not_backdated(user, body.starts_at, body.ends_at)
    async with pool.acquire() as conn, conn.transaction():
        row = await store.add_duty(conn, body.vehicle_id, body.starts_at, body.ends_at,
                                   body.reason.strip(), user.id)
    return dict(row)


async def _locked_duty(conn: asyncpg.Connection, duty_id: int, user: Principal) -> asyncpg.Record:
    row = await store.lock_duty(conn, duty_id)
    if row is None or not _reaches(_duty_scope(user), row["org_path"]):
        raise ApiError(404, f"Duty registration {duty_id} not found.", code="duty_not_found")
    return row


@router.put("/duty-registrations/{duty_id}", response_model=DutyRead, responses=_ERRORS)
async def change_duty(duty_id: EntryId, body: DutyChange, user: CurrentUser, pool: PoolDep) -> dict:
    """Change a registration; an org admin may not stretch it over earlier times (403
    duty_backdated)."""
    async with pool.acquire() as conn, conn.transaction():
        before = await _locked_duty(conn, duty_id, user)
        _check_not_backdated(user, body.starts_at, body.ends_at, before)
        row = await store.update_duty(conn, before, body.starts_at, body.ends_at,
                                      body.reason.strip(), user.id)
    return dict(row)


@router.delete("/duty-registrations/{duty_id}", status_code=204, response_class=Response,
               responses=_ERRORS)
async def delete_duty(duty_id: EntryId, user: CurrentUser, pool: PoolDep) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        await store.delete_duty(conn, await _locked_duty(conn, duty_id, user), user.id)
    return Response(status_code=204)

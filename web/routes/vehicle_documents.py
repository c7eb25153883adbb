"""一车一档: vehicle documents (行驶证, 保险, 年检) and the reminders 30 days ahead. A car whose
年检 or 保险 has expired cannot be assigned (dispatch/assignment.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query

from web.deps import CurrentUser, PoolDep, VehicleUser
from web.errors import ApiError
from web.queries import vehicle_documents as q
from web.schemas.common import error_responses
from web.schemas.vehicle_documents import DocumentKind, VehicleDocumentIn, VehicleDocumentRead

router = APIRouter(prefix="/api/v1/vehicle-documents", tags=["vehicle documents"])
VehicleId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EDITORS = frozenset({"dispatcher", "org_admin", "admin"})
LOCAL = ZoneInfo("Asia/Shanghai")


def _today() -> date:
    return datetime.now(LOCAL).date()


def _read(row, today: date) -> dict:
    return dict(row) | {"days_left": (row["expires_on"] - today).days}


@router.get("/reminders", response_model=list[VehicleDocumentRead], responses=error_responses(401, 403, 422))
async def reminders(
    user: VehicleUser, pool: PoolDep, days: Annotated[int, Query(ge=0, le=365)] = 30,
) -> list[dict]:
    """Documents of your vehicles that expire within `days` (default 30) or have expired,
    soonest first."""
    today = _today()
    rows = await q.expiring(pool, user.scope_root_id, today + timedelta(days=days))
    return [_read(r, today) for r in rows]


@router.get("/{vehicle_id}", response_model=list[VehicleDocumentRead],
            responses=error_responses(401, 403, 404, 422))
async def vehicle_documents(vehicle_id: VehicleId, user: VehicleUser, pool: PoolDep) -> list[dict]:
    if not await q.vehicle_in_scope(pool, user.scope_root_id, vehicle_id):
        raise ApiError(404, f"Vehicle {vehicle_id} not found.", code="vehicle_not_found")
    today = _today()
    return [_read(r, today) for r in await q.of_vehicle(pool, user.scope_root_id, vehicle_id)]


@router.put("/{vehicle_id}/{kind}", response_model=VehicleDocumentRead,
            responses=error_responses(401, 403, 404, 422))
async def put_document(
    vehicle_id: VehicleId, kind: DocumentKind, body: VehicleDocumentIn, user: CurrentUser, pool: PoolDep,
) -> dict:
    """Record a renewed document (a new policy, a passed 年检) with its expiry date."""
    if not user.has_any_role(EDITORS):
        raise ApiError(403, "Only dispatchers and administrators keep vehicle documents.", code="forbidden")
    if not await q.vehicle_in_scope(pool, user.scope_root_id, vehicle_id):
        raise ApiError(404, f"Vehicle {vehicle_id} not found.", code="vehicle_not_found")
    row = await q.upsert(pool, vehicle_id, kind, body.number.strip(), body.expires_on)
    return _read(row, _today())

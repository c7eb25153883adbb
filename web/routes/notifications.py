"""The logged-in user's notifications (通知): list, and mark read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dispatch import notification_store
from web.deps import CurrentUser, PoolDep
from web.schemas.common import error_responses
from web.schemas.notifications import MarkedRead, NotificationRead, NotificationsReadIn

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationRead], responses=error_responses(401, 422))
async def my_notifications(
    user: CurrentUser, pool: PoolDep, unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict]:
    """Newest first; `unread=true` for those not yet marked read."""
    rows = await notification_store.for_user(pool, user.id, unread_only=unread, limit=limit)
    return [dict(r) for r in rows]


@router.post("/read", response_model=MarkedRead, responses=error_responses(401, 422))
async def mark_read(body: NotificationsReadIn, user: CurrentUser, pool: PoolDep) -> dict:
    """Mark some of your notifications read (others' ids are ignored)."""
    ids = [i for i in body.ids if 0 < i < 2**63]
    return {"marked": await notification_store.mark_read(pool, user.id, ids)}

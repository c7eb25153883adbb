"""Dead letters for admins: every message ingest could not use, with its raw bytes and reason."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from web.deps import AdminUser, ResourcesDep
from web.queries.dead_letters import dead_letter_counts, dead_letter_page
from web.schemas.common import error_responses
from web.schemas.dead_letters import DeadLetterPage

router = APIRouter(prefix="/api/v1/admin/dead-letters", tags=["admin"])


@router.get("", response_model=DeadLetterPage, responses=error_responses(401, 403, 422))
async def list_dead_letters(
    user: AdminUser,
    resources: ResourcesDep,
    reason: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    hours: Annotated[int, Query(ge=1, le=24 * 90, description="Window of the counts")] = 24,
) -> dict:
    rows = await dead_letter_page(resources.pool, reason=reason, before_id=before_id, limit=limit)
    counts = await dead_letter_counts(
        resources.pool, since=datetime.now(UTC) - timedelta(hours=hours)
    )
    items = []
    for row in rows:
        raw = bytes(row["payload"])
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        items.append({**dict(row), "payload_text": text,
                      "payload_base64": base64.b64encode(raw).decode()})
    next_before = rows[-1]["id"] if len(rows) == limit else None
    return {"items": items, "next_before_id": next_before, "counts": [dict(c) for c in counts]}

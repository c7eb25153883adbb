"""Dead letters for admins: every message ingest could not use, with its raw bytes and reason,
and the counts per reason (contract violations and filter refusals alike) since a time."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from web.dead_letter_kinds import reason_kind
from web.deps import AdminUser, ResourcesDep
from web.errors import ApiError
from web.queries.dead_letters import dead_letter_counts, dead_letter_page
from web.schemas.common import error_responses
from web.schemas.dead_letters import DeadLetterPage

router = APIRouter(prefix="/api/v1/admin/dead-letters", tags=["admin"])

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _payload_fields(raw: bytes) -> dict[str, str | None]:
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {"payload_text": text, "payload_base64": base64.b64encode(raw).decode()}


@router.get("", response_model=DeadLetterPage, responses=error_responses(401, 403, 422))
async def list_dead_letters(
    user: AdminUser,
    resources: ResourcesDep,
    reason: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    hours: Annotated[int, Query(ge=1, le=24 * 90, description="Window of the counts")] = 24,
    since: Annotated[
        datetime | None,
        Query(description="Start of the counts' window (ISO 8601 with an offset); overrides hours"),
    ] = None,
) -> dict:
    now = datetime.now(UTC)
    if since is not None:
        if since.tzinfo is None:
            raise ApiError(422, "'since' needs a UTC offset, e.g. +08:00.", code="invalid_since")
        if not EARLIEST <= since <= LATEST:
            raise ApiError(422, "'since' must lie between 2000 and 2100.", code="invalid_since")
    counts_since = since if since is not None else now - timedelta(hours=hours)
    rows = await dead_letter_page(resources.pool, reason=reason, before_id=before_id, limit=limit)
    counts = await dead_letter_counts(resources.pool, since=counts_since)
    items = [{**dict(row), **_payload_fields(bytes(row["payload"]))} for row in rows]
    next_before = rows[-1]["id"] if len(rows) == limit else None
    return {
        "items": items,
        "next_before_id": next_before,
        "counts_since": counts_since,
        "counts": [{**dict(c), "kind": reason_kind(c["reason"])} for c in counts],
        "total": sum(c["count"] for c in counts),
    }

"""Attachments (附件) of a trip request: 会议通知, 出差审批单 … uploaded by the applicant while the
request is a draft or under approval, read by whoever may read the request.

Scope: the same rule as GET /api/v1/trip-requests/{id} — a request outside the user's subtree
is a 404 (drivers and rental operators, who have no organisation scope, never see them). What a
file is comes from its bytes (dispatch/attachments.py); the body is read as a stream and
abandoned once it passes 10 MiB (web/file_transfer.py).
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Request, Response

from dispatch import attachment_store, store
from dispatch.attachments import (
    EDITABLE_STATES,
    MAX_LIVE_PER_REQUEST,
    MAX_SIZE_BYTES,
    AcceptedFile,
    AttachmentRefused,
    accept,
)
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.file_transfer import BadUpload, NotMultipart, TooLarge, content_disposition, receive_file
from web.principal import Principal
from web.schemas.attachments import UPLOAD_BODY, AttachmentRead
from web.schemas.common import error_responses

router = APIRouter(prefix="/api/v1/trip-requests/{request_id}/attachments", tags=["attachments"])
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Trip request id")]
AttachmentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Attachment id")]
# Besides the applicant, who may add or remove a request's papers (within their scope).
MANAGERS = frozenset({"org_admin", "admin"})
_REFUSAL_STATUS = {"empty_attachment": 422, "attachment_too_large": 413, "unsupported_attachment_type": 415}


def _read(row: asyncpg.Record) -> dict:
    item = {k: row[k] for k in AttachmentRead.model_fields if k != "download_url"}
    item["download_url"] = f"/api/v1/trip-requests/{row['request_id']}/attachments/{row['id']}"
    return item


def _request_not_found(request_id: int) -> ApiError:
    return ApiError(404, f"Trip request {request_id} not found.", code="trip_request_not_found")


def _attachment_not_found(attachment_id: int) -> ApiError:
    return ApiError(404, f"Attachment {attachment_id} not found.", code="attachment_not_found")


def _check_may_change(user: Principal, row: asyncpg.Record | None, request_id: int) -> asyncpg.Record:
    """404 outside the scope, 403 for anyone but the applicant or a manager, 409 once the
    request is decided (its papers are then the record)."""
    if row is None:
        raise _request_not_found(request_id)
    if row["applicant_id"] != user.id and not user.has_any_role(MANAGERS):
        raise ApiError(403, "Only the applicant changes a request's attachments.", code="forbidden")
    if row["state"] not in EDITABLE_STATES:
        raise ApiError(409, "Attachments can change only while the request is a draft or under approval.",
                       code="request_not_editable", details={"state": row["state"]})
    return row


def _too_many(count: int) -> ApiError:
    return ApiError(409, f"A request holds at most {MAX_LIVE_PER_REQUEST} attachments.",
                    code="too_many_attachments", details={"max": MAX_LIVE_PER_REQUEST, "count": count})


async def _received(request: Request) -> tuple[AcceptedFile, bytes]:
    try:
        received = await receive_file(request, "file", MAX_SIZE_BYTES)
    except NotMultipart:
        raise ApiError(415, "Send the file as multipart/form-data in the `file` field.",
                       code="multipart_required") from None
    except TooLarge:
        raise ApiError(413, "A file may be 10 MiB at most.", code="attachment_too_large",
                       details={"max_size_bytes": MAX_SIZE_BYTES}) from None
    except BadUpload as exc:
        raise ApiError(422, str(exc), code="invalid_upload") from None
    try:
        return accept(received.filename, received.data), received.data
    except AttachmentRefused as refused:
        raise ApiError(_REFUSAL_STATUS[refused.code], refused.message, code=refused.code,
                       details=refused.details) from None


@router.post("", response_model=AttachmentRead, status_code=201, openapi_extra=UPLOAD_BODY,
             responses=error_responses(401, 403, 404, 409, 413, 415, 422))
async def upload_attachment(request_id: RequestId, request: Request, user: CurrentUser, pool: PoolDep) -> dict:
    """Attach one file (multipart/form-data, field `file`): PDF, JPEG, PNG, DOCX or XLSX as its
    bytes show (415 unsupported_attachment_type otherwise, also when the name claims another of
    these types), at most 10 MiB (413 attachment_too_large), not empty (422), at most 10 per
    request (409 too_many_attachments); by the applicant while the request is a draft,
    submitted or pending approval (409 request_not_editable after)."""
    _check_may_change(user, await store.fetch_in_scope(pool, request_id, user.scope_root_id), request_id)
    if (count := await attachment_store.count_live(pool, request_id)) >= MAX_LIVE_PER_REQUEST:
        raise _too_many(count)  # before taking up to 10 MiB that would be refused anyway
    accepted, data = await _received(request)
    async with pool.acquire() as conn, conn.transaction():
        # The request row locked: its state and the count cannot change until this commits.
        row = await store.fetch_in_scope(conn, request_id, user.scope_root_id, lock=True)
        _check_may_change(user, row, request_id)
        if (count := await attachment_store.count_live(conn, request_id)) >= MAX_LIVE_PER_REQUEST:
            raise _too_many(count)
        saved = await attachment_store.insert(
            conn, request_id, accepted.filename, accepted.kind.content_type, data, user.id)
    return _read(saved)


@router.get("", response_model=list[AttachmentRead], responses=error_responses(401, 404, 422))
async def list_attachments(request_id: RequestId, user: CurrentUser, pool: PoolDep) -> list[dict]:
    """The request's attachments (without their bytes), oldest first."""
    if await store.fetch_in_scope(pool, request_id, user.scope_root_id) is None:
        raise _request_not_found(request_id)
    return [_read(r) for r in await attachment_store.list_live(pool, request_id)]


@router.get("/{attachment_id}", response_class=Response, responses={
    200: {"description": "The file, as a download", "content": {"application/octet-stream": {}}},
    **error_responses(401, 404, 422)})
async def download_attachment(
    request_id: RequestId, attachment_id: AttachmentId, user: CurrentUser, pool: PoolDep
) -> Response:
    """The file itself, always as a download (Content-Disposition: attachment), with the type
    found at upload; never cached, never sniffed."""
    if await store.fetch_in_scope(pool, request_id, user.scope_root_id) is None:
        raise _request_not_found(request_id)
    row = await attachment_store.fetch_live(pool, request_id, attachment_id)
    if row is None:
        raise _attachment_not_found(attachment_id)
    return Response(content=row["data"], media_type=row["content_type"], headers={
        "Content-Disposition": content_disposition(row["filename"]),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })


@router.delete("/{attachment_id}", status_code=204, response_class=Response,
               responses=error_responses(401, 403, 404, 409, 422))
async def delete_attachment(
    request_id: RequestId, attachment_id: AttachmentId, user: CurrentUser, pool: PoolDep
) -> Response:
    """Remove an attachment while the request is a draft or under approval: it disappears
    from the list, its bytes are kept on record."""
    async with pool.acquire() as conn, conn.transaction():
        row = await store.fetch_in_scope(conn, request_id, user.scope_root_id, lock=True)
        _check_may_change(user, row, request_id)
        if not await attachment_store.mark_deleted(conn, request_id, attachment_id, user.id):
            raise _attachment_not_found(attachment_id)
    return Response(status_code=204)

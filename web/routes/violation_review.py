"""The review's moves (监督检查, domain.md §7): an inspector sends a violation to its unit with
a deadline, dismisses or confirms it with a reason, closes it after rectification or refers it
(移交纪检); the unit's org admin uploads files, answers with an explanation (情况说明) and
reports the rectification (整改). Every move and its audit record commit together.

Errors: 404 out of reach — for an inspector's move also a violation of a unit outside the
inspector's own scope (inspectors read province-wide, act within their subtree; a province
inspector everywhere); 403 not your part (an inspector's move by a unit, a unit's by anyone
but the org admin of the violation's unit or of one above it); 409 a stale `version`
(stale_version: checked first, so the loser of two inspectors acting on the same version
learns that it lost), illegal in the state (illegal_transition), an INFO violation sent to a
unit (info_not_sent); 422 a missing reason.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Request, Response

from dispatch.attachments import MAX_SIZE_BYTES, AcceptedFile, AttachmentRefused, accept
from supervision import violation_store as store
from supervision.review import (
    Actor,
    Event,
    IllegalTransition,
    ReviewRefused,
    State,
    add_working_days,
    check_move,
    deadline_working_days,
)
from web import violation_views as views
from web.deps import CurrentUser, PoolDep
from web.errors import ApiError
from web.file_transfer import BadUpload, NotMultipart, TooLarge, content_disposition, receive_file
from web.principal import Principal
from web.queries import violations as q
from web.schemas.attachments import UPLOAD_BODY
from web.schemas.common import error_responses
from web.schemas.violations import (
    ExplanationIn,
    ViolationAttachmentRead,
    ViolationDetail,
    ViolationEventIn,
)

router = APIRouter(prefix="/api/v1/violations/{violation_id}", tags=["violations"])
ViolationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Violation id")]
AttachmentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Attachment id")]
_REFUSAL_STATUS = {"empty_attachment": 422, "attachment_too_large": 413,
                   "unsupported_attachment_type": 415}
# Where the unit may add files: before its explanation, or before its rectification report.
_UNIT_FILE_STATES = frozenset({State.AWAITING_EXPLANATION, State.OVERDUE, State.CONFIRMED})


async def _locked(conn: asyncpg.Connection, user: Principal, violation_id: int) -> asyncpg.Record:
    """The violation locked, or 404 when it does not exist or lies out of the user's reach."""
    scope = views.read_scope(user)
    row = await store.lock(conn, violation_id)
    if row is None or (scope is not None and scope not in (row["org_path"] or [])):
        raise views.not_found(violation_id)
    return row


def _check(row: asyncpg.Record, user: Principal, event: Event, version: int, reason: str) -> State:
    if row["version"] != version:   # before the state: the move you saw is what changed
        raise ApiError(409, "The violation changed since you read it; reload it.",
                       code="stale_version", details={"version": row["version"]})
    parts = views.acting_as(user, row["org_path"])
    try:
        return check_move(State(row["state"]), event, parts, row["severity"], reason)
    except ReviewRefused as refused:
        raise ApiError(refused.status, refused.message, code=refused.code) from None
    except IllegalTransition as exc:
        raise ApiError(409, str(exc), code="illegal_transition",
                       details={"state": row["state"], "allowed": exc.allowed}) from None


@router.post("/events", response_model=ViolationDetail,
             responses=error_responses(401, 403, 404, 409, 422))
async def review_event(violation_id: ViolationId, body: ViolationEventIn, user: CurrentUser,
                       pool: PoolDep) -> dict:
    """An inspector's move: send (to the unit, `deadline_working_days`, default 3, counted on
    China's working-day calendar), dismiss / confirm (with `reason`), close (after the unit's
    rectification), refer (移交纪检, with `reason`)."""
    event = Event(body.event)
    reason = body.reason.strip()
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, user, violation_id)
        if "inspector" in user.roles and not views.inspects(user, row["org_path"]):
            raise views.not_found(violation_id)    # another city's: read, not acted on
        target = _check(row, user, event, body.version, reason)
        due, data = None, None
        if event is Event.SEND:
            try:
                days = deadline_working_days(body.deadline_working_days)
            except ReviewRefused as refused:
                raise ApiError(refused.status, refused.message, code=refused.code) from None
            due = add_working_days(store.local_today(), days)
            data = {"deadline_working_days": days}
        await store.move(conn, row, event, target, user.id, reason, due=due, data=data)
    return await views.detail(pool, user, violation_id)


@router.post("/explanations", response_model=ViolationDetail, status_code=201,
             responses=error_responses(401, 403, 404, 409, 422))
async def explain(violation_id: ViolationId, body: ExplanationIn, user: CurrentUser,
                  pool: PoolDep) -> dict:
    """The unit's answer: `kind` explanation (情况说明, while awaiting or overdue → under review)
    or rectification (整改情况, once confirmed → rectified), with the files uploaded before
    (`attachment_ids`; 422 unknown_attachment for a file not yours or already sent)."""
    event = Event.EXPLAIN if body.kind == "explanation" else Event.RECTIFY
    text = body.text.strip()
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, user, violation_id)
        target = _check(row, user, event, body.version, text)
        try:
            explanation_id = await store.add_explanation(
                conn, violation_id, body.kind, text, user.id, body.attachment_ids)
        except LookupError as missing:
            raise ApiError(422, "A file is not one you uploaded for this violation, or was sent "
                           "already.", code="unknown_attachment",
                           details={"attachment_ids": missing.args[0]}) from None
        files = await conn.fetch(
            "SELECT id, sha256 FROM violation_attachments WHERE explanation_id = $1 ORDER BY id",
            explanation_id)
        await store.move(conn, row, event, target, user.id, text, data={
            "explanation_id": explanation_id,
            "attachments": [{"id": f["id"], "sha256": f["sha256"]} for f in files]})
    return await views.detail(pool, user, violation_id)


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


def _check_may_upload(row: asyncpg.Record, user: Principal) -> None:
    if Actor.UNIT not in views.acting_as(user, row["org_path"]):
        raise ApiError(403, "Files are added by the unit's org admin (or one above it).",
                       code="forbidden")
    if State(row["state"]) not in _UNIT_FILE_STATES:
        raise ApiError(409, "Files can be added while an explanation or a rectification report "
                       "is due.", code="not_accepting_files", details={"state": row["state"]})


@router.post("/attachments", response_model=ViolationAttachmentRead, status_code=201,
             openapi_extra=UPLOAD_BODY, responses=error_responses(401, 403, 404, 409, 413, 415, 422))
async def upload(violation_id: ViolationId, request: Request, user: CurrentUser,
                 pool: PoolDep) -> dict:
    """One file for the unit's next explanation or rectification report (multipart, field
    `file`): PDF, JPEG, PNG, DOCX or XLSX by its bytes, at most 10 MiB; at most 10 waiting to
    be sent (409 too_many_attachments)."""
    row = await q.one(pool, violation_id, views.read_scope(user))
    if row is None:
        raise views.not_found(violation_id)
    _check_may_upload(row, user)  # before taking up to 10 MiB that would be refused anyway
    accepted, data = await _received(request)
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, user, violation_id)
        _check_may_upload(row, user)
        if await store.count_pending_files(conn, violation_id, user.id) >= store.MAX_PENDING_FILES:
            raise ApiError(409, f"At most {store.MAX_PENDING_FILES} files wait to be sent.",
                           code="too_many_attachments", details={"max": store.MAX_PENDING_FILES})
        saved = await store.add_file(conn, violation_id, accepted.filename,
                                     accepted.kind.content_type, data, user.id)
    out = dict(saved)
    out["uploaded_by_name"] = user.display_name
    out["download_url"] = f"/api/v1/violations/{violation_id}/attachments/{saved['id']}"
    return out


@router.get("/attachments/{attachment_id}", response_class=Response, responses={
    200: {"description": "The file, as a download", "content": {"application/octet-stream": {}}},
    **error_responses(401, 403, 404, 422)})
async def download(violation_id: ViolationId, attachment_id: AttachmentId, user: CurrentUser,
                   pool: PoolDep) -> Response:
    """The file, always as a download, never sniffed; a file not yet sent with an explanation
    only to the one who uploaded it."""
    if await q.one(pool, violation_id, views.read_scope(user)) is None:
        raise views.not_found(violation_id)
    row = await q.attachment_file(pool, violation_id, attachment_id)
    if row is None or (row["explanation_id"] is None and row["uploaded_by"] != user.id):
        raise ApiError(404, f"Attachment {attachment_id} not found.", code="attachment_not_found")
    return Response(content=row["data"], media_type=row["content_type"], headers={
        "Content-Disposition": content_disposition(row["filename"]),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })

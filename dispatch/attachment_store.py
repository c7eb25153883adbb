"""PostgreSQL side of trip request attachments (附件): insert, list, fetch, mark deleted.

Plain SQL; the caller owns the transaction (an upload locks the request row first, so the
count of live attachments cannot be overtaken by a concurrent upload). The size and the
SHA-256 are computed by PostgreSQL from the bytes it stores, so they always agree with them.
"""

from __future__ import annotations

import asyncpg

_META = """t.id, t.request_id, t.filename, t.content_type, t.size_bytes, t.sha256,
    t.uploaded_by, u.display_name AS uploaded_by_name, t.uploaded_at"""
_FROM = "FROM trip_request_attachments t JOIN users u ON u.id = t.uploaded_by"


async def insert(
    conn: asyncpg.Connection, request_id: int, filename: str, content_type: str, data: bytes,
    uploaded_by: int,
) -> asyncpg.Record:
    """Stores one file; its metadata back."""
    attachment_id = await conn.fetchval(
        """INSERT INTO trip_request_attachments (request_id, filename, content_type, size_bytes,
               sha256, data, uploaded_by)
           VALUES ($1, $2, $3, octet_length($4::bytea), encode(sha256($4::bytea), 'hex'), $4, $5)
           RETURNING id""",
        request_id, filename, content_type, data, uploaded_by,
    )
    return await conn.fetchrow(f"SELECT {_META} {_FROM} WHERE t.id = $1", attachment_id)


async def count_live(conn: asyncpg.Connection, request_id: int) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM trip_request_attachments WHERE request_id = $1 AND deleted_at IS NULL",
        request_id,
    )


async def list_live(conn: asyncpg.Connection | asyncpg.Pool, request_id: int) -> list[asyncpg.Record]:
    """The request's attachments that are not deleted, oldest first, without their bytes."""
    return await conn.fetch(
        f"SELECT {_META} {_FROM} WHERE t.request_id = $1 AND t.deleted_at IS NULL ORDER BY t.id",
        request_id,
    )


async def fetch_live(
    conn: asyncpg.Connection | asyncpg.Pool, request_id: int, attachment_id: int
) -> asyncpg.Record | None:
    """One live attachment of the request, with its bytes (`data`)."""
    return await conn.fetchrow(
        f"""SELECT {_META}, t.data {_FROM}
            WHERE t.id = $1 AND t.request_id = $2 AND t.deleted_at IS NULL""",
        attachment_id, request_id,
    )


async def mark_deleted(
    conn: asyncpg.Connection, request_id: int, attachment_id: int, deleted_by: int
) -> bool:
    """Marks a live attachment deleted (its bytes are kept); False if there was none."""
    status = await conn.execute(
        """UPDATE trip_request_attachments SET deleted_at = now(), deleted_by = $3
           WHERE id = $1 AND request_id = $2 AND deleted_at IS NULL""",
        attachment_id, request_id, deleted_by,
    )
    return status.split()[-1] == "1"

"""Trip request attachment (附件) schemas: the metadata of a file; the upload's multipart body
as OpenAPI describes it (the route reads the body itself, as a stream)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AttachmentRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 7, "request_id": 42, "filename": "会议通知.pdf", "content_type": "application/pdf",
        "size_bytes": 183204,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "uploaded_by": 5, "uploaded_by_name": "用车人", "uploaded_at": "2026-11-20T09:12:30+08:00",
        "download_url": "/api/v1/trip-requests/42/attachments/7",
    }]})
    id: int
    request_id: int
    filename: str = Field(description="the user's file name, sanitised, ending with the real type's extension")
    content_type: str = Field(description="the type found in the file's bytes, not the one declared")
    size_bytes: int
    sha256: str = Field(description="hex SHA-256 of the stored bytes")
    uploaded_by: int
    uploaded_by_name: str
    uploaded_at: datetime
    download_url: str


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {
                    "type": "string", "format": "binary",
                    "description": "PDF, JPEG, PNG, DOCX or XLSX, at most 10 MiB (10485760 bytes)",
                }},
            },
        }},
    },
}

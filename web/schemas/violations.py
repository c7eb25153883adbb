"""Violation review (监督检查) schemas: the list, counts, one violation with its evidence,
explanations and audit trail, the moves an inspector or a unit sends."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warn", "alarm"]
ReviewState = Literal["open", "auto_closed", "retracted", "awaiting_explanation", "overdue",
                      "under_review", "dismissed", "confirmed", "rectified", "closed", "referred"]
InspectorEvent = Literal["send", "dismiss", "confirm", "close", "refer"]


class Message(BaseModel):
    zh: str = ""
    en: str = ""


class ViolationItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 12, "rule_id": "R1", "severity": "alarm", "state": "open",
        "started_at": "2026-11-30T21:10:00+08:00", "ended_at": "2026-11-30T21:42:00+08:00",
        "local_day": "2026-11-30", "vehicle_id": 7, "plate": "鄂A·12345", "org_id": 9,
        "org_name_zh": "武汉市财政局", "org_name_en": "Wuhan Finance Bureau", "city_code": "420100",
        "city_name_zh": "武汉", "city_name_en": "Wuhan", "driver_id": 3, "driver_name": "王师傅",
        "request_id": None, "order_ids": [], "summary": {"km": 12.3, "duration_s": 1920},
        "provisional": False, "case_id": None, "detected_at": "2026-11-30T21:52:10+08:00",
        "updated_at": "2026-11-30T21:52:10+08:00", "explanation_due": None, "version": 1,
        "message": {"zh": "无派车单出车 12.3 km", "en": "Trip without an order, 12.3 km"},
    }]})
    id: int
    rule_id: str = Field(description="R1 … R17, or PUBLIC for a citizen's report")
    severity: Severity
    state: ReviewState
    started_at: datetime = Field(description="device time")
    ended_at: datetime | None
    local_day: date = Field(description="Asia/Shanghai")
    vehicle_id: int | None
    plate: str | None
    org_id: int = Field(description="the unit that explains")
    org_name_zh: str
    org_name_en: str
    city_code: str | None
    city_name_zh: str | None
    city_name_en: str | None
    driver_id: int | None
    driver_name: str | None
    request_id: int | None
    order_ids: list[int]
    summary: dict[str, Any]
    provisional: bool
    case_id: int | None
    detected_at: datetime
    updated_at: datetime
    explanation_due: date | None = Field(description="the last day for the unit's explanation")
    version: int = Field(description="send it back with a move (409 stale_version otherwise)")
    message: Message | None


class ViolationPage(BaseModel):
    items: list[ViolationItem]
    next_before: str | None = Field(description="pass as `before` for the next page; null at the end")


class RuleCount(BaseModel):
    rule_id: str
    total: int
    by_state: dict[str, int]
    by_severity: dict[str, int]


class ViolationCounts(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "total": 3, "by_state": {"open": 2, "confirmed": 1}, "by_severity": {"alarm": 3},
        "by_rule": [{"rule_id": "R1", "total": 3, "by_state": {"open": 2, "confirmed": 1},
                     "by_severity": {"alarm": 3}}]}]})
    total: int
    by_state: dict[str, int]
    by_severity: dict[str, int]
    by_rule: list[RuleCount]


class EvidenceRead(BaseModel):
    revision: int
    created_at: datetime
    reason: str = Field(description="detected | amended: … | retracted: …")
    bundle: dict[str, Any] = Field(description="the frozen evidence (format 1); track and points "
                                   "are withheld for a 机要 car from users not cleared")


class ViolationAttachmentRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 4, "violation_id": 12, "explanation_id": 2, "filename": "情况说明.pdf",
        "content_type": "application/pdf", "size_bytes": 52311,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "uploaded_by": 21, "uploaded_by_name": "单位管理员", "uploaded_at": "2026-12-01T10:02:00+08:00",
        "download_url": "/api/v1/violations/12/attachments/4"}]})
    id: int
    violation_id: int
    explanation_id: int | None = Field(description="null until sent with an explanation")
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: int
    uploaded_by_name: str = ""
    uploaded_at: datetime
    download_url: str


class ExplanationRead(BaseModel):
    id: int
    kind: Literal["explanation", "rectification"]
    text: str
    submitted_by: int
    submitted_by_name: str
    submitted_at: datetime
    attachments: list[ViolationAttachmentRead]


class AuditEntryRead(BaseModel):
    id: int
    at: datetime
    actor_id: int | None = Field(description="null: the platform itself")
    actor_name: str | None
    action: str
    from_state: str | None
    to_state: str | None
    reason: str
    data: dict[str, Any]
    hash: str


class ViolationDetail(ViolationItem):
    finding_key: str
    params: dict[str, Any]
    params_version: int
    position_withheld: bool = Field(description="a 机要 car's positions are withheld from you")
    evidence: list[EvidenceRead]
    explanations: list[ExplanationRead]
    audit: list[AuditEntryRead]
    acting_as: list[Literal["inspector", "unit"]] = Field(description="your parts in this review")
    allowed_events: list[str] = Field(description="the moves you may make now")


class ViolationEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"event": "send", "version": 1, "reason": "请说明当晚用车事由", "deadline_working_days": 3},
        {"event": "confirm", "version": 3, "reason": "说明不成立：无派车单，目的地为住宅小区"},
    ]})
    event: InspectorEvent
    version: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field("", max_length=2000, description="required to dismiss, confirm or refer")
    deadline_working_days: int | None = Field(
        None, ge=1, le=30, description="send: the unit's deadline in working days (default 3)")


class ExplanationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "kind": "explanation", "version": 2, "attachment_ids": [4],
        "text": "当晚为应急抢险用车，已补办派车单，见附件。"}]})
    kind: Literal["explanation", "rectification"] = Field(
        "explanation", description="情况说明 (awaiting/overdue) or 整改情况 (confirmed)")
    text: str = Field(min_length=1, max_length=4000)
    version: int = Field(ge=1, le=2**31 - 1)
    attachment_ids: list[int] = Field(default_factory=list, max_length=10,
                                      description="files uploaded before, sent with this text")


class PlaybackPoint(BaseModel):
    ts_ms: int
    lat: float
    lon: float
    speed_kmh: float | None
    acc: bool | None


class PlaybackRead(BaseModel):
    violation_id: int
    from_ms: int
    to_ms: int
    points: list[PlaybackPoint] = Field(description="the stored fixes of the evidence window, in "
                                        "device-time order (≤ 1,000, simplified)")
    source: Literal["positions", "evidence"] = Field(
        description="positions: the stored fixes; evidence: none are left, times spread along "
        "the frozen track (approximate)")

"""The public report form (监督举报): what a citizen sends, what they get back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MAX_PAST = timedelta(days=30)
MAX_FUTURE = timedelta(minutes=10)


class PublicReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "token": "eyJuIjoiQ2F…", "plate": "鄂A·12345", "seen_at": "2026-11-29T21:40:00+08:00",
        "lat": 30.5547, "lon": 114.4055, "place": "光谷广场东侧某小区门口",
        "description": "晚上九点多看到这辆公车停在小区门口，有人下车进了小区。", "contact": "",
        "website": ""}]})
    token: str = Field(min_length=10, max_length=300, description="from GET /api/v1/public/report-token")
    plate: str = Field(min_length=5, max_length=16, description="车牌号, e.g. 鄂A·12345")
    seen_at: AwareDatetime = Field(description="when it was seen (at most 30 days ago)")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    place: str = Field("", max_length=200, description="where, in words (or pick it on the map)")
    description: str = Field(min_length=5, max_length=2000, description="what happened")
    contact: str = Field("", max_length=100, description="optional: a phone or an e-mail")
    website: str = Field("", max_length=200, description="leave empty (a field people do not see)")

    @model_validator(mode="after")
    def _check(self) -> PublicReportIn:
        now = datetime.now(UTC)
        if self.seen_at > now + MAX_FUTURE:
            raise ValueError("seen_at is in the future")
        if self.seen_at < now - MAX_PAST:
            raise ValueError("seen_at may be at most 30 days ago")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.lat is None and not self.place.strip():
            raise ValueError("say where: pick the place on the map or describe it")
        return self


class PublicReportAck(BaseModel):
    status: Literal["received"] = "received"


class ReportTokenRead(BaseModel):
    token: str
    min_age_s: int = Field(description="send the form no sooner than this after fetching the token")
    max_age_s: int = Field(description="the token expires after this")


class PublicMapConfig(BaseModel):
    tile_url: str
    tile_max_native_zoom: int
    tile_attribution: str
    centre: dict[str, float]

"""Dispatch data the scenario file does not spell out, created once and then left to the
operators: 一车一档 documents with a realistic spread of expiry dates, and the province's
default approval policies. Both are inserted only where missing (ON CONFLICT DO NOTHING): an
admin's later edits survive a re-seed, and a second seed writes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

LOCAL = ZoneInfo("Asia/Shanghai")


def document_expiries(index: int, today: date) -> dict[str, date]:
    """Expiry dates for the index-th vehicle of the scenario: most are months away; every 50th
    has an expired 年检 (it cannot be assigned), others expire within 30 days (reminders)."""
    spread = (index * 37) % 300
    expiries = {
        "registration": today + timedelta(days=900 + spread),  # 行驶证 检验有效期
        "insurance": today + timedelta(days=45 + spread),  # 交强险/商业险
        "annual_inspection": today + timedelta(days=60 + (index * 53) % 300),  # 年检
    }
    if index % 50 == 17:
        expiries["annual_inspection"] = today - timedelta(days=5)
    if index % 50 == 33:
        expiries["insurance"] = today + timedelta(days=12)
    if index % 25 == 8:
        expiries["annual_inspection"] = today + timedelta(days=20)
    return expiries


async def seed_documents(conn: asyncpg.Connection, vehicle_ids: list[int]) -> None:
    today = datetime.now(LOCAL).date()
    rows = [
        (vehicle_id, kind, f"{kind[:3].upper()}-{vehicle_id:06d}", expires_on)
        for index, vehicle_id in enumerate(vehicle_ids)
        for kind, expires_on in document_expiries(index, today).items()
    ]
    await conn.executemany(
        """INSERT INTO vehicle_documents (vehicle_id, kind, number, expires_on)
           VALUES ($1, $2, $3, $4) ON CONFLICT (vehicle_id, kind) DO NOTHING""",
        rows,
    )


# The province's defaults (trip type, base levels, cross-city, night, holiday extras):
# emergency and law-enforcement trips happen at any hour, so night and holidays add nothing.
DEFAULT_POLICIES = (
    (None, 1, 1, 1, 1),
    ("emergency", 1, 0, 0, 0),
    ("law_enforcement", 1, 1, 0, 0),
    ("reception", 2, 1, 1, 1),
)


async def seed_approval_policies(conn: asyncpg.Connection, province_org_id: int) -> None:
    await conn.executemany(
        """INSERT INTO approval_policies (org_id, trip_type, base_levels, cross_city_extra,
               night_extra, holiday_extra)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, trip_type) DO NOTHING""",
        [(province_org_id, *policy) for policy in DEFAULT_POLICIES],
    )

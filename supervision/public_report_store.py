"""PostgreSQL side of the public's reports (监督举报): find the named car, read its fixes and
orders around the reported time, and store the report with its PUBLIC violation (severity
warn, state open, the match as evidence revision 1) and their audit records — in the caller's
transaction.

A report naming an unknown plate, or an unmarked (标识豁免) car that the public cannot know
as an official car, is stored as unmatched and still goes to the inspectors' queue, under the
province's organisation, without any car's track.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from supervision import audit_store, violation_store
from supervision.public_match import (
    WINDOW,
    ReportView,
    TimedFix,
    bundle,
    match,
    normalise_plate,
)

MAX_FIXES = 5000


async def find_vehicle(conn: asyncpg.Connection, plate: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT v.id, v.plate, v.marking, v.source, v.use_category, v.owner_org_id,
                  o.name_zh, o.name_en
           FROM vehicles v JOIN organisations o ON o.id = v.owner_org_id
           WHERE regexp_replace(upper(v.plate), '[[:space:]·•.\\-_]', '', 'g') = $1
           LIMIT 1""", normalise_plate(plate))


async def fixes_around(conn: asyncpg.Connection, vehicle_id: int, seen_at: datetime) -> list[TimedFix]:
    rows = await conn.fetch(
        """SELECT ts, lat, lon, speed_kmh, acc FROM positions
           WHERE vehicle_id = $1 AND ts BETWEEN $2 AND $3 AND fix
           ORDER BY ts LIMIT $4""",
        vehicle_id, seen_at - WINDOW, seen_at + WINDOW, MAX_FIXES)
    return [TimedFix(r["ts"], r["lat"], r["lon"], r["speed_kmh"], r["acc"]) for r in rows]


async def orders_around(conn: asyncpg.Connection, vehicle_id: int, seen_at: datetime) -> list[dict]:
    """The car's orders (not cancelled) within an hour of the reported time."""
    rows = await conn.fetch(
        """SELECT d.id, d.state, d.planned_start, d.planned_end, d.departed_at, d.returned_at,
                  r.origin, r.destinations
           FROM dispatch_orders d JOIN trip_requests r ON r.id = d.request_id
           WHERE d.vehicle_id = $1 AND d.state <> 'cancelled'
             AND d.planned_start < $3 AND d.planned_end > $2
           ORDER BY d.planned_start""",
        vehicle_id, seen_at - timedelta(hours=1), seen_at + timedelta(hours=1))

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return [{"id": r["id"], "state": r["state"], "planned_start": iso(r["planned_start"]),
             "planned_end": iso(r["planned_end"]), "departed_at": iso(r["departed_at"]),
             "returned_at": iso(r["returned_at"]), "origin": r["origin"],
             "destinations": r["destinations"]} for r in rows]


async def save(
    conn: asyncpg.Connection, *, plate: str, seen_at: datetime, lat: float | None,
    lon: float | None, place: str, description: str, contact: str, client_key: str,
) -> tuple[int, int]:
    """Stores the report, matches it, files its PUBLIC violation; (report id, violation id)."""
    report_id = await conn.fetchval(
        """INSERT INTO public_reports (plate, seen_at, lat, lon, place, description, contact,
               client_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
        plate, seen_at, lat, lon, place, description, contact, client_key)
    report = ReportView(report_id, plate, seen_at, place, lat, lon, description, contact)
    car = await find_vehicle(conn, plate)
    if car is None:
        why = "unknown plate"
    elif car["marking"] == "exempt":
        why = "unmarked car"
    else:
        why = ""
    if why:
        org_id = await conn.fetchval(
            "SELECT id FROM organisations WHERE parent_id IS NULL ORDER BY id LIMIT 1")
        evidence = bundle(report, None, [], None, [], why)
        state, vehicle_id, result_dict = "unmatched", None, evidence["match"]
    else:
        fixes = await fixes_around(conn, car["id"], seen_at)
        result = match(fixes, seen_at, (lat, lon) if lat is not None and lon is not None else None)
        vehicle = {"id": car["id"], "plate": car["plate"], "source": car["source"],
                   "use_category": car["use_category"],
                   "org": {"id": car["owner_org_id"], "name_zh": car["name_zh"], "name_en": car["name_en"]}}
        evidence = bundle(report, vehicle, fixes, result, await orders_around(conn, car["id"], seen_at))
        org_id, state, vehicle_id, result_dict = car["owner_org_id"], "matched", car["id"], result.as_dict()
    violation_id = await violation_store.create(
        conn, rule_id="PUBLIC", finding_key=f"report:{report_id}", vehicle_id=vehicle_id,
        org_id=org_id, severity="warn", started_at=seen_at, ended_at=None,
        params=evidence["rule"]["params"], params_version=1, summary=evidence["summary"],
        bundle=evidence, reason="public report")
    await conn.execute(
        """UPDATE public_reports SET state = $2, vehicle_id = $3, match = $4, violation_id = $5
           WHERE id = $1""", report_id, state, vehicle_id, result_dict, violation_id)
    await audit_store.append(conn, None, f"public_report:{report_id}", "received", None, state,
                             why or result_dict.get("verdict", ""),
                             {"violation_id": violation_id, "client_key": client_key})
    return report_id, violation_id

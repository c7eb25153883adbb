"""Dispatch work for the demo (`fleet up --demo`, first start only): last month generated for
the reports (fleet/month_generator.py), and the work of the coming hours for the demo
accounts — requests waiting for a car (a carpool pair among them), one waiting for the
approver, an emergency being dispatched before its approval, and an order for driver1 — so
that every page has something to show. Skipped once the database holds any trip request."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dispatch import notification_store, order_store, policy_store, store
from dispatch.approval_chain import Chain
from dispatch.calendar import is_working_day
from dispatch.months import LOCAL, Month
from dispatch.prechecks import precheck
from dispatch.trip_requests import RequestEvent, apply
from fleet.month_generator import generate_month
from fleet.month_seed import seed_month
from fleet.scenario.model import Scenario

LAST_MONTH_REQUESTS = 1500

CITY_HALL = {"name": "武汉市人民政府", "lat": 30.5900, "lon": 114.2990, "city_code": "420100"}
JIANGHAN_ROAD = {"name": "江汉路步行街管委会", "lat": 30.5830, "lon": 114.2870, "city_code": "420100"}
HONGSHAN_HALL = {"name": "洪山礼堂", "lat": 30.5440, "lon": 114.3300, "city_code": "420100"}
OPTICS_VALLEY = {"name": "东湖新技术开发区管委会", "lat": 30.4920, "lon": 114.4100, "city_code": "420100"}
EZHOU_GOV = {"name": "鄂州市人民政府", "lat": 30.3960, "lon": 114.8900, "city_code": "420700"}


def _previous_month(now: datetime) -> Month:
    first = now.astimezone(LOCAL).date().replace(day=1)
    return Month.of(datetime.combine(first - timedelta(days=1), datetime.min.time(), LOCAL))


def _slot(now: datetime, hours_ahead: float) -> datetime:
    """A start time `hours_ahead` from now, on the next 10 minutes, Asia/Shanghai."""
    at = now.astimezone(LOCAL) + timedelta(hours=hours_ahead)
    return at.replace(minute=at.minute - at.minute % 10, second=0, microsecond=0)


async def seed_demo_dispatch(conn: asyncpg.Connection, scenario: Scenario, now: datetime) -> dict[str, int]:
    if await conn.fetchval("SELECT count(*) FROM trip_requests"):
        return {}
    plan = generate_month(scenario, _previous_month(now), LAST_MONTH_REQUESTS, 1, now=now)
    counts = await seed_month(conn, plan)
    async with conn.transaction():
        counts["open_requests"] = await _coming_hours(conn, now)
    return counts


async def _coming_hours(conn: asyncpg.Connection, now: datetime) -> int:
    users = {r["username"]: r for r in await conn.fetch(
        "SELECT id, username, org_id FROM users WHERE username = ANY($1::text[])",
        ["requester", "approver", "leader", "dispatcher"])}
    requester = users["requester"]
    tomorrow_9 = (now.astimezone(LOCAL) + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                                      microsecond=0)

    def trip(reason: str, start: datetime, hours: float, origin: dict, destination: dict,
             **extra: Any) -> dict[str, Any]:
        return {"trip_type": "official", "reason": reason, "passengers": ["王强", "刘洋"],
                "passenger_count": 2, "planned_start": start, "planned_end": start + timedelta(hours=hours),
                "origin": origin, "destinations": [destination], "round_trip": True,
                "car_level_wanted": None, "carpool_allowed": False, "contact_phone": "13900002222",
                **extra}

    approved = [
        trip("赴洪山礼堂参加全市安全生产工作会议", tomorrow_9, 3, CITY_HALL, HONGSHAN_HALL),
        trip("东湖高新区项目现场调研", tomorrow_9 + timedelta(hours=5), 3, CITY_HALL, OPTICS_VALLEY,
             carpool_allowed=True),
        trip("东湖高新区项目现场调研（商务局）", tomorrow_9 + timedelta(hours=5, minutes=10), 3,
             JIANGHAN_ROAD, OPTICS_VALLEY, carpool_allowed=True, passengers=["陈静"], passenger_count=1),
    ]
    for body in approved:
        await _request(conn, requester, body, now, approvers=[users["approver"], users["leader"]])
    await _request(conn, requester, trip("赴鄂州市政府商谈区域合作", tomorrow_9, 8, CITY_HALL, EZHOU_GOV,
                                         car_level_wanted="sedan"), now, approvers=[])
    await _request(conn, requester, trip("防汛应急现场处置", _slot(now, 0.5), 4, CITY_HALL, JIANGHAN_ROAD,
                                         trip_type="emergency"), now, approvers=[])
    soon = await _request(conn, requester, trip("陪同上级检查组", _slot(now, 1.5), 3, CITY_HALL,
                                                HONGSHAN_HALL), now,
                          approvers=[users["approver"], users["leader"]])
    await _assign_to_driver1(conn, soon, users["dispatcher"]["id"], now)
    return len(approved) + 3


async def _request(
    conn: asyncpg.Connection, applicant: asyncpg.Record, body: dict[str, Any], now: datetime,
    approvers: list[asyncpg.Record],
) -> int:
    """Files, submits it through the organisation's real pre-checks (its approval policy, 用车
    制度, 车补, the levels capped to the approvers there are, as the API does) and has it
    approved level by level (by the approvers given, in order)."""
    request_id = await store.insert(conn, applicant["id"], applicant["org_id"], body)
    row = await store.fetch_for_update(conn, request_id)
    request = store.to_domain(row)
    policy = await policy_store.policy_for(conn, row["org_id"], request.trip_type)
    result = precheck(request, row["car_level_wanted"], policy,
                      await store.transport_subsidy(conn, applicant["id"]), is_working_day)
    path = list(row["org_path"])
    most = Chain.of(path, await store.approvers_on_path(conn, path), applicant["id"]).completable_levels()
    levels = min(result.approval_levels, most)
    reasons = [*result.approval_reasons, *(["chain_capped"] if levels < result.approval_levels else [])]
    await conn.execute("UPDATE trip_requests SET approval_levels = $2 WHERE id = $1", request_id, levels)
    await store.set_prechecks(conn, request_id, list(result.warnings), reasons)
    steps = [(RequestEvent.SUBMIT, applicant["id"]), (RequestEvent.CHECKED, applicant["id"])]
    steps += [(RequestEvent.APPROVE, approver["id"]) for approver in approvers[:levels]]
    for event, actor in steps:
        row = await store.fetch_for_update(conn, request_id)
        before = store.to_domain(row)
        await store.save(conn, before, apply(before, event, now), row["version"], event.value, actor, "")
    return request_id


async def _assign_to_driver1(conn: asyncpg.Connection, request_id: int, dispatcher_id: int,
                             now: datetime) -> None:
    row = await store.fetch_for_update(conn, request_id)
    if row["state"] != "approved":
        return
    request = store.to_domain(row)
    dispatching = apply(request, RequestEvent.DISPATCH, now)
    await store.save(conn, request, dispatching, row["version"], "dispatch", dispatcher_id, "")
    order_id = await order_store.insert_order(conn, [request_id])
    car, driver, driver_user = await conn.fetchrow(
        """SELECT (SELECT id FROM vehicles WHERE home_city_code = '420100' AND source = 'platform'
                   AND seats >= 5 AND use_category = 'general' ORDER BY id LIMIT 1),
                  d.id, d.user_id
           FROM drivers d JOIN users u ON u.id = d.user_id WHERE u.username = 'driver1'""")
    await order_store.save_order(conn, order_id, 1, "created", "assigned", "assign", dispatcher_id, "",
                                 {"vehicle_id": car, "driver_id": driver, "assigned_at": now},
                                 {"vehicle_id": car, "driver_id": driver})
    # the same data as the API's assignment writes (web/order_events.notify_after)
    order = await order_store.fetch_order_unscoped(conn, order_id)
    await notification_store.notify(conn, [driver_user], "order_assigned", {
        "order_id": order_id, "request_ids": list(order["request_ids"] or []), "plate": order["plate"],
        "driver_name": order["driver_name"], "planned_start": order["planned_start"].isoformat()})
    row = await store.fetch_for_update(conn, request_id)
    before = store.to_domain(row)
    await store.save(conn, before, apply(before, RequestEvent.ALL_ASSIGNED, now), row["version"],
                     "all_assigned", dispatcher_id, "")

"""Read models of vehicles for the API and the live feed: SQL rows + the Redis latest state.

The ingest worker's Redis hash `{prefix}:latest` is the freshest source; PostgreSQL's
latest_vehicle_state is the fallback (Redis flushed, or down: the list still answers).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import asyncpg
import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from web.principal import Principal
from web.queries import vehicles as q
from web.vehicle_state import derive_status, newer, offline_after_s, withhold_position

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


def latest_key(prefix: str) -> str:
    return f"{prefix}:latest"


def _epoch_ms(value: Any) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _db_state(row: asyncpg.Record) -> dict[str, Any] | None:
    if row["s_ts"] is None:
        return None
    return {
        "vehicle_id": row["id"],
        "device_uid": row["device_uid"],
        "ts_ms": _epoch_ms(row["s_ts"]),
        "received_ms": _epoch_ms(row["s_received_at"]),
        "lat": row["s_lat"],
        "lon": row["s_lon"],
        "speed_kmh": row["s_speed_kmh"],
        "heading_deg": row["s_heading_deg"],
        "acc": row["s_acc"],
        "odometer_km": row["s_odometer_km"],
        "fuel_l": row["s_fuel_l"],
        "soc_pct": row["s_soc_pct"],
        "alarm": row["s_alarm"],
    }


async def redis_states(redis: Redis, prefix: str, vehicle_ids: list[int]) -> dict[int, dict]:
    """The Redis latest state of each vehicle that has one ({} if Redis is unavailable)."""
    if not vehicle_ids:
        return {}
    try:
        raws = await redis.hmget(latest_key(prefix), [str(i) for i in vehicle_ids])
    except RedisError as exc:
        log.warning("latest states from Redis unavailable, using PostgreSQL: %s", exc)
        return {}
    states: dict[int, dict] = {}
    for vehicle_id, raw in zip(vehicle_ids, raws, strict=True):
        if raw is None:
            continue
        try:
            states[vehicle_id] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            log.warning("unreadable latest state for vehicle %s in Redis", vehicle_id)
    return states


def vehicle_item(
    row: asyncpg.Record, cached: dict | None, principal: Principal, at_ms: int
) -> dict[str, Any]:
    """One vehicle as the list, the detail view and the websocket snapshot show it."""
    state = newer(cached, _db_state(row))
    offline_after = offline_after_s(row["report_interval_s"])
    status = derive_status(
        state, device_status=row["device_status"], offline_after=offline_after, now_ms=at_ms
    )
    withheld = row["use_category"] == "confidential" and not principal.sees_confidential_positions
    if state is not None and withheld:
        state = withhold_position(state)
    return {
        "id": row["id"],
        "plate": row["plate"],
        "city": {
            "code": row["city_code"],
            "name_zh": row["city_name_zh"],
            "name_en": row["city_name_en"],
        },
        "source": row["source"],
        "use_category": row["use_category"],
        "car_level": row["car_level"],
        "seats": row["seats"],
        "energy_type": row["energy_type"],
        "brand_model": row["brand_model"],
        "device_uid": row["device_uid"],
        "device_status": row["device_status"],
        "report_interval_s": row["report_interval_s"],
        "offline_after_s": offline_after,
        "position_withheld": withheld,
        "status": status,
        "state": state,
    }


async def list_vehicle_items(
    pool: asyncpg.Pool,
    redis: Redis,
    prefix: str,
    principal: Principal,
    *,
    city_code: str | None = None,
    source: str | None = None,
    plate_query: str | None = None,
) -> list[dict[str, Any]]:
    rows = await q.vehicles_in_scope(
        pool, principal.scope_root_id, city_code=city_code, source=source, plate_query=plate_query
    )
    cached = await redis_states(redis, prefix, [row["id"] for row in rows])
    at_ms = now_ms()
    return [vehicle_item(row, cached.get(row["id"]), principal, at_ms) for row in rows]


def _ref(row: asyncpg.Record, prefix: str, *extra: str) -> dict[str, Any] | None:
    if row[f"{prefix}_id"] is None:
        return None
    names = ("id", "code", "name_zh", "name_en", *extra)
    return {name: row[f"{prefix}_{name}"] for name in names}


async def vehicle_detail(
    pool: asyncpg.Pool, redis: Redis, prefix: str, principal: Principal, vehicle_id: int
) -> dict[str, Any] | None:
    row = await q.vehicle_in_scope(pool, principal.scope_root_id, vehicle_id)
    if row is None:
        return None
    cached = await redis_states(redis, prefix, [vehicle_id])
    item = vehicle_item(row, cached.get(vehicle_id), principal, now_ms())
    item.update(
        tank_l=row["tank_l"],
        battery_kwh=row["battery_kwh"],
        range_km=row["range_km"],
        marking=row["marking"],
        owner_org=_ref(row, "owner"),
        depot=_ref(row, "depot", "lat", "lon"),
        rental_company=_ref(row, "rc"),
    )
    return item

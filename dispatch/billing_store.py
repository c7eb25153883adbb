"""PostgreSQL side of billing (计费): price a returned order and split its cost among the
requests it carries.

- Distance: the odometer (garage-out → garage-in) when the driver entered both readings and
  the car's GNSS trips over [departed, returned] agree within 10 % (else, or without readings,
  the GNSS distance: billing.billed_distance). Both are stored (`billed_km`, `gnss_km`).
- A rental order (it has a price plan) gets its fee from the pure formula (dispatch/billing.py),
  stored with its lines. A platform or entrusted car has no fee: its cost is what the driver
  paid on the way (tolls, parking, fuel).
- The cost is split among the carried requests per passenger-km (dispatch/carpool.split_cost):
  each request weighs its passengers × its own road km (origin → destinations, back to the
  origin for a round trip; great-circle × 1.3).

Everything works on many orders at once (one query to read, one to write each table), so the
month generator prices thousands of orders as fast as the API prices one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson

from dispatch import billing
from dispatch.carpool import Place, road_km, split_cost
from dispatch.months import Month
from dispatch.orders import ORDER_MACHINE, OrderEvent, OrderState
from dispatch.trip_requests import REQUEST_MACHINE, RequestEvent, RequestState

LOCAL = ZoneInfo("Asia/Shanghai")
RETURNED_STATES = ("returned", "disputed", "confirmed", "rated", "settled")
KM = Decimal("0.1")
FEN = Decimal("0.01")

# A trip counts for an order when it overlaps [departed, returned]; none lasts over a day, so
# the primary key's (vehicle_id, start_ts) range is bounded below.
_ORDERS_SQL = """
SELECT d.id, d.price_plan_id, d.departed_at, d.returned_at, d.planned_start,
       d.arrived_pickup_at, d.odometer_start_km, d.odometer_end_km, d.nights_out_of_town,
       d.tolls_cny, d.parking_cny, d.fuel_cny,
       p.charter_type, p.mode, p.base_price_cny, p.included_hours, p.included_km,
       p.overtime_cny_per_h, p.over_km_cny_per_km, p.night_surcharge_cny,
       p.out_of_town_cny_per_day, p.late_penalty_cny,
       (SELECT coalesce(sum(t.dist_gnss_m), 0) FROM trips t
        WHERE t.vehicle_id = d.vehicle_id
          AND t.start_ts >= d.departed_at - interval '1 day' AND t.start_ts < d.returned_at
          AND coalesce(t.end_ts, 'infinity') > d.departed_at) / 1000.0 AS gnss_km
FROM dispatch_orders d LEFT JOIN price_plans p ON p.id = d.price_plan_id
WHERE d.id = ANY($1::int[]) AND d.state = ANY($2::text[])
  AND d.departed_at IS NOT NULL AND d.returned_at IS NOT NULL
"""

_RIDES_SQL = """
SELECT x.order_id, x.request_id, x.passenger_count, r.origin, r.destinations, r.round_trip
FROM dispatch_order_requests x JOIN trip_requests r ON r.id = x.request_id
WHERE x.order_id = ANY($1::int[]) ORDER BY x.order_id, x.request_id
"""


@dataclass(frozen=True)
class Priced:
    order_id: int
    gnss_km: Decimal
    billed_km: Decimal
    fee: billing.Fee | None  # None: not a rental order
    cost_cny: Decimal  # the rental fee, or the direct costs of a platform car


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(FEN)


def plan_of(row: asyncpg.Record) -> billing.PricePlan:
    return billing.PricePlan(
        charter_type=row["charter_type"], mode=row["mode"],
        base_price_cny=row["base_price_cny"], included_hours=row["included_hours"],
        included_km=row["included_km"], overtime_cny_per_h=row["overtime_cny_per_h"],
        over_km_cny_per_km=row["over_km_cny_per_km"],
        night_surcharge_cny=row["night_surcharge_cny"],
        out_of_town_cny_per_day=row["out_of_town_cny_per_day"],
        late_penalty_cny=row["late_penalty_cny"],
    )


def usage_of(row: asyncpg.Record, distance_km: Decimal) -> billing.Usage:
    def local(ts: datetime) -> datetime:
        return ts.astimezone(LOCAL)

    return billing.Usage(
        departed_at=local(row["departed_at"]), returned_at=local(row["returned_at"]),
        distance_km=distance_km, planned_pickup_at=local(row["planned_start"]),
        arrived_pickup_at=local(row["arrived_pickup_at"] or row["departed_at"]),
        nights_out_of_town=row["nights_out_of_town"], tolls_cny=_money(row["tolls_cny"]),
        parking_cny=_money(row["parking_cny"]), fuel_cny=_money(row["fuel_cny"]),
    )


def price_row(row: asyncpg.Record) -> Priced:
    """The order's km, fee (rental) and cost, from its stored row. Pure."""
    gnss_km = Decimal(str(row["gnss_km"])).quantize(KM)
    start, end = row["odometer_start_km"], row["odometer_end_km"]
    odometer_km = None
    if start is not None and end is not None and end >= start:
        odometer_km = Decimal(str(end - start)).quantize(KM)
    billed_km = billing.billed_distance(odometer_km, gnss_km)
    if row["price_plan_id"] is None:
        direct = _money(row["tolls_cny"]) + _money(row["parking_cny"]) + _money(row["fuel_cny"])
        return Priced(row["id"], gnss_km, billed_km, None, direct)
    fee = billing.fee(plan_of(row), usage_of(row, billed_km))
    return Priced(row["id"], gnss_km, billed_km, fee, fee.total_cny)


def fee_lines_json(fee: billing.Fee) -> str:
    return orjson.dumps([
        {"code": line.code, "label_zh": line.label_zh, "quantity": float(line.quantity),
         "amount_cny": float(line.amount_cny)}
        for line in fee.lines
    ]).decode()


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def ride_km(origin: Any, destinations: Any, round_trip: bool) -> float:
    """A request's own road km: origin → each destination in turn (→ origin for a round trip)."""
    origin, destinations = _json(origin), _json(destinations)
    stops = [origin, *destinations] + ([origin] if round_trip and destinations else [])
    places = [Place(float(s["lat"]), float(s["lon"]), str(s.get("city_code", ""))) for s in stops]
    return sum(road_km(a, b) for a, b in zip(places, places[1:], strict=False))


def shares(cost_cny: Decimal, rides: list[asyncpg.Record]) -> list[tuple[int, Decimal, Decimal]]:
    """(request id, ride km, share) for each carried request, the shares adding up to the cost."""
    kms = {r["request_id"]: round(ride_km(r["origin"], r["destinations"], r["round_trip"]), 1)
           for r in rides}
    weights = {r["request_id"]: r["passenger_count"] * kms[r["request_id"]] for r in rides}
    if sum(weights.values()) <= 0:  # no distance to go by (origin = destination): by heads
        weights = {r["request_id"]: float(r["passenger_count"]) for r in rides}
    split = split_cost(float(cost_cny), weights)
    return [(rid, Decimal(str(kms[rid])).quantize(KM), Decimal(str(split[rid])).quantize(FEN))
            for rid in weights]


async def price_orders(conn: asyncpg.Connection, order_ids: list[int]) -> dict[int, Priced]:
    """Prices every returned order among `order_ids` and stores km, fee and the requests'
    shares; orders not back yet are left alone (absent from the result)."""
    rows = await conn.fetch(_ORDERS_SQL, order_ids, list(RETURNED_STATES))
    priced = {row["id"]: price_row(row) for row in rows}
    if not priced:
        return {}
    ids = list(priced)
    await conn.execute(
        """UPDATE dispatch_orders d SET gnss_km = u.gnss_km, billed_km = u.billed_km,
               fee_cny = u.fee_cny, fee_lines = u.fee_lines::jsonb, fee_computed_at = now()
           FROM unnest($1::int[], $2::numeric[], $3::numeric[], $4::numeric[], $5::text[])
                AS u(id, gnss_km, billed_km, fee_cny, fee_lines)
           WHERE d.id = u.id""",
        ids, [priced[i].gnss_km for i in ids], [priced[i].billed_km for i in ids],
        [priced[i].fee.total_cny if priced[i].fee else None for i in ids],
        [fee_lines_json(priced[i].fee) if priced[i].fee else None for i in ids],
    )
    by_order: dict[int, list[asyncpg.Record]] = {}
    for ride in await conn.fetch(_RIDES_SQL, ids):
        by_order.setdefault(ride["order_id"], []).append(ride)
    out: list[tuple[int, int, Decimal, Decimal]] = []
    for order_id, rides in by_order.items():
        out += [(order_id, *share) for share in shares(priced[order_id].cost_cny, rides)]
    await conn.execute(
        """UPDATE dispatch_order_requests x SET ride_km = u.ride_km, share_cny = u.share_cny
           FROM unnest($1::int[], $2::int[], $3::numeric[], $4::numeric[])
                AS u(order_id, request_id, ride_km, share_cny)
           WHERE x.order_id = u.order_id AND x.request_id = u.request_id""",
        [o[0] for o in out], [o[1] for o in out], [o[2] for o in out], [o[3] for o in out],
    )
    return priced


async def price_order(conn: asyncpg.Connection, order_id: int) -> billing.Fee | None:
    """The fee of a returned rental order (stored with its km and the requests' shares); None
    for a platform car (its km and shares are stored all the same) or an order not back yet."""
    priced = (await price_orders(conn, [order_id])).get(order_id)
    return None if priced is None else priced.fee


async def on_order_returned(conn: asyncpg.Connection, order_id: int) -> None:
    """Called in the transaction that commits the order's `return` (and `resolve_dispute`)."""
    await price_orders(conn, [order_id])


# A billing run settles what the state machine lets settle (confirmed or rated orders).
SETTLEABLE = [s.value for s in OrderState if ORDER_MACHINE.can(s, OrderEvent.SETTLE)]
SETTLED = ORDER_MACHINE.next(OrderState.CONFIRMED, OrderEvent.SETTLE).value
REQUEST_SETTLED = REQUEST_MACHINE.next(RequestState.COMPLETED, RequestEvent.SETTLE).value

# $1 start, $2 end, $3 settleable states, $4 scope root, $5 company or NULL, $6 actor, $7 note
_SETTLE_ORDERS = f"""
WITH picked AS (
    SELECT d.id, d.state FROM dispatch_orders d
    WHERE d.returned_at >= $1 AND d.returned_at < $2 AND d.state = ANY($3::text[])
      AND ($5::int IS NULL OR d.rental_company_id = $5)
      AND EXISTS (SELECT 1 FROM dispatch_order_requests x JOIN trip_requests r ON r.id = x.request_id
                  JOIN organisations o ON o.id = r.org_id
                  WHERE x.order_id = d.id AND o.path @> ARRAY[$4::int])
    FOR UPDATE OF d
), moved AS (
    UPDATE dispatch_orders d SET state = '{SETTLED}', version = d.version + 1
    FROM picked WHERE d.id = picked.id
    RETURNING d.id, picked.state AS from_state, d.price_plan_id IS NOT NULL AS rental,
              coalesce(d.fee_cny, d.tolls_cny + d.parking_cny + d.fuel_cny) AS cost_cny
), logged AS (
    INSERT INTO dispatch_order_events (order_id, event, from_state, to_state, actor_id, note)
    SELECT id, 'settle', from_state, '{SETTLED}', $6, $7 FROM moved
)
SELECT id, rental, cost_cny FROM moved
"""

# Requests carried by the orders just settled whose live orders are now all settled.
_SETTLE_REQUESTS = f"""
WITH ready AS (
    SELECT r.id FROM trip_requests r
    WHERE r.id IN (SELECT request_id FROM dispatch_order_requests WHERE order_id = ANY($1::int[]))
      AND r.state = 'completed'
      AND NOT EXISTS (SELECT 1 FROM dispatch_order_requests y JOIN dispatch_orders d ON d.id = y.order_id
                      WHERE y.request_id = r.id AND d.state NOT IN ('{SETTLED}', 'cancelled'))
    FOR UPDATE OF r
), moved AS (
    UPDATE trip_requests r SET state = '{REQUEST_SETTLED}', version = r.version + 1
    FROM ready WHERE r.id = ready.id RETURNING r.id
)
INSERT INTO trip_request_events (request_id, event, from_state, to_state, actor_id, note)
SELECT id, 'settle', 'completed', '{REQUEST_SETTLED}', $2, $3 FROM moved RETURNING request_id
"""


@dataclass(frozen=True)
class BillingRun:
    orders_settled: int
    requests_settled: int
    rental_fee_cny: Decimal
    direct_cost_cny: Decimal

    @property
    def total_cny(self) -> Decimal:
        return self.rental_fee_cny + self.direct_cost_cny


async def settle_month(
    conn: asyncpg.Connection, month: Month, scope_root_id: int, company_id: int | None,
    actor_id: int | None,
) -> BillingRun:
    """结算: every confirmed or rated order back in the month (and in reach) → settled; their
    requests follow once all their orders are. Run inside the caller's transaction."""
    unpriced = await conn.fetch(
        """SELECT id FROM dispatch_orders WHERE returned_at >= $1 AND returned_at < $2
           AND state = ANY($3::text[]) AND fee_computed_at IS NULL""",
        month.start, month.end, SETTLEABLE)
    if unpriced:
        await price_orders(conn, [r["id"] for r in unpriced])
    note = f"billing run {month.text}"
    settled = await conn.fetch(_SETTLE_ORDERS, month.start, month.end, SETTLEABLE, scope_root_id,
                               company_id, actor_id, note)
    requests = await conn.fetch(_SETTLE_REQUESTS, [r["id"] for r in settled], actor_id, note)
    rental = sum((_money(r["cost_cny"]) for r in settled if r["rental"]), Decimal(0))
    direct = sum((_money(r["cost_cny"]) for r in settled if not r["rental"]), Decimal(0))
    return BillingRun(len(settled), len(requests), rental, direct)

"""What an event on a dispatch order (派车单) needs besides the state machine: who may send it,
which fields it writes, the checks on a car and a driver, who is told, and how the requests
the order carries follow it. Called by web/routes/dispatch_orders.py inside its transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from dispatch import notification_store, order_store, store
from dispatch.assignment import MESSAGES, Driver, platform_problem, rental_problem
from dispatch.orders import OrderEvent, OrderState
from dispatch.sources import Car, Need
from dispatch.trip_requests import RequestEvent, RequestState, apply
from web.errors import ApiError
from web.principal import Principal
from web.schemas.dispatch_orders import DispatchOrderEventIn

DISPATCHERS = frozenset({"dispatcher", "admin"})
# The driver's own steps: the order's driver, or a dispatcher recording them for him.
DRIVER_EVENTS = frozenset({
    OrderEvent.DRIVER_ACCEPT, OrderEvent.REQUEST_REASSIGNMENT, OrderEvent.DEPART,
    OrderEvent.ARRIVE_PICKUP, OrderEvent.START_SERVICE, OrderEvent.END_SERVICE, OrderEvent.RETURN,
})
REQUESTER_EVENTS = frozenset({OrderEvent.CONFIRM, OrderEvent.DISPUTE, OrderEvent.RATE})
RENTAL_EVENTS = frozenset({OrderEvent.RENTAL_ACCEPT, OrderEvent.RENTAL_REJECT})
SYSTEM_EVENTS = frozenset({OrderEvent.RENTAL_TIMEOUT})  # the rental timeout job sends it
CAR_EVENTS = frozenset({OrderEvent.ASSIGN, OrderEvent.CHANGE_CAR, OrderEvent.RENTAL_ACCEPT})
# States in which the order holds a car (the requests follow these).
HELD = frozenset({OrderState.ASSIGNED, OrderState.ACCEPTED})
BACK = frozenset({OrderState.RETURNED, OrderState.CONFIRMED, OrderState.RATED,
                  OrderState.SETTLED, OrderState.DISPUTED})
_CLEARED = {"vehicle_id": None, "driver_id": None, "assigned_at": None, "accepted_at": None}
_RENTAL_CLEARED = {"rental_company_id": None, "price_plan_id": None, "charter_type": None,
                   "service_mode": None, "sent_to_rental_at": None, "rental_deadline": None}


def authorise(user: Principal, event: OrderEvent, row: asyncpg.Record, applicants: list[int]) -> None:
    if event in SYSTEM_EVENTS:
        raise ApiError(422, f"'{event.value}' is sent by the system, not by a person.",
                       code="not_an_action")
    if event in RENTAL_EVENTS:
        if ("rental_operator" in user.roles and row["rental_company_id"] is not None
                and user.rental_company_id == row["rental_company_id"]) or "admin" in user.roles:
            return
        raise ApiError(403, "Only the rental company the order was sent to may answer it.",
                       code="forbidden")
    if user.has_any_role(DISPATCHERS) and event not in REQUESTER_EVENTS:
        return
    if event in DRIVER_EVENTS and "driver" in user.roles and row["driver_user_id"] == user.id:
        return
    if event in REQUESTER_EVENTS and (user.id in applicants or user.has_any_role(
            frozenset({"org_admin", "admin"}))):
        return
    raise ApiError(403, f"You may not send '{event.value}' for this order.", code="forbidden")


def _refuse(code: str) -> ApiError:
    return ApiError(409, MESSAGES[code], code=code)


async def _car_and_driver(conn: asyncpg.Connection, body: DispatchOrderEventIn):
    if body.vehicle_id is None or body.driver_id is None:
        raise ApiError(422, f"'{body.event.value}' needs vehicle_id and driver_id.",
                       code="missing_assignment")
    car = await order_store.car_for_assignment(conn, body.vehicle_id)
    driver = await order_store.driver_for_assignment(conn, body.driver_id)
    if car is None or driver is None:
        raise ApiError(422, "No such vehicle or driver.", code="unknown_vehicle_or_driver")
    return car, driver


def need_of(need_row: asyncpg.Record) -> Need:
    return Need(
        org_id=need_row["org_id"], city=need_row["city"] or "",
        cities=frozenset(need_row["cities"] or ()), start=need_row["planned_start"],
        end=need_row["planned_end"], passengers=need_row["passengers"],
        car_level=need_row["car_level_wanted"],
    )


def _driver(driver: asyncpg.Record) -> Driver:
    return Driver(driver["id"], driver["rental_company_id"], driver["home_city_code"])


def _breakdown(body: DispatchOrderEventIn, row: asyncpg.Record) -> dict[str, Any]:
    """换车 on the road: the broken car's leg ends here (its odometer now, kept in the event
    data by `event_data`), the new car starts its own leg (it departs again), and a rental
    company whose car broke down is no longer the order's supplier (the platform's car takes
    over; the company's leg is not billed)."""
    if body.odometer_km is None:
        raise ApiError(422, "'change_car' needs odometer_km: the broken car's reading now.",
                       code="missing_odometer")
    start_km = row["odometer_start_km"]
    if start_km is not None and body.odometer_km < start_km:
        raise ApiError(422, "The odometer cannot go back.", code="odometer_backwards")
    changes: dict[str, Any] = {"departed_at": None, "odometer_start_km": None}
    if row["rental_company_id"] is not None:
        changes |= _RENTAL_CLEARED
    return changes


def _car(car: asyncpg.Record) -> Car:
    return Car(id=car["id"], source=car["source"], owner_org_id=car["owner_org_id"],
               home_city=car["home_city_code"], seats=car["seats"], car_level=car["car_level"],
               documents=order_store.documents_of(car))


async def field_changes(
    conn: asyncpg.Connection, body: DispatchOrderEventIn, row: asyncpg.Record, now: datetime,
) -> dict[str, Any]:
    """The fields an event writes, after checking what it brings."""
    event = body.event
    today = now.astimezone(store.LOCAL).date()
    if event in (OrderEvent.ASSIGN, OrderEvent.CHANGE_CAR):
        car, driver = await _car_and_driver(conn, body)
        need = need_of(await order_store.need_of_order(conn, row["id"]))
        problem = platform_problem(_car(car), car["active"], _driver(driver), need, today)
        if problem:
            raise _refuse(problem)
        changes = {"vehicle_id": car["id"], "driver_id": driver["id"], "assigned_at": now,
                   "accepted_at": None}
        if event == OrderEvent.CHANGE_CAR:
            changes |= _breakdown(body, row)
        return changes
    if event in (OrderEvent.RENTAL_ACCEPT, OrderEvent.RENTAL_REJECT) and (
            row["rental_deadline"] is not None and now >= row["rental_deadline"]):
        raise ApiError(409, "The time to answer this order has run out; it went back to the "
                       "platform's queue.", code="rental_timed_out")
    if event == OrderEvent.RENTAL_ACCEPT:
        car, driver = await _car_and_driver(conn, body)
        need = need_of(await order_store.need_of_order(conn, row["id"]))
        problem = rental_problem(_car(car), car["rental_company_id"], car["active"], _driver(driver),
                                 row["rental_company_id"], need, today)
        if problem:
            raise _refuse(problem)
        return {"vehicle_id": car["id"], "driver_id": driver["id"], "assigned_at": now}
    if event == OrderEvent.SEND_TO_RENTAL:
        return await _rental_terms(conn, body, row, now)
    if event in (OrderEvent.RENTAL_REJECT, OrderEvent.RENTAL_TIMEOUT):
        return dict(_RENTAL_CLEARED)
    if event == OrderEvent.DRIVER_ACCEPT:
        return {"accepted_at": now}
    if event == OrderEvent.DEPART:
        if body.odometer_km is None:
            raise ApiError(422, "'depart' needs odometer_km.", code="missing_odometer")
        last_km = await order_store.last_returned_odometer(conn, row["vehicle_id"], row["id"])
        if last_km is not None and body.odometer_km < last_km - 1:
            raise ApiError(422, f"The car came back from its last order at {last_km:.1f} km; the "
                           "odometer cannot read less now.", code="odometer_below_last_return",
                           details={"last_km": last_km})
        return {"odometer_start_km": body.odometer_km, "departed_at": now}
    if event == OrderEvent.ARRIVE_PICKUP:
        return {"arrived_pickup_at": now}
    if event == OrderEvent.START_SERVICE:
        return {"service_started_at": now}
    if event == OrderEvent.END_SERVICE:
        return {"service_ended_at": now}
    if event == OrderEvent.RETURN:
        await _check_nights(conn, body, row, now)
        return _return_log(body, row, now)
    if event == OrderEvent.DISPUTE:
        if not body.note.strip():
            raise ApiError(422, "A dispute needs its reason in 'note'.", code="missing_reason")
        return {"dispute_reason": body.note.strip()}
    if event == OrderEvent.RESOLVE_DISPUTE:
        return _resolution(body, row)
    if event == OrderEvent.RATE:
        if body.rating is None:
            raise ApiError(422, "'rate' needs a rating from 1 to 5.", code="missing_rating")
        return {"rating": body.rating, "feedback": body.feedback}
    if event == OrderEvent.REQUEST_REASSIGNMENT:
        return dict(_CLEARED) | (dict(_RENTAL_CLEARED) if row["rental_company_id"] else {})
    if event == OrderEvent.CANCEL:
        return dict(_CLEARED)
    return {}


async def _rental_terms(
    conn: asyncpg.Connection, body: DispatchOrderEventIn, row: asyncpg.Record, now: datetime
) -> dict[str, Any]:
    if body.rental_company_id is None:
        raise ApiError(422, "'send_to_rental' needs rental_company_id.", code="missing_company")
    if body.service_mode != "with_driver":
        # 仅车: the platform would supply the driver of a company's car; not offered yet.
        raise ApiError(409, "Only 车+驾 (with_driver) orders can be sent to a company for now.",
                       code="car_only_not_supported")
    company = await order_store.company(conn, body.rental_company_id)
    if company is None:
        raise ApiError(422, "No such rental company.", code="unknown_company")
    need_row = await order_store.need_of_order(conn, row["id"])
    today = now.astimezone(store.LOCAL).date()
    if not company["contract_start"] <= today <= company["contract_end"]:
        raise ApiError(409, "The company's contract is not in force.", code="contract_not_in_force")
    missing = sorted(set(need_row["cities"] or ()) - set(company["service_city_codes"]))
    if missing:
        raise ApiError(409, "The company's service area does not cover the trip "
                       f"(未找到匹配服务范围的车队): {', '.join(missing)}.",
                       code="company_does_not_cover", details={"cities": missing})
    level = need_row["car_level_wanted"] or level_for(need_row["passengers"])
    plan_id = await order_store.price_plan_for(conn, company["id"], level, body.charter_type,
                                               body.service_mode)
    if plan_id is None:
        raise ApiError(409, f"The company has no price plan for {level} × {body.charter_type} × "
                       f"{body.service_mode}.", code="no_price_plan")
    return {"rental_company_id": company["id"], "price_plan_id": plan_id,
            "charter_type": body.charter_type, "service_mode": body.service_mode,
            "sent_to_rental_at": now,
            "rental_deadline": now + timedelta(seconds=company["accept_timeout_s"])}


def level_for(passengers: int) -> str:
    """The smallest car class that seats them (with the driver): 轿车 4, 商务 6, 中巴 16, 大巴."""
    for level, seats in (("sedan", 4), ("business", 6), ("minibus", 16)):
        if passengers <= seats:
            return level
    return "bus"


def _resolution(body: DispatchOrderEventIn, row: asyncpg.Record) -> dict[str, Any]:
    """A dispute resolved: the reason is required; the return's entries the dispatcher corrects
    (odometer, tolls, parking, fuel) replace the driver's, and the order is priced again."""
    if not body.note.strip():
        raise ApiError(422, "Resolving a dispute needs the resolution in 'note'.", code="missing_reason")
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if "odometer_km" in given and body.odometer_km is not None:
        if row["odometer_start_km"] is not None and body.odometer_km < row["odometer_start_km"]:
            raise ApiError(422, "The odometer cannot go back.", code="odometer_backwards")
        changes["odometer_end_km"] = body.odometer_km
    for name in ("tolls_cny", "parking_cny", "fuel_cny", "fuel_l", "charge_kwh"):
        if name in given:
            changes[name] = getattr(body, name)
    return changes


async def _check_nights(
    conn: asyncpg.Connection, body: DispatchOrderEventIn, row: asyncpg.Record, now: datetime,
) -> None:
    """Nights away (异地住宿, billed as an allowance): none on a trip within one city, and no
    more than the nights the order actually spanned."""
    if not body.nights_out_of_town:
        return
    need = await order_store.need_of_order(conn, row["id"])
    spanned = 0
    if row["departed_at"] is not None:
        spanned = (now.astimezone(store.LOCAL).date() - row["departed_at"].astimezone(store.LOCAL).date()).days
    if set(need["cities"] or ()) <= {need["city"]} or body.nights_out_of_town > spanned:
        raise ApiError(422, f"{body.nights_out_of_town} nights away do not fit this order (in its "
                       f"own city, or out for {spanned} nights).", code="nights_not_plausible",
                       details={"nights_spanned": spanned})


def _return_log(body: DispatchOrderEventIn, row: asyncpg.Record, now: datetime) -> dict[str, Any]:
    """行车日志: odometer and costs entered on return."""
    if body.odometer_km is None:
        raise ApiError(422, "'return' needs odometer_km.", code="missing_odometer")
    start_km = row["odometer_start_km"]
    if start_km is not None and body.odometer_km < start_km:
        raise ApiError(422, "The odometer cannot go back.", code="odometer_backwards")
    return {"odometer_end_km": body.odometer_km, "returned_at": now, "tolls_cny": body.tolls_cny,
            "parking_cny": body.parking_cny, "fuel_cny": body.fuel_cny, "fuel_l": body.fuel_l,
            "charge_kwh": body.charge_kwh, "nights_out_of_town": body.nights_out_of_town}


async def notify_after(
    conn: asyncpg.Connection, event: OrderEvent, order_id: int, before: asyncpg.Record, note: str = "",
) -> None:
    """Tell the people concerned, in the same transaction. `before` is the order as it was
    (a rejection clears the company it names)."""
    row = await order_store.fetch_order_unscoped(conn, order_id)
    data = {"order_id": order_id, "request_ids": list(row["request_ids"] or []),
            "plate": row["plate"], "driver_name": row["driver_name"],
            "planned_start": row["planned_start"].isoformat()}
    if event in CAR_EVENTS:
        if row["driver_user_id"] is not None:
            await notification_store.notify(conn, [row["driver_user_id"]], "order_assigned", data)
        await notification_store.notify(conn, await order_store.applicants_of_order(conn, order_id),
                                        "order_changed", data)
    elif event == OrderEvent.SEND_TO_RENTAL:
        await notification_store.notify(
            conn, await order_store.operators_of_company(conn, row["rental_company_id"]),
            "rental_order", data | {"deadline": row["rental_deadline"].isoformat()})
    elif event in (OrderEvent.DISPUTE, OrderEvent.REQUEST_REASSIGNMENT):
        kind = "order_disputed" if event == OrderEvent.DISPUTE else "reassignment_requested"
        await notification_store.notify(conn, await order_store.dispatchers_of_order(conn, order_id),
                                        kind, data | {"reason": note, "plate": before["plate"],
                                                      "driver_name": before["driver_name"]})
    elif event == OrderEvent.RESOLVE_DISPUTE:
        await notification_store.notify(conn, await order_store.applicants_of_order(conn, order_id),
                                        "dispute_resolved", data, text=note)
    elif event in (OrderEvent.RENTAL_REJECT, OrderEvent.RENTAL_TIMEOUT):
        kind = "rental_rejected" if event == OrderEvent.RENTAL_REJECT else "rental_timeout"
        company = {"rental_company_id": before["rental_company_id"],
                   "company_name_zh": before["rental_company_name_zh"],
                   "company_name_en": before["rental_company_name_en"], "reason": note}
        await notification_store.notify(conn, await order_store.dispatchers_of_order(conn, order_id),
                                        kind, data | company)


async def notify_cancelled(conn: asyncpg.Connection, order_id: int, before: asyncpg.Record) -> None:
    """The applicants, the driver, and a company that had the order are told."""
    recipients = await order_store.applicants_of_order(conn, order_id)
    if before["driver_user_id"] is not None:
        recipients.append(before["driver_user_id"])
    if before["rental_company_id"] is not None:
        recipients += await order_store.operators_of_company(conn, before["rental_company_id"])
    await notification_store.notify(conn, recipients, "order_cancelled", {"order_id": order_id})


def event_data(
    event: OrderEvent, before: asyncpg.Record, changes: dict[str, Any], odometer_km: float | None = None,
) -> dict[str, Any]:
    """What the event row keeps beside the states: the company a rental event concerns, the car
    and driver an assignment names, and for 换车 the broken car's leg (its km are not lost)."""
    if event == OrderEvent.CHANGE_CAR:
        leg = {"vehicle_id": before["vehicle_id"], "driver_id": before["driver_id"],
               "rental_company_id": before["rental_company_id"],
               "departed_at": before["departed_at"].isoformat() if before["departed_at"] else None,
               "odometer_start_km": before["odometer_start_km"], "odometer_end_km": odometer_km}
        return {"vehicle_id": changes["vehicle_id"], "driver_id": changes["driver_id"], "leg": leg}
    if event in RENTAL_EVENTS or event in SYSTEM_EVENTS:
        return {"rental_company_id": before["rental_company_id"]}
    if event == OrderEvent.SEND_TO_RENTAL:
        return {"rental_company_id": changes["rental_company_id"],
                "charter_type": changes["charter_type"], "deadline": changes["rental_deadline"].isoformat()}
    if event in CAR_EVENTS:
        return {"vehicle_id": changes["vehicle_id"], "driver_id": changes["driver_id"]}
    return {}


async def follow_requests(conn: asyncpg.Connection, order_id: int, actor_id: int | None) -> None:
    """Each request the order carries follows its orders: all assigned → 已派车; a car left →
    在途; all back → 已完成."""
    for request_id in await order_store.request_ids_of_order(conn, order_id):
        row = await store.fetch_for_update(conn, request_id)
        orders = [OrderState(o["state"]) for o in await order_store.orders_of_request(conn, request_id)]
        live = [s for s in orders if s != OrderState.CANCELLED]
        request = store.to_domain(row)
        event = _request_event(request.state, live)
        if event is not None:
            after = apply(request, event, datetime.now(UTC))
            await store.save(conn, request, after, row["version"], event.value, actor_id, "")


def _request_event(state: RequestState, live: list[OrderState]) -> RequestEvent | None:
    if state == RequestState.DISPATCHING and live and all(s in HELD for s in live):
        return RequestEvent.ALL_ASSIGNED
    if state == RequestState.DISPATCHED and any(s not in HELD for s in live):
        if not live or any(s in (OrderState.CREATED, OrderState.SENT_TO_RENTAL) for s in live):
            return RequestEvent.UNASSIGNED
        return RequestEvent.DEPART
    if state == RequestState.IN_PROGRESS and live and all(s in BACK for s in live):
        return RequestEvent.COMPLETE
    return None

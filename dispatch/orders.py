"""Dispatch orders (派车单), one per vehicle: states and events (domain.md §4). Pure code.

created → assigned (platform or entrusted car + driver) | sent to a rental company (which
accepts with car and driver, or rejects / times out: back to created) → accepted by the driver
(or reassignment requested: back to created) → departed (odometer) → at pickup → in service →
service ended → returned (tolls, fuel, parking entered) → confirmed by the requester (or
disputed, then resolved) → rated → settled. Cancel before departure; change car after a
breakdown (from departed, at pickup or in service: a new car and driver take over).
"""

from __future__ import annotations

from enum import StrEnum

from dispatch.transitions import Machine


class OrderState(StrEnum):
    CREATED = "created"  # 待派车
    ASSIGNED = "assigned"  # 已派车 (platform/entrusted car and driver)
    SENT_TO_RENTAL = "sent_to_rental"  # 待租赁公司接单
    ACCEPTED = "accepted"  # 司机已接单
    DEPARTED = "departed"  # 已出车
    AT_PICKUP = "at_pickup"  # 已到达上车点
    IN_SERVICE = "in_service"  # 服务中
    SERVICE_ENDED = "service_ended"  # 服务结束
    RETURNED = "returned"  # 已回场
    DISPUTED = "disputed"  # 用车人有异议
    CONFIRMED = "confirmed"  # 用车人已确认
    RATED = "rated"  # 已评价
    SETTLED = "settled"  # 已结算
    CANCELLED = "cancelled"  # 已取消


class OrderEvent(StrEnum):
    ASSIGN = "assign"
    SEND_TO_RENTAL = "send_to_rental"
    RENTAL_ACCEPT = "rental_accept"
    RENTAL_REJECT = "rental_reject"
    RENTAL_TIMEOUT = "rental_timeout"
    DRIVER_ACCEPT = "driver_accept"
    REQUEST_REASSIGNMENT = "request_reassignment"
    DEPART = "depart"
    ARRIVE_PICKUP = "arrive_pickup"
    START_SERVICE = "start_service"
    END_SERVICE = "end_service"
    RETURN = "return"
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    RESOLVE_DISPUTE = "resolve_dispute"
    RATE = "rate"
    SETTLE = "settle"
    CANCEL = "cancel"
    CHANGE_CAR = "change_car"  # breakdown on the way: another car and driver take over


S, E = OrderState, OrderEvent
_BEFORE_DEPARTURE = (S.CREATED, S.ASSIGNED, S.SENT_TO_RENTAL, S.ACCEPTED)
_ON_THE_ROAD = (S.DEPARTED, S.AT_PICKUP, S.IN_SERVICE)

ORDER_MACHINE: Machine[OrderState, OrderEvent] = Machine("dispatch order", {
    (S.CREATED, E.ASSIGN): S.ASSIGNED,
    (S.CREATED, E.SEND_TO_RENTAL): S.SENT_TO_RENTAL,
    (S.SENT_TO_RENTAL, E.RENTAL_ACCEPT): S.ASSIGNED,
    (S.SENT_TO_RENTAL, E.RENTAL_REJECT): S.CREATED,
    (S.SENT_TO_RENTAL, E.RENTAL_TIMEOUT): S.CREATED,
    (S.ASSIGNED, E.DRIVER_ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, E.REQUEST_REASSIGNMENT): S.CREATED,
    (S.ASSIGNED, E.ASSIGN): S.ASSIGNED,  # the dispatcher changes car or driver
    (S.ACCEPTED, E.REQUEST_REASSIGNMENT): S.CREATED,
    (S.ACCEPTED, E.DEPART): S.DEPARTED,
    (S.DEPARTED, E.ARRIVE_PICKUP): S.AT_PICKUP,
    (S.AT_PICKUP, E.START_SERVICE): S.IN_SERVICE,
    (S.IN_SERVICE, E.END_SERVICE): S.SERVICE_ENDED,
    (S.SERVICE_ENDED, E.RETURN): S.RETURNED,
    (S.RETURNED, E.CONFIRM): S.CONFIRMED,
    (S.RETURNED, E.DISPUTE): S.DISPUTED,
    (S.DISPUTED, E.RESOLVE_DISPUTE): S.CONFIRMED,
    (S.CONFIRMED, E.RATE): S.RATED,
    (S.CONFIRMED, E.SETTLE): S.SETTLED,  # rating is optional
    (S.RATED, E.SETTLE): S.SETTLED,
    **{(state, E.CANCEL): S.CANCELLED for state in _BEFORE_DEPARTURE},
    **{(state, E.CHANGE_CAR): S.ASSIGNED for state in _ON_THE_ROAD},
})

# The order's car is busy (counts for double booking) from assignment until it is back.
BOOKING_STATES = frozenset({
    S.ASSIGNED, S.ACCEPTED, S.DEPARTED, S.AT_PICKUP, S.IN_SERVICE, S.SERVICE_ENDED,
})

"""A rental company's cars and drivers as its operator's chooser shows them: documents valid,
busy now, and — for an order being answered — whether each may take it, with the reason it
may not (the same rules the acceptance applies: dispatch.sources.why_not for seats, class,
年检/保险 until the trip ends, and a booking within 30 min; the database still refuses a double
booking on its own)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from dispatch.order_store import documents_of
from dispatch.sources import BOOKING_BUFFER, REQUIRED_DOCUMENTS, Car, Need, expiring, why_not

Window = tuple[datetime, datetime]


def _windows(bookings: list[dict[str, Any]]) -> tuple[Window, ...]:
    return tuple((datetime.fromisoformat(b["planned_start"]), datetime.fromisoformat(b["planned_end"]))
                 for b in bookings)


def _busy_at(windows: tuple[Window, ...], now: datetime) -> bool:
    return any(start <= now <= end for start, end in windows)


def _clashes(windows: tuple[Window, ...], need: Need) -> bool:
    """A booking of the same driver within 30 min of the order's window."""
    return any(need.start < end + BOOKING_BUFFER and start < need.end + BOOKING_BUFFER
               for start, end in windows)


def car_view(row: asyncpg.Record, need: Need | None, now: datetime, today: date) -> dict[str, Any]:
    documents = documents_of(row)
    windows = _windows(row["bookings"])
    car = Car(id=row["id"], source="leased", owner_org_id=0, home_city=row["home_city_code"],
              seats=row["seats"], car_level=row["car_level"], documents=documents,
              booked=windows)
    reason = None
    if need is not None:
        reason = "car_inactive" if not row["active"] else why_not(car, need, today)
    return {
        "id": row["id"], "plate": row["plate"], "car_level": row["car_level"],
        "seats": row["seats"], "energy_type": row["energy_type"],
        "brand_model": row["brand_model"], "home_city_code": row["home_city_code"],
        "home_city_name_zh": row["home_city_name_zh"], "home_city_name_en": row["home_city_name_en"],
        "active": row["active"], "documents": documents,
        "documents_valid": all(documents.get(k) is not None and documents[k] >= today
                               for k in REQUIRED_DOCUMENTS),
        "documents_expiring": [kind for kind, _ in expiring(car, today)],
        "busy_now": _busy_at(windows, now), "bookings": row["bookings"],
        "fits": None if need is None else reason is None, "reason": reason,
    }


def driver_view(row: asyncpg.Record, need: Need | None, now: datetime) -> dict[str, Any]:
    windows = _windows(row["bookings"])
    reason = "booked" if need is not None and _clashes(windows, need) else None
    return {
        "id": row["id"], "code": row["code"], "name": row["name"], "phone": row["phone"],
        "license_class": row["license_class"], "home_city_code": row["home_city_code"],
        "has_login": row["has_login"], "busy_now": _busy_at(windows, now),
        "bookings": row["bookings"],
        "fits": None if need is None else reason is None, "reason": reason,
    }

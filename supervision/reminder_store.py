"""远程提醒: remote reminders — a `reminders` row, the text command to the car's terminal on
`{root}/devices/{uid}/cmd` (`{"id", "type": "text", "text", "tts"}`), and a `reminder`
notification on the driver's page. Used by the rules worker (a WARN) and by the dispatcher's
console (web/routes/dispatch_console.py).

The row (and the notification) is written in the caller's transaction; the command is
published only after it commits (`publish`), so the terminal's acknowledgement — recorded by
ingest on `.../cmd/ack` (telemetry/store.py) — always finds its row. `published_at` is set on
the broker's PUBACK; a reminder the broker could not take stays unpublished and the rules
worker retries it for a while (`unpublished`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

from dispatch import notification_store
from supervision.rules_store import to_dt

log = logging.getLogger(__name__)
HOLDING_STATES = ("assigned", "accepted", "departed", "at_pickup", "in_service", "service_ended")
ON_THE_ROAD = ("departed", "at_pickup", "in_service", "service_ended")


class CommandPublisher(Protocol):
    async def publish_command(self, uid: str, command: dict[str, Any], *,
                              timeout_s: float) -> None: ...


@dataclass(frozen=True)
class Reminder:
    id: int
    command_id: str
    device_uid: str | None
    text: str
    tts: bool
    notification_id: int | None

    def command(self) -> dict[str, Any]:
        return {"id": self.command_id, "type": "text", "text": self.text, "tts": self.tts}


async def create(conn: asyncpg.Connection, *, vehicle_id: int, device_uid: str | None, text: str,
                 tts: bool = True, violation_id: int | None = None, order_id: int | None = None,
                 driver_user_id: int | None = None, created_by: int | None = None,
                 notice: dict[str, Any] | None = None) -> Reminder:
    """The reminder's row and, when a driver is known, his notification (kind 'reminder',
    the text on his page; `notice` adds to its data)."""
    command_id = uuid.uuid4().hex
    notification_id = None
    if driver_user_id is not None:
        data = {"command_id": command_id if device_uid else None, "order_id": order_id,
                "violation_id": violation_id, **(notice or {})}
        await notification_store.notify(conn, [driver_user_id], "reminder", data, text=text)
        notification_id = await conn.fetchval(
            "SELECT currval(pg_get_serial_sequence('notifications', 'id'))")
    reminder_id = await conn.fetchval(
        """INSERT INTO reminders (command_id, vehicle_id, device_uid, violation_id, order_id,
               driver_user_id, notification_id, text, tts, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id""",
        command_id, vehicle_id, device_uid, violation_id, order_id, driver_user_id,
        notification_id, text, tts, created_by)
    return Reminder(reminder_id, command_id, device_uid, text, tts, notification_id)


async def reminded(conn: asyncpg.Connection, violation_id: int) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM reminders WHERE violation_id = $1)", violation_id))


async def holding_order(conn: asyncpg.Connection, vehicle_id: int, at_ms: int,
                        prefer: tuple[int, ...] = ()) -> tuple[int, int | None] | None:
    """(order id, the driver's user id) of the order holding the car at at_ms: one of
    `prefer` if it holds it, else any order on the road or booked around that time."""
    found = await conn.fetchrow(
        f"""SELECT d.id, dr.user_id FROM dispatch_orders d
            LEFT JOIN drivers dr ON dr.id = d.driver_id
            WHERE d.vehicle_id = $1 AND d.state IN {HOLDING_STATES}
              AND (d.state IN {ON_THE_ROAD}
                   OR $2 BETWEEN d.planned_start - interval '30 minutes'
                             AND d.planned_end + interval '60 minutes')
            ORDER BY d.id = ANY($3::int[]) DESC, d.state IN {ON_THE_ROAD} DESC, d.id DESC
            LIMIT 1""", vehicle_id, to_dt(at_ms), list(prefer))
    return None if found is None else (found["id"], found["user_id"])


async def publish(pool: asyncpg.Pool, publisher: CommandPublisher | None, reminder: Reminder,
                  timeout_s: float = 3.0) -> bool:
    """Sends the command (after the row committed); `published_at` on the broker's PUBACK.
    False when the car has no terminal or the broker did not take it (then it stays
    unpublished: the driver's page still shows the notice)."""
    if reminder.device_uid is None or publisher is None:
        return False
    try:
        await publisher.publish_command(reminder.device_uid, reminder.command(),
                                        timeout_s=timeout_s)
    except Exception as exc:  # the broker away or slow: TelemetryUnavailable, a closed client
        log.warning("reminder %s to %s not published: %s", reminder.command_id,
                    reminder.device_uid, exc)
        return False
    await pool.execute("UPDATE reminders SET published_at = now() WHERE id = $1 "
                       "AND published_at IS NULL", reminder.id)
    return True


async def unpublished(pool: asyncpg.Pool, max_age_s: int, limit: int = 200) -> list[Reminder]:
    """The rules' reminders to a terminal that no broker took yet (younger than max_age_s)."""
    rows = await pool.fetch(
        """SELECT id, command_id, device_uid, text, tts, notification_id FROM reminders
           WHERE published_at IS NULL AND device_uid IS NOT NULL AND created_by IS NULL
             AND created_at > now() - make_interval(secs => $1)
           ORDER BY id LIMIT $2""", float(max_age_s), limit)
    return [Reminder(r["id"], r["command_id"], r["device_uid"], r["text"], r["tts"],
                     r["notification_id"]) for r in rows]

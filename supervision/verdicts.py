"""Writing reconcile's actions (the rules worker's side; I/O through the stores, inside the
caller's transaction): each insert and amend with a new frozen evidence bundle, each retract
and auto-close through the review's system move with the evidence that no longer supports
it, notes for the reviewers, R17's parts pointed at their case, and the remote reminder of a
new WARN (its row and the driver's notice; the caller publishes the command after commit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from supervision import audit_store, evidence, finding_store, reminder_store, rules_store
from supervision.model import Finding, OrderView, RuleParams
from supervision.reconcile import Action
from supervision.rules.common import local_iso
from supervision.zones import Zone

REMINDED_SEVERITY = "warn"


@dataclass(frozen=True)
class Target:
    """Where and against what a finding is written."""
    vehicle: evidence.Vehicle | None
    org_id: int
    local_day: date
    params: RuleParams | None
    orders: tuple[OrderView, ...]
    horizon_ms: int
    terminal_uid: str | None = None
    # the zones containing a point (for the evidence's context zones: where a trip began and
    # ended, where the car stood); None: only the finding's zones and the car's lot
    places_of: Callable[[tuple[float, float]], list[Zone]] | None = None

    @property
    def vehicle_id(self) -> int | None:
        return None if self.vehicle is None else self.vehicle.profile.id


@dataclass
class Outcome:
    counts: Counter[str] = field(default_factory=Counter)
    reminders: list[reminder_store.Reminder] = field(default_factory=list)
    ids: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Writer:
    conn: Any                                 # an asyncpg connection in a transaction
    zones: dict[int, Zone]
    now_ms: int
    reminder_max_age_s: int = 7200

    async def apply(self, actions: Sequence[Action],
                    target_of: Callable[[Finding], Target]) -> Outcome:
        out = Outcome()
        if any(a.kind != "keep" or a.audit for a in actions):
            # the audit chain's lock before any violation row: the one lock order of every
            # writer (supervision/audit_store.lock_chain), so the worker and the web never deadlock
            await audit_store.lock_chain(self.conn)
        for action in actions:             # reconcile orders them by rule: R17 after its parts
            kind = await self._apply(action, target_of, out)
            out.counts[kind] += 1
        return out

    async def _apply(self, a: Action, target_of: Callable[[Finding], Target],
                     out: Outcome) -> str:
        if a.kind == "keep":
            if a.audit and a.stored is not None and await finding_store.note(
                    self.conn, a.stored, a.reason):
                return "note"
            return "keep"
        if a.kind in ("retract", "auto_close"):
            return await self._close(a)
        finding = a.finding
        assert finding is not None
        target = target_of(finding)
        driver = await finding_store.driver(self.conn, finding.driver_id)
        bundle = await self.bundle(evidence.Subject.of(finding), target,
                                   None if driver is None else {"id": driver["id"],
                                                                "name": driver["name"]})
        if a.kind == "insert":
            violation_id = await finding_store.insert(
                self.conn, finding, vehicle_id=target.vehicle_id, org_id=target.org_id,
                local_day=target.local_day, params=target.params, driver_id=finding.driver_id,
                bundle=bundle, reason=a.reason)
            if violation_id is None:
                return "duplicate"
        else:
            assert a.stored is not None and a.stored.id is not None
            violation_id = a.stored.id
            await finding_store.amend(self.conn, a, params=target.params,
                                      driver_id=finding.driver_id, bundle=bundle)
        out.ids[(finding.rule_id, finding.key)] = violation_id
        if finding.part_keys:
            await finding_store.set_case(self.conn, violation_id, finding.part_keys)
        if await self._remind(finding, violation_id, target, out):
            out.counts["reminded"] += 1
        return "reinstate" if a.to_state == "open" and a.kind == "amend" else a.kind

    async def bundle(self, subject: evidence.Subject, target: Target,
                     driver: dict[str, Any] | None) -> dict[str, Any]:
        lo, hi = evidence.window(subject, target.horizon_ms)
        fixes = [] if target.vehicle_id is None else await rules_store.fixes(
            self.conn, target.vehicle_id, lo, min(hi, target.horizon_ms) + 1)
        lot_id = target.vehicle.profile.lot_zone_id if target.vehicle is not None else None
        zone_ids = evidence.zone_ids_of(subject, lot_id, target.places_of)
        zones = [self.zones[z] for z in zone_ids if z in self.zones]
        orders = [o for o in target.orders if o.id in set(subject.order_ids)]
        return evidence.build(subject, params=target.params, vehicle=target.vehicle,
                              driver=driver, horizon_ms=target.horizon_ms, fixes=fixes,
                              zones=zones, orders=orders)

    async def _close(self, a: Action) -> str:
        stored = a.stored
        assert stored is not None and stored.id is not None
        row = await finding_store.row(self.conn, stored.id)
        _, previous = await finding_store.latest_bundle(self.conn, stored.id)
        bundle = dict(previous)
        bundle["retraction"] = {"reason": a.reason, "at": local_iso(self.now_ms),
                                "state_before": stored.state}
        if row is not None and row["vehicle_id"] is not None:
            lo, hi = _window_of(previous, row)
            fixes = await rules_store.fixes(self.conn, row["vehicle_id"], lo, hi + 1)
            bundle["track"] = evidence.track(fixes)
            bundle["distance"] = evidence.distance(
                fixes, rules_store.to_ms(row["started_at"]),
                rules_store.to_ms(row["ended_at"] or row["started_at"]))
        state = await finding_store.close(self.conn, a, bundle)
        if state is None:
            return "left"
        if stored.rule_id == "R17":
            await finding_store.release_case(self.conn, stored.id)
        return a.kind

    async def _remind(self, f: Finding, violation_id: int, target: Target, out: Outcome) -> bool:
        """One reminder per new WARN that is not provisional and still current."""
        if f.severity != REMINDED_SEVERITY or f.provisional or target.vehicle_id is None:
            return False
        newest = f.end_ms if f.end_ms is not None else target.horizon_ms
        if newest < self.now_ms - self.reminder_max_age_s * 1000:
            return False                       # late data about the past: nobody to remind
        if await reminder_store.reminded(self.conn, violation_id):
            return False
        holding = await reminder_store.holding_order(self.conn, target.vehicle_id, self.now_ms,
                                                     f.order_ids)
        order_id, driver_user = holding if holding is not None else (None, None)
        if target.terminal_uid is None and driver_user is None:
            return False
        plate = target.vehicle.profile.plate if target.vehicle is not None else ""
        out.reminders.append(await reminder_store.create(
            self.conn, vehicle_id=target.vehicle_id, device_uid=target.terminal_uid,
            text=f.message_zh or f.message_en, violation_id=violation_id, order_id=order_id,
            driver_user_id=driver_user,
            notice={"rule_id": f.rule_id, "plate": plate, "from": "rules"}))
        return True


def _window_of(bundle: dict[str, Any], row: Any) -> tuple[int, int]:
    window = bundle.get("window") or {}
    try:
        lo = int(datetime.fromisoformat(window["from"]).timestamp() * 1000)
        hi = int(datetime.fromisoformat(window["to"]).timestamp() * 1000)
        if hi > lo:
            return lo, hi
    except (KeyError, TypeError, ValueError):
        pass
    start = rules_store.to_ms(row["started_at"])
    end = rules_store.to_ms(row["ended_at"]) if row["ended_at"] is not None else start
    return start - evidence.MARGIN_MS, min(end, start + evidence.MAX_SPAN_MS) + evidence.MARGIN_MS

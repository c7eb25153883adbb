"""One vehicle's pass of the rules worker (I/O through the stores, inside the transaction the
runner opens for the vehicle): fold its new positions into episodes, evaluate the local days
concerned, reconcile the findings with the stored violations, write.

Folding: new positions only (after the newest folded one); when positions older than that
were stored since the last pass (盲区补报, a worker that died) the trackers replay from their
state at the start of that local day, after removing the episodes the replay writes again.
A mark for another reason (an order changed: migration 0009's triggers) finds no such
positions and refolds nothing — it only widens the days evaluated.

The clock bounds what is known: ingest accepts device times up to a day ahead (a terminal
whose clock runs fast), but a position stamped later than now + FUTURE_TOLERANCE_MS is not
folded, not the newest fix and not the horizon: it waits until its time comes and is then new
data like any other. Folding it early would put the trackers' last time ahead of the clock,
and every real fix after it would look late and replay the whole day.

The stored violations are read under the audit chain's lock whenever the pass writes: an
inspector's move between the read and the write would otherwise be overwritten with a stale
state (supervision/audit_store.lock_chain: the web's moves take it first too).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from supervision import audit_store, day_store, evidence, rules_store
from supervision.day_context import (
    DAY_MS,
    Loaded,
    day_start_ms,
    days_to_evaluate,
    horizon_ms,
    known_until_ms,
    load_window,
    local_day,
    orders_to_measure,
    vehicle_day,
    with_measures,
)
from supervision.episodes import (
    FoldResult,
    Trackers,
    TrackerSettings,
    anchors,
    fresh_state,
    open_episodes,
)
from supervision.model import Finding, VehicleDay
from supervision.params import ParamRow, resolve, values_for
from supervision.reconcile import Action, reconcile
from supervision.rules import evaluate
from supervision.verdicts import Outcome, Target, Writer
from supervision.zones import Zone, ZoneIndex


@dataclass(frozen=True)
class ZoneSet:
    index: ZoneIndex
    by_id: dict[int, Zone]

    @classmethod
    def of(cls, zones: list[Zone]) -> ZoneSet:
        return cls(ZoneIndex(zones), {z.id: z for z in zones})


@dataclass(frozen=True)
class PassSettings:
    max_days_back: int = 7
    late_margin_s: int = 300          # received_at vs the last pass: ingest's commit lag
    reminder_max_age_s: int = 7200


@dataclass
class PassResult:
    vehicle_id: int
    folded: int = 0
    replayed_from_ms: int | None = None
    horizon_ms: int | None = None
    days: list[date] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    outcome: Outcome | None = None


async def run(conn: Any, vehicle_id: int, from_ms: int, zones: ZoneSet, now_ms: int,
              settings: PassSettings = PassSettings()) -> PassResult:
    result = PassResult(vehicle_id)
    await rules_store.lock_vehicle(conn, vehicle_id)
    info = await day_store.vehicle(conn, vehicle_id)
    limit_ms = known_until_ms(now_ms)
    newest = await rules_store.newest_fix(conn, vehicle_id, limit_ms)
    if info is None or newest is None:
        return result
    rows = await day_store.param_rows(conn, info.profile.org_path)
    from_ms = min(from_ms, limit_ms)
    late_ms = await _fold(conn, info, rows, from_ms, newest.ts_ms, zones, now_ms, settings, result)
    first_ms = await day_store.segment_start(conn, vehicle_id, min(from_ms, late_ms or from_ms))
    result.days = days_to_evaluate(first_ms, newest.ts_ms, settings.max_days_back)
    horizon = horizon_ms(newest.ts_ms, now_ms)
    result.horizon_ms = horizon
    loaded = await _load(conn, info, rows, result.days, zones, horizon)
    contexts: dict[date, VehicleDay] = {}
    found: dict[tuple[str, str], Finding] = {}
    day_of: dict[tuple[str, str], date] = {}
    for day in result.days:
        ctx = vehicle_day(info.profile, day, horizon, loaded, zones.index, newest)
        ctx = await _measured(conn, ctx, result.days, found, day_of)
        contexts[day] = ctx
        for f in evaluate(ctx):
            key = (f.rule_id, f.key)
            if key not in found:          # a finding two days both see: the first day's
                found[key], day_of[key] = f, day
    actions = await _reconciled(conn, vehicle_id, result.days, found)
    if _writes(actions):
        # Read again under the audit lock: an inspector's move committed since the first read
        # (it takes the same lock, supervision/violation_store.lock) is seen before anything
        # is written, so no record states a from/to the violation no longer has. A pass that
        # writes nothing needs no lock: it is as if it ran just before that move.
        await audit_store.lock_chain(conn)
        actions = await _reconciled(conn, vehicle_id, result.days, found)
    vehicle = evidence.Vehicle(info.profile, info.org_name_zh, info.org_name_en)

    def target_of(f: Finding) -> Target:
        day = day_of[(f.rule_id, f.key)]
        ctx = contexts[day]
        return Target(vehicle, info.profile.owner_org_id, day, ctx.params.get(f.rule_id),
                      ctx.orders, horizon, info.terminal_uid, places_of=ctx.places_of)

    writer = Writer(conn, zones.by_id, now_ms, settings.reminder_max_age_s)
    result.outcome = await writer.apply(actions, target_of)
    result.counts = result.outcome.counts
    return result


def _writes(actions: list[Action]) -> bool:
    return any(a.kind != "keep" or a.audit for a in actions)


async def _reconciled(conn: Any, vehicle_id: int, days: list[date],
                      found: dict[tuple[str, str], Finding]) -> list[Action]:
    """The stored violations of the days (and those elsewhere with a key found now), read
    now, reconciled with what was found."""
    stored = await day_store.stored_by_day(conn, vehicle_id, days)
    existing = {(s.rule_id, s.key): s for day in days for s in stored[day]}
    elsewhere = await day_store.stored_by_keys(conn, [k for k in found if k not in existing])
    existing.update({k: s for k, (_, s) in elsewhere.items()})
    return list(reconcile(existing.values(), found.values()))


async def _fold(conn: Any, info: day_store.VehicleInfo, rows: list[ParamRow], from_ms: int,
                newest_ms: int, zones: ZoneSet, now_ms: int, settings: PassSettings,
                result: PassResult) -> int | None:
    """Folds what is new (or replays); the oldest late position's time, if there was one."""
    vehicle_id = info.profile.id
    r6 = values_for(resolve("R6", info.profile.org_path, rows, now_ms), "R6",
                    info.profile.use_category)
    trackers = Trackers(zones.index, vehicle_id, TrackerSettings(
        float(r6["default_limit_kmh"]), float(r6["urban_limit_kmh"])), org_path=info.profile.org_path)
    saved = await rules_store.load_state(conn, vehicle_id)
    limit_ms = known_until_ms(now_ms)
    late_ms: int | None = None
    replay_from: int | None = None
    anchored: list[tuple[str, str, int]] = []
    if saved is None:                      # first sight: its recent history, from a day start
        first = max(min(from_ms, newest_ms), newest_ms - settings.max_days_back * DAY_MS)
        start = day_start_ms(local_day(first))
        base, replay_from = fresh_state(), start
    else:
        base, start = saved.state, saved.last_ms + 1
        if saved.last_ms > limit_ms:
            # a device time ahead of the clock was folded (by a worker without this bound):
            # the state is refolded once from today's (or the mark's day's) snapshot, which
            # precedes it, and keeps within the clock from then on
            late_ms = min(from_ms, now_ms)
        elif from_ms <= saved.last_ms:
            late_ms = await rules_store.late_since(
                conn, vehicle_id, from_ms, saved.last_ms,
                saved.folded_at_ms - settings.late_margin_s * 1000)
        if late_ms is not None:
            snapshot = await rules_store.day_state(conn, vehicle_id, local_day(late_ms))
            if snapshot is None:
                day, base = local_day(late_ms), fresh_state()
            else:
                day, base = snapshot
            start = replay_from = day_start_ms(day)
            anchored = anchors(base)
    fixes = await rules_store.fixes(conn, vehicle_id, start, limit_ms + 1)
    folded: FoldResult = trackers.fold(base, fixes)
    result.folded = len(fixes)
    result.replayed_from_ms = replay_from if late_ms is not None else None
    if not fixes and replay_from is None:
        return late_ms
    await rules_store.save_day_states(conn, vehicle_id, folded.day_states)
    await rules_store.replace_episodes(
        conn, vehicle_id, replay_from, anchored,
        folded.episodes + open_episodes(folded.state, min_speeding_s=float(r6["min_duration_s"])))
    last = fixes[-1].ts_ms if fixes else start - 1     # a replay that found nothing new
    await rules_store.save_state(conn, vehicle_id, last, folded.state)
    return late_ms


async def _load(conn: Any, info: day_store.VehicleInfo, rows: list[ParamRow],
                days: list[date], zones: ZoneSet, horizon: int) -> Loaded:
    """What the days need; trips and stops (ingest's, from every stored position) that begin
    after the horizon are not known yet."""
    vehicle_id, path = info.profile.id, info.profile.org_path
    lo, hi = load_window(days)
    return Loaded(
        trips=tuple(t for t in await day_store.trips(conn, vehicle_id, lo, hi)
                    if t.start_ms <= horizon),
        stops=tuple(s for s in await day_store.stops(conn, vehicle_id, lo, hi)
                    if s.start_ms <= horizon),
        episodes=tuple(await rules_store.episodes_between(conn, vehicle_id, lo, hi)),
        orders=tuple(await day_store.orders(conn, vehicle_id, lo - DAY_MS, hi + DAY_MS)),
        seals=await day_store.seals(conn, path, lo - DAY_MS, hi + DAY_MS),
        duty=await day_store.duty(conn, vehicle_id, lo - DAY_MS, hi + DAY_MS),
        param_rows=tuple(rows), zones=zones.by_id)


async def _measured(conn: Any, ctx: VehicleDay, days: list[date],
                    found: dict[tuple[str, str], Finding],
                    day_of: dict[tuple[str, str], date]) -> VehicleDay:
    """R13's nearest approaches, and R17's earlier nights: stored R4s of the days before this
    pass, and this pass's own R4 findings of its earlier days."""
    nearest = {}
    for order, lo, hi in orders_to_measure(ctx):
        nearest[order.id] = await day_store.nearest_approach_m(
            conn, ctx.vehicle.id, lo, hi, order.destinations)
    before = min(ctx.day, days[0])
    stored = await day_store.recent_night_stops(conn, ctx.vehicle.id, ctx.day)
    nights = [n for n in stored if local_day(n[0]) < before]
    for key, f in found.items():
        at = f.summary.get("at")
        if (f.rule_id == "R4" and f.severity != "info" and day_of[key] < ctx.day
                and day_of[key] >= ctx.day - timedelta(days=6) and isinstance(at, list)):
            nights.append((f.start_ms, float(at[0]), float(at[1])))
    return with_measures(ctx, nearest, tuple(sorted(nights)))

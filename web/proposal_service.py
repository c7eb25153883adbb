"""Proposals (方案) for the dispatcher's queue: build one, re-plan it in the background, read it.

Propose: the waiting requests (all, or a selection) are grouped by day and city of departure
(`optimizer.planning`), each group planned by insertion (regret-2, pinned trips first, the
previous proposal's routes kept as the starting point when one is given) and improved for a
second; the answer is revision 1. Then a background task re-optimises the whole plan from it
(`optimizer.replan`: the previous plan as warm start, committed orders never moved) and, if it
is cheaper, stores revision 2; the console polls and shows it.

Why a task in the web process rather than a worker: a re-plan belongs to one open proposal,
lasts seconds, and only that proposal's reader wants its result; a worker would need a queue
and a protocol for nothing. It runs in a thread, so the event loop keeps serving (Python hands
the interpreter over every few milliseconds: requests are slower meanwhile, not stopped); the
result goes to Redis, so any web process can serve it. Re-plans of several proposals run one at a time (a lock): the
machine's cores are few.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from optimizer.insertion import PlanState
from optimizer.insertion_plan import PlanResult, build_plan, improve_plan, plan_cost
from optimizer.planning import (
    DayProblem,
    FleetCar,
    QueuedTrip,
    build_day_problem,
    car_misfit,
    day_of,
    group_by_day_and_city,
)
from optimizer.replan import carry_over, replan
from web import proposal_keeper as keeper
from web import proposal_store
from web.principal import Principal
from web.proposal_views import day_routes, totals, unserved_item

log = logging.getLogger(__name__)
FIRST_IMPROVE_S = 1.0  # spent improving before the first answer
_replans = threading.Lock()  # taken in the worker thread: re-plans run one at a time
_tasks: set[asyncio.Task] = set()

CAR_MISFIT_TEXT = {
    "car_inactive": "the car is out of service",
    "leased_via_company": "a leased car comes through its rental company",
    "other_city": "the car belongs to another city's pool than the trip's start",
    "retained_by_other_unit": "a unit's retained car serves only its own unit",
    "documents": "the car's 年检 or 保险 is expired or missing",
    "no_depot": "the car has no depot",
}


@dataclass
class Planned:
    problems: list[DayProblem]
    results: list[PlanResult]
    cars: dict[int, FleetCar]
    refused: dict[int, tuple[str, str]]  # requests kept out of every plan, with the reason
    pins: dict[int, int]
    solver: str = "insertion"


def _key(dp: DayProblem) -> str:
    return f"{dp.day.isoformat()}|{dp.city}"


def plan_groups(trips: list[QueuedTrip], cars: list[FleetCar], now: datetime,
                warm: dict[str, dict[str, list]], pins: dict[int, int],
                refused: dict[int, tuple[str, str]], improve_s: float) -> Planned:
    """The synchronous part (run in a thread): a plan per day and city."""
    by_id = {car.id: car for car in cars}
    problems, results = [], []
    groups = group_by_day_and_city(trips)
    for (day, city), group in groups.items():
        dp = build_day_problem(day, city, group, cars, now)
        org_ids = {t.org_id for t in group}
        trip_pins = {}
        for trip in group:
            car_id = pins.get(trip.id)
            if car_id is None:
                continue
            car = by_id.get(car_id)
            why = "other_city" if car is None else car_misfit(car, city, org_ids, day)
            if why is not None:
                refused[trip.id] = ("pinned_car", f"car {car.plate if car else car_id}: "
                                    f"{CAR_MISFIT_TEXT.get(why, why)}")
                continue
            trip_pins[dp.first_leg(trip.id)] = str(car_id)
        if any(trip.id in refused for trip in group):
            kept = [t for t in group if t.id not in refused]
            dp = build_day_problem(day, city, kept, cars, now)
        start = carry_over(dp.problem, warm.get(_key(dp), {}), holds=dp.holds, pins=trip_pins)
        result = build_plan(dp.problem, holds=dp.holds, warm_start=start, pins=trip_pins)
        if improve_s > 0:
            result = improve_plan(dp.problem, result, holds=dp.holds, pins=trip_pins,
                                  time_limit_s=improve_s / max(1, len(groups)))
        problems.append(dp)
        results.append(result)
    return Planned(problems, results, by_id, refused, pins)


def revision_of(planned: Planned, number: int, solver: str) -> dict[str, Any]:
    routes, unserved = [], []
    for dp, result in zip(planned.problems, planned.results, strict=True):
        day_routes_, day_unserved = day_routes(dp, result, planned.cars)
        routes += day_routes_
        unserved += day_unserved
    unserved += [unserved_item(rid, code, message)
                 for rid, (code, message) in sorted(planned.refused.items())]
    routes.sort(key=lambda r: (r["start"], r["plate"]))
    plans = {_key(dp): {vid: [list(ref) for ref in refs] for vid, refs in result.routes.items()}
             for dp, result in zip(planned.problems, planned.results, strict=True)}
    cost_units = sum(plan_cost(PlanState(dp.problem, result.routes, dp.holds))
                     for dp, result in zip(planned.problems, planned.results, strict=True))
    return {"revision": number, "solver": solver, "at": datetime.now(UTC), "routes": routes,
            "unserved": unserved, "totals": totals(routes, unserved), "plans": plans,
            "objective": cost_units}


async def propose(resources, prefix: str, user: Principal, request_ids: list[int] | None,
                  base_id: str | None, pins: dict[int, int], replan_s: float) -> dict[str, Any]:
    """A new proposal (revision 1), stored; the background re-plan is started."""
    now = datetime.now(UTC)
    warm: dict[str, dict[str, list]] = {}
    if base_id is not None:
        base = await keeper.load(resources.redis, prefix, base_id)
        if base is not None and base["scope_root_id"] == user.scope_root_id:
            warm = keeper.latest(base)["plans"]
            pins = {int(k): v for k, v in base.get("pins", {}).items()} | pins
            if request_ids is None and base.get("selection") is not None:
                request_ids = sorted(set(base["selection"]) | set(pins))
    if request_ids is not None:
        request_ids = sorted(set(request_ids) | set(pins))
    selection = await proposal_store.queued(resources.pool, user.scope_root_id, request_ids)
    cities = sorted({t.origin.city_code for t in selection.trips})
    orgs = sorted({t.org_id for t in selection.trips})
    days = sorted({day_of(t) for t in selection.trips}) or [now.date()]
    cars = await proposal_store.fleet(resources.pool, cities, orgs, days[0], days[-1], now,
                                      live_confidential=user.sees_confidential_positions)
    planned = await asyncio.to_thread(plan_groups, selection.trips, cars, now, warm, pins,
                                      dict(selection.refused), FIRST_IMPROVE_S)
    record = {
        "id": keeper.new_id(), "scope_root_id": user.scope_root_id, "created_by": user.id,
        "created_at": now, "state": "open", "selection": request_ids,
        "pins": {str(k): v for k, v in pins.items()},
        "request_ids": sorted(t.id for t in selection.trips) + sorted(planned.refused),
        "open_orders": {str(k): v for k, v in selection.open_order.items()},
        "accepted_vehicle_ids": [], "outcomes": [], "replanning": replan_s > 0,
        "revisions": [revision_of(planned, 1, "insertion")],
    }
    await keeper.save(resources.redis, prefix, record)
    if replan_s > 0:
        task = asyncio.create_task(_replan_later(resources, prefix, record["id"], planned, replan_s))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
    return record


async def _replan_later(resources, prefix: str, proposal_id: str, planned: Planned,
                        budget_s: float) -> None:
    """The background re-plan of one proposal; a cheaper plan becomes its next revision."""
    try:
        better = await asyncio.to_thread(_replan_all, planned, budget_s)
        async with keeper.lock(resources.redis, prefix, proposal_id):
            record = await keeper.load(resources.redis, prefix, proposal_id)
            if record is None:
                return
            record["replanning"] = False
            if record["state"] == "open" and better is not None:
                current = keeper.latest(record)
                candidate = revision_of(better, current["revision"] + 1, better.solver)
                if candidate["objective"] < current["objective"]:
                    record["revisions"].append(candidate)
            await keeper.save(resources.redis, prefix, record)
    except Exception:  # a background task has nobody to answer: log it, keep revision 1
        log.exception("background re-plan of proposal %s failed", proposal_id)


async def cancel_background() -> None:
    """At shutdown: stop waiting for running re-plans (their threads end within their time
    limit; the results are dropped)."""
    loop = asyncio.get_running_loop()
    mine = [task for task in list(_tasks) if task.get_loop() is loop]  # this app's only
    for task in mine:
        task.cancel()
    for task in mine:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _replan_all(planned: Planned, budget_s: float) -> Planned | None:
    with _replans:
        return _replan_each(planned, budget_s)


def _replan_each(planned: Planned, budget_s: float) -> Planned | None:
    results, solvers = [], set()
    share = budget_s / max(1, len(planned.problems))
    for dp, result in zip(planned.problems, planned.results, strict=True):
        pins = {dp.first_leg(t): str(c) for t, c in planned.pins.items()
                if dp.first_leg(t) in dp.problem.request_by_id}
        outcome = replan(dp.problem, result, holds=dp.holds, pins=pins, time_limit_s=share)
        results.append(outcome.result)
        solvers.add(outcome.solver)
    return Planned(planned.problems, results, planned.cars, planned.refused, planned.pins,
                   "+".join(sorted(solvers)) or "insertion")

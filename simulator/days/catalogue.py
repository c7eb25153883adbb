"""A labelled set: N scripted days, half violations and half clean look-alikes, spread over
the families by weight, each given a car that may play it and a date of the calendar it needs.

The dates lie around 国庆 2026 (2026-09-14 … 2026-11-27): working days, weekends, statutory
holidays (中秋 25–27 Sep, 国庆 1–7 Oct) and 调休 make-up working Saturdays/Sundays (20 Sep,
10 Oct), per the State Council's notice (dispatch/calendar.py). The families judged against
the clock (R14: emergency requests of the last 30 days) take days of the last weeks before
`today` instead. Allocation keeps the days
apart so they cannot touch each other: one car's days are at least GAP_DAYS apart (R17 looks
a week back) and at most MAX_PER_CAR; a holiday seal (节假日封存) covers its organisation, so
no other day of a car of that organisation falls within a day of it.

`wave` orders each car's days: the bench publishes wave by wave so that the rules worker has
judged a car's earlier day before its next one arrives.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from dispatch.calendar import is_working_day
from fleet.scenario.model import Vehicle
from simulator.days.builder import DayKind, DraftRejected, make_day
from simulator.days.families_places import FAMILIES as PLACES
from simulator.days.families_roads import FAMILIES as ROADS
from simulator.days.families_trips import FAMILIES as TRIPS
from simulator.days.family import Family
from simulator.days.kit import Kit
from simulator.days.model import CST, LabelledDay

FAMILIES: tuple[Family, ...] = (*TRIPS, *PLACES, *ROADS)
DATE_FROM, DATE_TO = date(2026, 9, 14), date(2026, 11, 27)
GAP_DAYS = 8
MAX_PER_CAR = 3
SEAL_MARGIN_DAYS = 1


def day_kind(day: date) -> DayKind:
    return DayKind(is_working_day(day), is_working_day(day + timedelta(days=1)))


@lru_cache(maxsize=64)
def dates_for(calendar: str, first: date = DATE_FROM, last: date = DATE_TO) -> list[date]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if calendar == "working":     # an ordinary working day before another one
        return [d for d in days if d.weekday() < 5 and is_working_day(d)
                and is_working_day(d + timedelta(days=1))]
    if calendar == "makeup":      # 调休: a weekend day that is a working day
        return [d for d in days if d.weekday() >= 5 and is_working_day(d)]
    return [d for d in days if not is_working_day(d)]      # rest, sealed


def quotas(families: Sequence[Family], count: int) -> dict[str, int]:
    """How many days each family gets: half the set violations, half clean, by weight
    (largest remainders), every family at least one."""
    out: dict[str, int] = {}
    for clean, share in ((False, count - count // 2), (True, count // 2)):
        group = [f for f in families if f.clean == clean]
        total = sum(f.weight for f in group)
        raw = {f.name: max(1.0, share * f.weight / total) for f in group}
        floor = {name: int(v) for name, v in raw.items()}
        left = share - sum(floor.values())
        for name in sorted(raw, key=lambda n: raw[n] - floor[n], reverse=True)[:max(0, left)]:
            floor[name] += 1
        out.update(floor)
    return out


@dataclass
class _Calendar:
    by_car: dict[str, list[date]]
    seals: dict[str, list[date]]          # owner org code → sealed days
    orgs: dict[str, list[date]]           # owner org code → days of its cars

    def free(self, car: Vehicle, day: date, sealed: bool) -> bool:
        mine = self.by_car[car.plate]
        if len(mine) >= MAX_PER_CAR or any(abs((day - d).days) < GAP_DAYS for d in mine):
            return False
        near = [d for d in self.seals[car.owner_org_code] if abs((day - d).days) <= SEAL_MARGIN_DAYS]
        if near:
            return False
        if sealed:
            return not any(abs((day - d).days) <= SEAL_MARGIN_DAYS for d in self.orgs[car.owner_org_code])
        return True

    def take(self, car: Vehicle, day: date, sealed: bool) -> None:
        self.by_car[car.plate].append(day)
        self.orgs[car.owner_org_code].append(day)
        if sealed:
            self.seals[car.owner_org_code].append(day)


def recent_window(today: date) -> tuple[date, date]:
    return today - timedelta(days=26), today - timedelta(days=3)


def labelled_set(kit: Kit, count: int = 300, seed: int = 1,
                 families: Sequence[Family] = FAMILIES, today: date | None = None,
                 terminals: str = "model") -> list[LabelledDay]:
    """`count` labelled days (half clean), reproducible from the seed; only the days of the
    families judged against the clock (`recent`, placed last) depend on `today`."""
    today = today or datetime.now(CST).date()
    rng = random.Random(f"catalogue:{seed}")
    wanted = quotas(families, count)
    by_name = {f.name: f for f in families}
    jobs = [(name, k) for name, n in wanted.items() for k in range(n)]
    # scarce cars and dates first: a family few cars can play is placed before the rest
    cars = [v for v in kit.scenario.vehicles if v.device is not None]
    eligible = {name: [v for v in cars if by_name[name].cars(v, kit)] for name in wanted}
    rng.shuffle(jobs)
    jobs.sort(key=lambda job: (by_name[job[0]].recent,
                               len(eligible[job[0]]) * len(dates_for(by_name[job[0]].calendar))))
    calendar = _Calendar(defaultdict(list), defaultdict(list), defaultdict(list))
    days: list[LabelledDay] = []
    for name, k in jobs:
        own = random.Random(f"catalogue:{seed}:{name}:{k}")
        days.append(_place(kit, by_name[name], k, eligible[name], calendar, own, seed, today,
                           terminals))
    return sorted(days, key=lambda d: (d.day, d.id))


def one_of_each(kit: Kit, names: Sequence[str], seed: int = 1, today: date | None = None,
                terminals: str = "model") -> list[LabelledDay]:
    """One day of each named family, each on its own car (the tests' handful)."""
    today = today or datetime.now(CST).date()
    rng = random.Random(f"sample:{seed}")
    by_name = {f.name: f for f in FAMILIES}
    cars = [v for v in kit.scenario.vehicles if v.device is not None]
    calendar = _Calendar(defaultdict(list), defaultdict(list), defaultdict(list))
    days = []
    for name in names:
        family = by_name[name]
        fitting = [v for v in cars if family.cars(v, kit) and not calendar.by_car[v.plate]]
        days.append(_place(kit, family, 0, fitting, calendar, rng, seed, today, terminals))
    return days


def _dates(family: Family, today: date) -> list[date]:
    if family.recent:
        return dates_for(family.calendar, *recent_window(today))
    return dates_for(family.calendar)


def _place(kit: Kit, family: Family, k: int, cars: list[Vehicle], calendar: _Calendar,
           rng: random.Random, seed: int, today: date, terminals: str) -> LabelledDay:
    sealed = family.calendar == "sealed"
    dates = _dates(family, today)
    options = [(car, day) for car in cars for day in dates]
    rng.shuffle(options)
    tried = 0
    for car, day in options:
        if not calendar.free(car, day, sealed):
            continue
        day_id = f"{family.name}-{k:03d}"
        try:
            labelled = make_day(kit, family=family.name, rule=family.rule, clean=family.clean,
                                plate=car.plate, day=day, build=family.build, kind=day_kind(day),
                                seed=f"{seed}:{day_id}:{tried}", day_id=day_id,
                                terminals=terminals)
        except DraftRejected:
            tried += 1
            if tried > 12:
                raise
            continue
        calendar.take(car, day, sealed)
        return labelled
    raise DraftRejected(f"{family.name}: no free car and date left")


def waves(days: Sequence[LabelledDay]) -> list[list[LabelledDay]]:
    """Each car's first days, then its second ones…: within a wave no car appears twice."""
    by_car: dict[str, list[LabelledDay]] = defaultdict(list)
    for d in sorted(days, key=lambda d: d.day):
        by_car[d.plate].append(d)
    out: list[list[LabelledDay]] = []
    for mine in by_car.values():
        for i, d in enumerate(mine):
            while len(out) <= i:
                out.append([])
            out[i].append(d)
    return out

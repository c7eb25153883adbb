"""The trip requests of a generated month (for fleet/month_generator.py). Pure code.

About n requests over the month across the scenario's cities, each city's share following its
fleet: working days with morning and afternoon peaks, a few on rest days; ~5 % emergencies
(at any hour); ~9 % cross-city, mostly round trips with the car waiting, a quarter of them
staying 1-3 nights; ~10 % with several destinations; carpool candidates — pairs from one city
starting within ±25 min at places a few hundred metres apart; and what becomes of each
(carried out, rejected, withdrawn while pending or after a car was assigned).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dispatch.calendar import is_working_day
from dispatch.months import LOCAL, Month
from fleet.geodesy import haversine_m
from fleet.month_routes import Point, route_min
from fleet.scenario.model import Organisation, Scenario

TRIP_TYPES = (("official", 0.61), ("meeting", 0.12), ("reception", 0.08),
              ("law_enforcement", 0.06), ("confidential", 0.03), ("emergency", 0.05),
              ("official", 0.05))  # the last: room for carpool partners' own share
REASONS = {
    "official": ("赴基层调研", "检查指导工作", "督查重点项目", "走访企业", "现场踏勘"),
    "meeting": ("参加全市工作会议", "出席座谈会", "参加培训", "参加专题协调会"),
    "reception": ("接待上级检查组", "接站", "陪同考察"),
    "law_enforcement": ("执法检查", "联合执法行动", "案件调查取证"),
    "confidential": ("机要文件交换", "机要通信保障"),
    "emergency": ("防汛应急处置", "突发事件现场处置", "安全生产事故调查", "抢险救灾"),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建红文辉力斌宇浩凯鹏亮飞琳晨欣怡佳俊峰"


@dataclass
class Spec:
    """A request as filed, and what will become of it."""

    key: int
    org_code: str
    city: str
    trip_type: str
    reason: str
    passengers: list[str]
    planned_start: datetime
    planned_end: datetime
    origin: Point
    destinations: list[Point]
    round_trip: bool
    car_level_wanted: str | None
    carpool_allowed: bool
    nights: int
    outcome: str  # carry | reject | withdraw_early | withdraw_late
    created_at: datetime
    partner: int | None = None  # a carpool candidate: the other request's key
    prefers_rental: bool = False  # the city's cars are busy with work the generator does not model
    ready_by: datetime | None = None  # approved and dispatched by then: the car leaves soon after

    @property
    def cross_city(self) -> bool:
        return any(d.city_code != self.city for d in self.destinations)

    @property
    def passenger_count(self) -> int:
        return len(self.passengers)

    @property
    def emergency(self) -> bool:
        return self.trip_type == "emergency"


def level_for(passengers: int) -> str:
    """The smallest class that seats them with the driver (as the rental terms pick it)."""
    for level, seats in (("sedan", 4), ("business", 6), ("minibus", 16)):
        if passengers <= seats:
            return level
    return "bus"


class RequestMaker:
    def __init__(self, rng: random.Random, scenario: Scenario, month: Month) -> None:
        self.rng = rng
        self.s = scenario
        self.month = month
        self.units: dict[str, list[Organisation]] = {}
        for org in scenario.organisations:
            if org.kind == "unit" and org.city_code:
                self.units.setdefault(org.city_code, []).append(org)
        fleet = {c.code: 0 for c in scenario.cities}
        for v in scenario.vehicles:
            if v.source != "leased":
                fleet[v.city_code] += 1
        self.cities = [c for c in fleet if self.units.get(c) and scenario.places_in(c)]
        self.city_weights = [fleet[c] for c in self.cities]
        self.days = list(month.days())
        self.day_weights = [1.0 if is_working_day(d) else 0.12 for d in self.days]

    # --- places and times ---------------------------------------------------------------
    def _place(self, city: str, kind: str | None = None, jitter_m: float = 600,
               avoid: str = "") -> Point:
        places = [p for p in self.s.places_in(city) if p.name_zh != avoid]
        fitting = [p for p in places if p.kind == kind] or places
        place = self.rng.choice(fitting)
        return self._near(Point(place.name_zh, place.location[1], place.location[0], city), jitter_m)

    def _office(self, city: str) -> Point:
        """Where a unit's people set out: mostly the city's administrative centre (the units
        are municipal bureaus), now and then a county seat."""
        seat = next((p for p in self.s.places_in(city) if p.code.endswith("-GOV")), None)
        if seat is None or self.rng.random() < 0.15:
            return self._place(city, "government")
        return self._near(Point(seat.name_zh, seat.location[1], seat.location[0], city), 2500)

    def _near(self, p: Point, jitter_m: float) -> Point:
        d_lat = self.rng.uniform(-jitter_m, jitter_m) / 111_000
        d_lon = self.rng.uniform(-jitter_m, jitter_m) / (111_000 * math.cos(math.radians(p.lat)))
        return Point(p.name, p.lat + d_lat, p.lon + d_lon, p.city_code)

    def _start(self, emergency: bool) -> datetime:
        day: date = self.rng.choices(self.days, self.day_weights)[0]
        r = self.rng.random()
        if emergency:
            minutes = self.rng.uniform(0, 24 * 60)
        elif not is_working_day(day):
            minutes = self.rng.uniform(8 * 60, 17 * 60)
        elif r < 0.45:
            minutes = min(max(self.rng.gauss(8.75 * 60, 40), 7 * 60), 11.5 * 60)
        elif r < 0.8:
            minutes = min(max(self.rng.gauss(14.5 * 60, 40), 13 * 60), 17 * 60)
        else:
            minutes = self.rng.uniform(7 * 60, 18 * 60)
        minutes = int(minutes // 5 * 5)
        return datetime.combine(day, time(minutes // 60, minutes % 60), LOCAL)

    def _other_city(self, city: str) -> str:
        here = self.s.city_by_code[city].centre
        others = [c for c in self.cities if c != city]
        weights = [1 / max(haversine_m(here[1], here[0], self.s.city_by_code[c].centre[1],
                                       self.s.city_by_code[c].centre[0]), 10_000) for c in others]
        return self.rng.choices(others, weights)[0]

    def _people(self, count: int) -> list[str]:
        return [self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=self.rng.choice((1, 2))))
                for _ in range(count)]

    def _passengers(self) -> int:
        r = self.rng.random()
        for share, low, high in ((0.45, 1, 1), (0.70, 2, 2), (0.85, 3, 3), (0.94, 4, 6),
                                 (0.985, 7, 14)):
            if r < share:
                return self.rng.randint(low, high)
        return self.rng.randint(15, 30)

    # --- requests ---------------------------------------------------------------------------
    def make(self, key: int) -> Spec:
        rng = self.rng
        trip_type = rng.choices([t for t, _ in TRIP_TYPES], [w for _, w in TRIP_TYPES])[0]
        city = rng.choices(self.cities, self.city_weights)[0]
        unit = rng.choice(self.units[city])
        start = self._start(trip_type == "emergency")
        origin = self._office(city)
        count = self._passengers() if trip_type != "confidential" else rng.randint(1, 2)
        nights = 0
        if trip_type not in ("emergency", "confidential") and rng.random() < 0.09:
            destinations = [self._place(self._other_city(city))]
            round_trip = rng.random() < 0.85
            if round_trip and rng.random() < 0.25:
                nights = rng.choice((1, 1, 2, 3))
        else:
            stops = 2 + (rng.random() < 0.3) if rng.random() < 0.10 else 1
            destinations = [self._place(city, avoid=origin.name) for _ in range(stops)]
            round_trip = rng.random() < 0.7
        dwell = {"meeting": (90, 180), "reception": (120, 240), "emergency": (60, 240)}.get(
            trip_type, (60, 150))
        return self._spec(key, unit, city, trip_type, start, origin, destinations, round_trip,
                          count, nights, rng.uniform(*dwell))

    def _spec(self, key: int, unit: Organisation, city: str, trip_type: str, start: datetime,
              origin: Point, destinations: list[Point], round_trip: bool, count: int,
              nights: int, dwell_min: float) -> Spec:
        rng = self.rng
        stops = [origin, *destinations] + ([origin] if round_trip else [])
        if nights:
            end_day = start.date() + timedelta(days=nights)
            end = datetime.combine(end_day, time(16, 0), LOCAL) + timedelta(minutes=rng.uniform(0, 120))
        else:
            end = start + timedelta(minutes=route_min(stops) + (dwell_min if round_trip else 10))
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(
            minutes=15 * math.ceil((end.minute + end.second / 60) / 15))
        if trip_type == "emergency":
            created = start - timedelta(minutes=rng.uniform(40, 90))
            outcome = "carry"
        else:
            created = start - timedelta(hours=rng.uniform(4, 72))
            r = rng.random()
            outcome = ("reject" if r < 0.04 else "withdraw_early" if r < 0.065
                       else "withdraw_late" if r < 0.08 else "carry")
        wanted = level_for(count) if count > 4 else ("business" if trip_type == "reception"
                                                     and rng.random() < 0.3 else None)
        return Spec(
            key=key, org_code=unit.code, city=city, trip_type=trip_type,
            reason=rng.choice(REASONS[trip_type]), passengers=self._people(count),
            planned_start=start, planned_end=end, origin=origin, destinations=destinations,
            round_trip=round_trip, car_level_wanted=wanted,
            carpool_allowed=trip_type in ("official", "meeting") and rng.random() < 0.6,
            nights=nights, outcome=outcome, created_at=created,
            prefers_rental=rng.random() < 0.17,
        )

    def partner(self, key: int, first: Spec) -> Spec:
        """A carpool candidate for `first`: another unit of the city going the same way."""
        rng = self.rng
        unit = rng.choice(self.units[first.city])
        start = first.planned_start + timedelta(minutes=rng.choice((-25, -15, -10, -5, 0, 5, 10, 20)))
        spec = self._spec(key, unit, first.city, rng.choice(("official", "meeting")), start,
                          self._near(first.origin, 700), [self._near(first.destinations[0], 900)],
                          first.round_trip, rng.randint(1, 2), 0, rng.uniform(60, 150))
        spec.carpool_allowed = first.carpool_allowed = True
        spec.outcome = first.outcome = "carry"
        spec.car_level_wanted = first.car_level_wanted = None
        spec.partner, first.partner = first.key, key
        return spec

    def can_have_partner(self, spec: Spec) -> bool:
        return (spec.trip_type in ("official", "meeting") and not spec.cross_city
                and len(spec.destinations) == 1 and spec.passenger_count <= 2 and not spec.nights)


def make_requests(rng: random.Random, scenario: Scenario, month: Month, count: int,
                  partner_share: float = 0.12) -> list[Spec]:
    """`count` requests (carpool partners included), in no particular order."""
    maker = RequestMaker(rng, scenario, month)
    specs: list[Spec] = []
    while len(specs) < count:
        spec = maker.make(len(specs))
        specs.append(spec)
        if len(specs) < count and maker.can_have_partner(spec) and rng.random() < partner_share:
            specs.append(maker.partner(len(specs), spec))
    return specs

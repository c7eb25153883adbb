"""Scripted days on the road: R5 越界, R6 超速, R7 设备离线/断电, R10 绕道/里程异常, R13 轨迹与审批不符,
R14 应急补单超时, R16 疲劳驾驶."""

from __future__ import annotations

from fleet.scenario.geo import distance_m
from simulator.days.builder import Builder
from simulator.days.family import (
    Family,
    both,
    covering,
    general,
    leased,
    ordinary,
    roads_out,
    trips_within,
    within_detour_limit,
)
from simulator.days.model import AlarmWindow, Draft, OrderFact, Place, Spike, hm, labels
from simulator.days.truth import Truth

FAR_CITIES = ("429005", "429006")            # 潜江, 天门: ~150–200 km by road from 武汉


def _away_city(b: Builder, max_km: float = 110) -> Place:
    city = b.rng.choice(b.kit.neighbours(b.city, max_road_km=max_km))
    return b.rng.choice(b.kit.ordinary_places(city))


def wuhan(v, kit) -> bool:  # noqa: ANN001
    return v.city_code == "420100"


# ---- R5 ------------------------------------------------------------------------------------------

def r5_no_order(b: Builder) -> Draft:
    place = _away_city(b, 80)
    legs = b.errand(place, b.at("08:30", "11:00"), b.minutes(20, 45))
    return Draft(legs, labels(R1="alarm", R5="alarm"), unguarded=frozenset({"R5"}),
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


def r5_order_elsewhere(b: Builder) -> Draft:
    """An order to one neighbouring city; the car goes to another one instead: R5 (that city
    is on no order) and R13 (never near the approved destination)."""
    cities = b.kit.neighbours(b.city, max_road_km=80)
    approved, went = b.rng.sample(cities, 2)
    dest = b.rng.choice(b.kit.ordinary_places(approved))
    other = b.rng.choice(b.kit.ordinary_places(went))
    legs = b.errand(other, b.at("08:30", "11:00"), b.minutes(20, 45))
    return Draft(legs, labels(R5="alarm", R13="warn"), orders=covering(b, [dest]),
                 unguarded=frozenset({"R5"}),
                 checks=[trips_within(hm("07:00"), hm("19:40")), within_detour_limit(b, [dest]),
                         _never_near(dest, 5000), _never_in(b, approved)])


def r5_approved_tunnel(b: Builder) -> Draft:
    """An approved trip to a neighbouring city with a 3–6 min tunnel (no data) on the way."""
    place = _away_city(b)
    depart = b.at("08:30", "10:30")
    legs = b.errand(place, depart, b.minutes(30, 90))
    dark_at = depart + b.minutes(20, 35)
    legs.append(b.dark(dark_at, b.rng.uniform(180, 360)))
    return Draft(legs, labels(), orders=covering(b, [place]),
                 checks=[trips_within(hm("07:00"), hm("19:40")), _driving_through(dark_at, 400)])


def r5_approved_far(b: Builder) -> Draft:
    """An approved day trip to 潜江 or 天门 across 仙桃 (over 300 km, an out-of-town order)."""
    place = b.rng.choice(b.kit.ordinary_places(b.rng.choice(FAR_CITIES)))
    legs = b.errand(place, b.at("07:00", "08:00"), b.minutes(40, 120))
    return Draft(legs, labels(), orders=covering(b, [place]),
                 checks=[trips_within(hm("06:30"), hm("19:40"))])


# ---- R6 ------------------------------------------------------------------------------------------

def r6_speeding(b: Builder) -> Draft:
    place = _away_city(b)
    legs = b.errand(place, b.at("08:30", "11:00"), b.minutes(30, 90),
                    expressway_kmh=b.rng.uniform(142, 158))
    return Draft(legs, labels(R6="warn"), orders=covering(b, [place]),
                 checks=[trips_within(hm("07:00"), hm("19:40")), _fast_for(140, 120)])


def r6_within_tolerance(b: Builder) -> Draft:
    """121–126 km/h on the expressway: over the 120 limit, within its 10 % tolerance."""
    place = _away_city(b)
    legs = b.errand(place, b.at("08:30", "11:00"), b.minutes(30, 90),
                    expressway_kmh=b.rng.uniform(121, 126))
    return Draft(legs, labels(), orders=covering(b, [place]),
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


def r6_spike(b: Builder) -> Draft:
    """An in-town order; one fix thrown 200 m (at 5 s reports: an implied 150 km/h)."""
    dest = b.dest(5, 15)
    legs = b.errand(dest, b.at("09:00", "15:00"), b.minutes(15, 40))

    def spikes(truth: Truth) -> tuple[Spike, ...]:
        trip = truth.moving_trips()[0]
        return (Spike(int(trip.start_s + trip.duration_s * b.rng.uniform(0.3, 0.7)), 200.0,
                      b.rng.uniform(0, 360)),)
    return Draft(legs, labels(), orders=covering(b, [dest]), spikes=spikes, interval_s=5,
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


# ---- R7 ------------------------------------------------------------------------------------------

def _dark_drive(b: Builder, covered: bool) -> Draft:
    """Dark for 15–25 min while driving to another city, reappearing far away."""
    place = _away_city(b)
    depart = b.at("08:30", "10:30")
    legs = b.errand(place, depart, b.minutes(30, 90))
    dark_at, dark_s = depart + b.minutes(10, 20), b.minutes(15, 25)
    legs.append(b.dark(dark_at, dark_s))
    checks = [trips_within(hm("07:00"), hm("19:40")), _driving_through(dark_at, dark_s)]
    if covered:
        return Draft(legs, labels(R7="warn"), orders=covering(b, [place]), checks=checks)
    return Draft(legs, labels(R1="alarm", R5="alarm", R7="alarm"), checks=checks,
                 unguarded=frozenset({"R5"}))


def r7_dark_covered(b: Builder) -> Draft:
    return _dark_drive(b, covered=True)


def r7_dark_no_order(b: Builder) -> Draft:
    return _dark_drive(b, covered=False)


def r7_power_cut(b: Builder) -> Draft:
    """Main power cut (bit 8) for 10–40 min while parked in the lot; an ordinary order."""
    dest = b.dest(3, 12)
    legs = b.errand(dest, b.at("13:00", "15:00"), b.minutes(10, 30))
    start = b.at("09:00", "11:30")
    return Draft(legs, labels(R7="alarm"), orders=covering(b, [dest]),
                 alarms=(AlarmWindow(start, start + b.minutes(10, 40), 1 << 8),),
                 checks=[trips_within(hm("12:00"), hm("19:40"))])


def r7_antenna_cut(b: Builder) -> Draft:
    """GNSS antenna cut (bit 5) for 10–20 min of an approved drive."""
    dest = b.dest(6, 15)
    depart = b.at("09:00", "14:00")
    legs = b.errand(dest, depart, b.minutes(15, 40))
    start = depart + b.minutes(2, 5)
    return Draft(legs, labels(R7="warn"), orders=covering(b, [dest]),
                 alarms=(AlarmWindow(start, start + b.minutes(10, 20), 1 << 5),),
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


def r7_sleep_all_night(b: Builder) -> Draft:
    """An ordinary order; the terminal sleeps (sends nothing) with ACC off from 22:30 to 06:30."""
    dest = b.dest(3, 12)
    legs = b.errand(dest, b.at("09:00", "15:00"), b.minutes(10, 40))
    legs.append(b.dark(hm("22:30") + b.minutes(0, 20), hm("06:30", 1) - hm("22:30")))
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


def r7_tunnel_5min(b: Builder) -> Draft:
    dest = b.dest(8, 18)
    depart = b.at("09:00", "14:00")
    legs = b.errand(dest, depart, b.minutes(15, 40))
    dark_at = depart + b.minutes(6, 10)
    legs.append(b.dark(dark_at, b.rng.uniform(240, 330)))
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:40")), _driving_through(dark_at, 330)])


def r7_backfilled_tunnel(b: Builder) -> Draft:
    """12–20 min without a connection; the terminal stores its fixes and sends them when it is
    back (盲区补报): late, but nothing is missing."""
    place = _away_city(b)
    depart = b.at("08:30", "10:30")
    legs = b.errand(place, depart, b.minutes(30, 90))
    dark_at, dark_s = depart + b.minutes(10, 20), b.minutes(12, 20)
    legs.append(b.dark(dark_at, dark_s, backfill=True))
    return Draft(legs, labels(), orders=covering(b, [place]),
                 checks=[trips_within(hm("07:00"), hm("19:40")), _driving_through(dark_at, dark_s)])


def r7_late_backfill(b: Builder) -> Draft:
    """15–25 min without a connection while driving; the stored fixes arrive only after the rest
    of the day was judged: the "dark while driving" must be withdrawn once they are in."""
    place = _away_city(b)
    depart = b.at("08:30", "10:30")
    legs = b.errand(place, depart, b.minutes(30, 90))
    dark_at, dark_s = depart + b.minutes(10, 20), b.minutes(15, 25)
    legs.append(b.dark(dark_at, dark_s, backfill=True))
    return Draft(legs, labels(), orders=covering(b, [place]), held=(dark_at, dark_at + dark_s),
                 checks=[trips_within(hm("07:00"), hm("19:40")), _driving_through(dark_at, dark_s)])


# ---- R10 ------------------------------------------------------------------------------------------

def r10_detour(b: Builder) -> Draft:
    """An order to a place 4–8 km away; the car goes round by a place 15–25 km away."""
    dest = b.dest(4, 8)
    detour = b.dest(15, 25)
    legs = [b.go(detour, b.at("08:30", "12:00")), b.stay(b.minutes(5, 15)), b.go(dest),
            b.stay(b.minutes(10, 30)), b.go("lot")]
    return Draft(legs, labels(R10="warn"), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:40")), _detour_over(b, [dest], 1.2)])


def _far_round(b: Builder) -> list:
    """Three approved round trips to far corners of 武汉 (50–66 km out: 黄陂, 新洲, 江夏), with
    20–30 min there and at the lot between them (town driving averages ~30 km/h)."""
    legs = []
    depart = b.at("06:15", "06:25")
    for i in range(OUTINGS):
        target = b.dest(50, 66)
        legs += [b.go(target, depart if i == 0 else None), b.stay(b.minutes(22, 30)),
                 b.go("lot"), b.stay(b.minutes(22, 28))]
    return legs


OUTINGS = 3


def _orders_per_outing(b: Builder, count: int):  # noqa: ANN202
    def orders(truth: Truth) -> tuple[OrderFact, ...]:
        trips = truth.moving_trips()
        if len(trips) != 2 * count:
            raise ValueError(f"{len(trips)} trips for {count} outings")
        out = []
        for i in range(count):
            pair = trips[2 * i:2 * i + 2]
            far = Place("目的地", pair[0].end, b.city)
            out.append(b.order(truth, pair, [far], early_min=(0, 10), late_min=(-5, 10)))
        return tuple(out)
    return orders


def r10_day_km(b: Builder) -> Draft:
    return Draft(_far_round(b), labels(R10="warn"), orders=_orders_per_outing(b, OUTINGS),
                 checks=[trips_within(hm("06:10"), hm("19:45")), _day_km_over(320)])


def r10_day_km_special(b: Builder) -> Draft:
    """The same 330+ km day for a 特种专业技术 car: its threshold is 500 km."""
    return Draft(_far_round(b), labels(), orders=_orders_per_outing(b, OUTINGS),
                 checks=[trips_within(hm("06:10"), hm("19:45")), _day_km_over(320),
                         _day_km_under(450)], unguarded=frozenset({"R10"}))


def special(v, kit) -> bool:  # noqa: ANN001
    return ordinary(v, kit) and v.use_category == "special_technical"


# ---- R13 ------------------------------------------------------------------------------------------

def r13_wrong_place(b: Builder) -> Draft:
    dest = b.dest(5, 12)
    other = b.dest(4, 11)
    legs = b.errand(other, b.at("09:00", "14:00"), b.minutes(15, 40))
    return Draft(legs, labels(R13="warn"), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:40")), _never_near(dest, 3000),
                         within_detour_limit(b, [dest])])


def r13_late_departure(b: Builder) -> Draft:
    """Left 75–110 min after the planned start (and back as late)."""
    dest = b.dest(4, 12)
    legs = b.errand(dest, b.at("09:30", "14:00"), b.minutes(15, 40))
    return Draft(legs, labels(R13="warn"),
                 orders=covering(b, [dest], early_min=(75, 110), late_min=(-110, -75)),
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


def r13_engine_running(b: Builder) -> Draft:
    """Drops its passengers at the destination with the engine running (no stop there)."""
    dest = b.dest(5, 12)
    legs = [b.go(dest, b.at("09:00", "14:00")), b.idle(b.minutes(2, 5)), b.go("lot")]
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


# ---- R14 ------------------------------------------------------------------------------------------

def _emergency(b: Builder, decision: str) -> Draft:
    dest = b.dest(4, 15)
    legs = b.errand(dest, b.at("09:00", "15:00"), b.minutes(20, 60))

    def orders(truth: Truth) -> tuple[OrderFact, ...]:
        trips = truth.moving_trips()
        dispatched = int(trips[0].start_s) - b.minutes(5, 15)
        deadline = dispatched + 86_400
        if decision == "in_time":
            verdict: tuple[bool, int] | None = (True, dispatched + b.minutes(120, 900))
        elif decision == "late":
            verdict = (True, deadline + b.minutes(60, 600))
        elif decision == "refused":
            verdict = (False, dispatched + b.minutes(120, 900))
        else:
            verdict = None
        return (b.order(truth, trips, [dest], trip_type="emergency", emergency=True,
                        deadline_s=deadline, decision=verdict, early_min=(5, 15)),)
    return Draft(legs, labels(R14=None if decision == "in_time" else "alarm"), orders=orders,
                 checks=[trips_within(hm("07:00"), hm("19:40"))])


def r14_unapproved(b: Builder) -> Draft:
    return _emergency(b, "none")


def r14_late_or_refused(b: Builder) -> Draft:
    return _emergency(b, b.rng.choice(("late", "refused")))


def r14_in_time(b: Builder) -> Draft:
    return _emergency(b, "in_time")


# ---- R16 ------------------------------------------------------------------------------------------

def _far_and_back(b: Builder, stop_min: tuple[float, float]) -> tuple[list, Place]:
    if b.city == "420100":
        place = b.rng.choice(b.kit.ordinary_places("429005"))      # 潜江
    else:
        place = b.dest(20, 40, city="420100", near=Place("", (114.3055, 30.5928), "420100"))
    return b.errand(place, b.at("07:00", "08:30"), b.minutes(*stop_min)), place


def r16_fatigue(b: Builder) -> Draft:
    """There and back to a far city with a 6–12 min halt: over 4 h of driving."""
    legs, place = _far_and_back(b, (6, 12))
    return Draft(legs, labels(R16="warn"), orders=covering(b, [place]),
                 checks=[trips_within(hm("06:30"), hm("19:40")), _stint_over(4.3),
                         within_detour_limit(b, [place])],
                 unguarded=frozenset({"R16"}))


def r16_with_break(b: Builder) -> Draft:
    legs, place = _far_and_back(b, (30, 70))
    return Draft(legs, labels(), orders=covering(b, [place]),
                 checks=[trips_within(hm("06:30"), hm("19:40"))])


def far_pair(v, kit) -> bool:  # noqa: ANN001
    return ordinary(v, kit) and v.city_code in ("420100", "429005")


# ---- checks -----------------------------------------------------------------------------------------

def _driving_through(start_s: float, seconds: float):  # noqa: ANN202
    def check(truth: Truth) -> str | None:
        for t in (start_s - 30, start_s + seconds / 2, start_s + seconds + 30):
            if not truth.driving(t):
                return f"not driving through the dark window at {t:.0f}"
        return None
    return check


def _never_in(b: Builder, city: str):  # noqa: ANN202
    """Not even through: transit across an approved city is not this family's question."""
    def check(truth: Truth) -> str | None:
        inside = any(b.kit.city_of(p) == city for p in truth.points[::3])
        return f"drove through {city}" if inside else None
    return check


def _never_near(place: Place, min_m: float):  # noqa: ANN202
    def check(truth: Truth) -> str | None:
        near = truth.nearest_m(place.at)
        return None if near >= min_m else f"came within {near:.0f} m of {place.name}"
    return check


def _fast_for(kmh: float, seconds: float):  # noqa: ANN202
    def check(truth: Truth) -> str | None:
        fast = [t for t, v in zip(truth.t, truth.speed, strict=True) if v >= kmh]
        return None if len(fast) >= 2 and fast[-1] - fast[0] >= seconds else "not fast for long"
    return check


def _detour_over(b: Builder, destinations: list[Place], factor: float):  # noqa: ANN202
    points = [b.home.at] + [d.at for d in destinations] + [b.home.at]
    planned_km = 1.3 * sum(distance_m(a, c) for a, c in zip(points, points[1:], strict=False)) / 1000

    def check(truth: Truth) -> str | None:
        limit = max(1.3 * planned_km, planned_km + 10)
        return None if truth.km() >= factor * limit else f"{truth.km():.1f} km, limit {limit:.1f}"
    return check


def _day_km_over(km: float):  # noqa: ANN202
    return lambda truth: None if truth.km(0, 86_400) >= km else f"only {truth.km(0, 86_400):.0f} km"


def _day_km_under(km: float):  # noqa: ANN202
    return lambda truth: None if truth.km(0, 86_400) <= km else f"{truth.km(0, 86_400):.0f} km"


def _stint_over(hours: float):  # noqa: ANN202
    def check(truth: Truth) -> str | None:
        driving = sum(t.duration_s for t in truth.moving_trips())
        return None if driving >= hours * 3600 else f"{driving / 3600:.1f} h of driving"
    return check


FAMILIES = [
    Family("R5.no_order", "R5", False, "working", both(ordinary, roads_out), r5_no_order),
    Family("R5.order_elsewhere", "R5", False, "working", both(ordinary, wuhan), r5_order_elsewhere),
    Family("R5.approved_tunnel", "R5", True, "working", both(ordinary, roads_out), r5_approved_tunnel),
    Family("R5.approved_far", "R5", True, "working", both(ordinary, wuhan), r5_approved_far),
    Family("R6.speeding", "R6", False, "working", both(ordinary, roads_out), r6_speeding, 1.5),
    Family("R6.leased_speeding", "R6", False, "working", both(leased, roads_out), r6_speeding, 0.7),
    Family("R6.within_tolerance", "R6", True, "working", both(ordinary, roads_out),
           r6_within_tolerance),
    Family("R6.spike", "R6", True, "working", ordinary, r6_spike),
    Family("R7.dark_covered", "R7", False, "working", both(ordinary, roads_out), r7_dark_covered),
    Family("R7.dark_no_order", "R7", False, "working", both(ordinary, roads_out), r7_dark_no_order),
    Family("R7.power_cut", "R7", False, "working", ordinary, r7_power_cut),
    Family("R7.antenna_cut", "R7", False, "working", ordinary, r7_antenna_cut),
    Family("R7.sleep_all_night", "R7", True, "working", ordinary, r7_sleep_all_night),
    Family("R7.tunnel_5min", "R7", True, "working", ordinary, r7_tunnel_5min),
    Family("R7.backfilled_tunnel", "R7", True, "working", both(ordinary, roads_out),
           r7_backfilled_tunnel),
    Family("R7.late_backfill", "R7", True, "working", both(ordinary, roads_out), r7_late_backfill),
    Family("R10.detour", "R10", False, "working", both(ordinary, wuhan), r10_detour),
    Family("R10.day_km", "R10", False, "working", both(general, wuhan), r10_day_km),
    Family("R10.day_km_special", "R10", True, "working", both(special, wuhan), r10_day_km_special),
    Family("R13.wrong_place", "R13", False, "working", both(ordinary, wuhan), r13_wrong_place),
    Family("R13.late_departure", "R13", False, "working", ordinary, r13_late_departure),
    Family("R13.engine_running", "R13", True, "working", ordinary, r13_engine_running),
    Family("R14.unapproved", "R14", False, "working", ordinary, r14_unapproved, recent=True),
    Family("R14.late_or_refused", "R14", False, "working", ordinary, r14_late_or_refused,
           recent=True),
    Family("R14.in_time", "R14", True, "working", ordinary, r14_in_time, recent=True),
    Family("R16.fatigue", "R16", False, "working", far_pair, r16_fatigue),
    Family("R16.with_break", "R16", True, "working", far_pair, r16_with_break),
]

"""Scripted days about where the car stands: R4 未按规定停放, R8 长时间停留, R9 敏感区域停留 (and the
R17 case R1 + R9)."""

from __future__ import annotations

from fleet.scenario.geo import distance_m
from simulator.days.builder import Builder
from simulator.days.family import (
    Family,
    at_place,
    back_by,
    both,
    confidential,
    covering,
    ordinary,
    roads_out,
    trips_count,
    trips_within,
    with_sensitive,
    with_sites,
    within_detour_limit,
)
from simulator.days.model import Draft, Place, Spike, hm, labels
from simulator.days.truth import Truth

OVERNIGHT_END = hm("10:00", 1)


# ---- R4 ------------------------------------------------------------------------------------------

def r4_home_overnight(b: Builder) -> Draft:
    """Drives "home" after work without an order and parks there for the night."""
    home = b.spot(b.home, 4000, 15000)
    legs = [b.go(home, b.at("17:40", "18:40")), b.go("lot", hm("07:30", 1))]
    return Draft(legs, labels(R1="alarm", R4="alarm", R8="info"), end_s=OVERNIGHT_END,
                 checks=[trips_within(hm("17:00"), hm("19:40")), at_place(b, home, hm("23:10"))])


def r4_stayed_at_destination(b: Builder) -> Draft:
    """An afternoon order; the car stays at its destination overnight instead of coming back."""
    dest = b.dest(4, 15)
    legs = [b.go(dest, b.at("14:30", "16:30")), b.go("lot", hm("07:40", 1))]
    return Draft(legs, labels(R4="alarm"), end_s=OVERNIGHT_END,
                 orders=covering(b, [dest], trips=slice(0, 1), late_min=(20, 40)),
                 checks=[at_place(b, dest, hm("23:10"))])


def r4_warn_back_late(b: Builder) -> Draft:
    """Out on an order until the evening, back only at 22:10–22:25 without one: outside the
    lot at 22:00 (WARN), in it at 23:00."""
    dest = b.dest(3, 8)
    legs = [b.go(dest, b.at("16:40", "17:20")), b.go("lot", b.at("22:08", "22:20"))]
    return Draft(legs, labels(R1="alarm", R2="alarm", R4="warn"),
                 orders=covering(b, [dest], trips=slice(0, 1), late_min=(20, 40)),
                 checks=[back_by(b, hm("22:55")), at_place(b, dest, hm("22:00"))],
                 unguarded=frozenset({"R2"}))


def r4_parked_near_lot(b: Builder) -> Draft:
    """Back from an order, parked overnight on the street 150–400 m from the lot's edge."""
    dest = b.dest(3, 12)
    street = Place("路边", b.kit.point_from_lot(b.plate, b.rng.uniform(150, 400), b.rng), b.city)
    legs = [b.go(dest, b.at("13:30", "16:00")), b.stay(b.minutes(15, 40)), b.go(street),
            b.go("lot", hm("07:40", 1))]
    return Draft(legs, labels(R4="alarm"), end_s=OVERNIGHT_END,
                 orders=covering(b, [dest], trips=slice(0, 2)),
                 checks=[at_place(b, street, hm("23:10"))])


def r4_lot_80m(b: Builder) -> Draft:
    """Back from an order, parked 60–85 m from the lot's edge (within the 100 m tolerance)."""
    dest = b.dest(3, 12)
    near = Place("停车场外", b.kit.point_from_lot(b.plate, b.rng.uniform(60, 85), b.rng), b.city)
    legs = [b.go(dest, b.at("13:30", "16:00")), b.stay(b.minutes(15, 40)), b.go(near),
            b.go("lot", hm("07:40", 1))]
    return Draft(legs, labels(), end_s=OVERNIGHT_END, orders=covering(b, [dest], trips=slice(0, 2)),
                 checks=[at_place(b, near, hm("23:10"))], unguarded=frozenset({"R4"}))


def r4_out_of_town_overnight(b: Builder) -> Draft:
    """A two-day order in another city: the night at a hotel 1.5–4 km from the destination
    (R4 exempt within 5 km; the hotel is not a waypoint: R8 INFO)."""
    city = b.rng.choice(b.kit.neighbours(b.city, max_road_km=110))
    dest = b.rng.choice(b.kit.ordinary_places(city))
    hotel = b.spot(dest, 1500, 4000)
    legs = [b.go(dest, b.at("08:30", "10:00")), b.stay(b.minutes(60, 180)), b.go(hotel),
            b.go(dest, hm("08:30", 1)), b.stay(b.minutes(60, 150)), b.go("lot")]
    return Draft(legs, labels(R8="info"), end_s=hm("20:00", 1),
                 orders=covering(b, [dest]), checks=[at_place(b, hotel, hm("23:10"))],
                 unguarded=frozenset({"R4", "R8"}))


def r4_repair_overnight(b: Builder) -> Draft:
    """Taken to the 定点 repair shop on an order and left there overnight."""
    shop = b.kit.zone_place(b.rng.choice(b.kit.zones("service_site", b.city, ("repair",))))
    legs = [b.go(shop, b.at("14:00", "16:30")), b.go("lot", hm("08:30", 1))]
    return Draft(legs, labels(), end_s=OVERNIGHT_END,
                 orders=covering(b, [shop], trips=slice(0, 1), late_min=(20, 40)),
                 checks=[at_place(b, shop, hm("23:10"))], unguarded=frozenset({"R4"}))


def has_repair(v, kit) -> bool:  # noqa: ANN001
    return ordinary(v, kit) and bool(kit.zones("service_site", v.city_code, ("repair",)))


# ---- R8 ------------------------------------------------------------------------------------------

def _away_from(b: Builder, dest: Place, min_m: float = 2000, max_m: float = 6000) -> Place:
    for _ in range(50):
        spot = b.spot(dest, min_m, max_m)
        if distance_m(spot.at, b.home.at) > 1500:
            return spot
    raise ValueError("no spot away from the destination and the lot")


def r8_long_stop_unknown(b: Builder) -> Draft:
    """On an order, after the destination the car stands 75–150 min somewhere else."""
    dest = b.dest(5, 12)
    spot = _away_from(b, dest)
    legs = [b.go(dest, b.at("08:30", "11:00")), b.stay(b.minutes(10, 20)), b.go(spot),
            b.stay(b.minutes(75, 150)), b.go("lot")]
    return Draft(legs, labels(R8="info"), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:30"))], unguarded=frozenset({"R8"}))


def r8_uncovered_long_stop(b: Builder) -> Draft:
    legs, _ = _long_errand(b)
    return Draft(legs, labels(R1="alarm", R8="info"), checks=[trips_within(hm("07:00"), hm("19:30"))],
                 unguarded=frozenset({"R8"}))


def _long_errand(b: Builder) -> tuple[list, Place]:
    dest = b.spot(b.home, 4000, 12000)
    return b.errand(dest, b.at("08:30", "13:00"), b.minutes(75, 150)), dest


def r8_long_at_destination(b: Builder) -> Draft:
    dest = b.dest(4, 12)
    legs = b.errand(dest, b.at("08:30", "13:00"), b.minutes(90, 180))
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:30"))])


def r8_long_at_site(b: Builder) -> Draft:
    site = b.kit.zone_place(b.rng.choice(b.kit.zones("service_site", b.city)))
    legs = b.errand(site, b.at("08:30", "13:00"), b.minutes(70, 120))
    return Draft(legs, labels(), orders=covering(b, [site]),
                 checks=[trips_within(hm("07:00"), hm("19:30"))])


def r8_spike_at_parking(b: Builder) -> Draft:
    """A run to a 定点 filling station or repair shop and back into the lot, no order needed;
    the very fix at which the engine is switched off back in the lot is a multipath spike
    180–230 m off. The car stands in its lot all night."""
    site = b.kit.zone_place(b.rng.choice(b.kit.zones("service_site", b.city)))
    legs = b.errand(site, b.at("13:00", "16:00"), b.minutes(5, 25))

    def spikes(truth: Truth) -> tuple[Spike, ...]:
        return (Spike(int(truth.last_arrival()), b.rng.uniform(180, 230), b.rng.uniform(0, 360)),)
    return Draft(legs, labels(), spikes=spikes, checks=[back_by(b, hm("18:00")), trips_count()])


def r8_stop_45(b: Builder) -> Draft:
    dest = b.dest(5, 12)
    spot = _away_from(b, dest)
    legs = [b.go(dest, b.at("08:30", "12:00")), b.stay(b.minutes(10, 20)), b.go(spot),
            b.stay(b.minutes(25, 42)), b.go("lot")]
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:30"))])


# ---- R9 ------------------------------------------------------------------------------------------

def _sensitive(b: Builder, categories: tuple[str, ...] | None = None) -> Place:
    return b.kit.zone_place(b.rng.choice(b.kit.zones("sensitive_place", b.city, categories)))


def r9_no_order(b: Builder) -> Draft:
    """No order, 20–50 min at a KTV, a private club, a golf course or a scenic area: R1 + R9,
    and the R17 case they make together."""
    place = _sensitive(b)
    legs = b.errand(place, b.at("11:30", "16:00"), b.minutes(20, 50))
    return Draft(legs, labels(R1="alarm", R9="alarm", R17="alarm"),
                 checks=[trips_within(hm("07:00"), hm("19:30")), _inside_for(place, 15)])


def r9_late_backfill(b: Builder) -> Draft:
    """No order, 66–80 min at a sensitive place; the terminal loses its connection there and the
    stored fixes (the rest of the stop, the way back) arrive only after the day was judged:
    first a car that went dark and reappeared at its lot (R7, to be withdrawn), then the
    whole stop and the trip back."""
    place = _sensitive(b)
    depart = b.at("11:30", "14:30")
    dark_from, dark_s = depart + 55 * 60, 120 * 60
    legs = b.errand(place, depart, b.minutes(66, 80)) + [b.dark(dark_from, dark_s, backfill=True)]
    return Draft(legs, labels(R1="alarm", R8="info", R9="alarm", R17="alarm"),
                 held=(dark_from, dark_from + dark_s), unguarded=frozenset({"R8"}),
                 checks=[trips_within(hm("07:00"), hm("19:30")), _inside_for(place, 20),
                         _dark_from_the_place(place, dark_from),
                         back_by(b, dark_from + dark_s - 60)])


def _dark_from_the_place(place: Place, t_s: int):  # noqa: ANN202
    """The terminal goes dark while the car stands at the place (before it leaves)."""
    def check(truth: Truth) -> str | None:
        if truth.driving(t_s) or distance_m(truth.where(t_s), place.at) > 50:
            return f"not at {place.name} when the terminal goes dark"
        return None
    return check


def r9_other_destination(b: Builder) -> Draft:
    """On an order to an office; on the way back 20–45 min at a sensitive place."""
    dest = b.dest(3, 12)
    place = _sensitive(b)
    legs = [b.go(dest, b.at("09:00", "14:00")), b.stay(b.minutes(10, 30)), b.go(place),
            b.stay(b.minutes(20, 45)), b.go("lot")]
    return Draft(legs, labels(R9="alarm"), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:30")), _inside_for(place, 15),
                         within_detour_limit(b, [dest])])


def r9_meeting_at_hotel(b: Builder) -> Draft:
    """An approved meeting or reception at a club/hotel/resort: the order's destination is in
    the sensitive zone → INFO."""
    place = _sensitive(b, ("club_hotel", "golf_resort", "scenic_area"))
    legs = b.errand(place, b.at("09:00", "14:00"), b.minutes(40, 110))
    return Draft(legs, labels(R9="info"), orders=covering(b, [place]),
                 checks=[trips_within(hm("07:00"), hm("19:30")), _inside_for(place, 15)])


def r9_short_stop(b: Builder) -> Draft:
    """On an order; 3–6 min at a sensitive place (a drop-off): under the 10 min."""
    dest = b.dest(3, 12)
    place = _sensitive(b)
    legs = [b.go(dest, b.at("09:00", "14:00")), b.stay(b.minutes(10, 30)), b.go(place),
            b.stay(b.minutes(3, 6)), b.go("lot")]
    return Draft(legs, labels(), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:30")), within_detour_limit(b, [dest])])


def r9_confidential(b: Builder) -> Draft:
    """A 机要 car on an order stops at a sensitive place: R9 INFO only."""
    dest = b.dest(3, 12)
    place = _sensitive(b)
    legs = [b.go(dest, b.at("09:00", "14:00")), b.stay(b.minutes(10, 30)), b.go(place),
            b.stay(b.minutes(20, 40)), b.go("lot")]
    return Draft(legs, labels(R9="info"), orders=covering(b, [dest]),
                 checks=[trips_within(hm("07:00"), hm("19:30")), within_detour_limit(b, [dest])])


def _inside_for(place: Place, minutes: float):  # noqa: ANN202
    def check(truth: Truth) -> str | None:
        near = [t for t, p in zip(truth.t, truth.points, strict=True)
                if distance_m(p, place.at) <= 40]
        if not near or max(near) - min(near) < minutes * 60:
            return f"not {minutes} min at {place.name}"
        return None
    return check


FAMILIES = [
    Family("R4.home_overnight", "R4", False, "working", ordinary, r4_home_overnight),
    Family("R4.stayed_at_destination", "R4", False, "working", ordinary, r4_stayed_at_destination),
    Family("R4.warn_back_late", "R4", False, "working", ordinary, r4_warn_back_late),
    Family("R4.parked_near_lot", "R4", False, "working", ordinary, r4_parked_near_lot),
    Family("R4.lot_80m", "R4", True, "working", ordinary, r4_lot_80m, 1.5),
    Family("R4.out_of_town_overnight", "R4", True, "working", both(ordinary, roads_out),
           r4_out_of_town_overnight),
    Family("R4.repair_overnight", "R4", True, "working", has_repair, r4_repair_overnight),
    Family("R8.long_stop_unknown", "R8", False, "working", ordinary, r8_long_stop_unknown),
    Family("R8.uncovered_long_stop", "R8", False, "working", ordinary, r8_uncovered_long_stop),
    Family("R8.long_at_destination", "R8", True, "working", ordinary, r8_long_at_destination),
    Family("R8.long_at_site", "R8", True, "working", with_sites, r8_long_at_site),
    Family("R8.stop_45", "R8", True, "working", ordinary, r8_stop_45),
    Family("R8.spike_at_parking", "R8", True, "working", with_sites, r8_spike_at_parking, 0.7),
    Family("R9.no_order", "R9", False, "working", both(ordinary, with_sensitive), r9_no_order, 1.5),
    Family("R9.other_destination", "R9", False, "working", both(ordinary, with_sensitive),
           r9_other_destination),
    Family("R9.late_backfill", "R9", False, "working", both(ordinary, with_sensitive),
           r9_late_backfill),
    Family("R9.meeting_at_hotel", "R9", True, "working", both(ordinary, with_sensitive),
           r9_meeting_at_hotel),
    Family("R9.short_stop", "R9", True, "working", both(ordinary, with_sensitive), r9_short_stop),
    Family("R9.confidential", "R9", True, "working", both(confidential, with_sensitive),
           r9_confidential),
]

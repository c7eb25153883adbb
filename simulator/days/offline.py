"""The labelled days judged without servers: the same noisy messages through the pure parts of
the real pipeline — the device contract's decoder and ingest's filters (in arrival order),
trips and stops (telemetry.motion), the episode trackers (supervision.episodes), the day's
context as the rules worker builds it (supervision.day_context) and the rules
(supervision.rules) — then compared with the labels.

It mirrors `fleet ingest` + `fleet rules` closely but not exactly (everything arrives before
anything is judged; the worker judges while data streams in and reconciles later). The bench
(bench/detection.py) runs the real processes; this is for quick iterations and unit tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson
from shapely import Polygon

from fleet.geodesy import haversine_m
from fleet.scenario.geo import geojson, zone_polygon
from fleet.scenario.model import Scenario, boundary_geofence_code, lot_geofence_code
from simulator.days.builder import deliveries_of
from simulator.days.kit import Kit
from simulator.days.model import RANK, LabelledDay, OrderFact
from simulator.days.noise import NoiseSettings
from supervision.day_context import Loaded, orders_to_measure, vehicle_day, with_measures
from supervision.episodes import Trackers, fresh_state, open_episodes
from supervision.model import (
    EmergencyView,
    Finding,
    Fix,
    OrderView,
    StopView,
    TripView,
    VehicleDay,
    VehicleProfile,
)
from supervision.params import resolve
from supervision.rules import evaluate, evaluate_request
from supervision.zones import ZoneIndex, zone_from_row
from telemetry.contract import InvalidPosition, decode_position
from telemetry.filters import FilterSettings, VehicleFilterState, check
from telemetry.model import Position
from telemetry.motion import MotionSettings, Segment, step
from telemetry.motion import fresh_state as motion_state

DETOUR_FACTOR = 1.3


@dataclass
class Judged:
    day: LabelledDay
    findings: list[Finding]
    found: dict[str, str | None] = field(default_factory=dict)    # rule → highest severity
    rejected: dict[str, int] = field(default_factory=dict)

    def mismatches(self) -> dict[str, tuple[str | None, str | None]]:
        return {r: (self.day.labels[r], self.found.get(r)) for r in self.day.labels
                if self.day.labels[r] != self.found.get(r)}


class World:
    """The scenario's zones, cars and ids as a seeded database would hold them."""

    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        s = kit.scenario
        rows = _zone_rows(s)
        self.zones = [zone_from_row(r) for r in rows]
        self.by_id = {z.id: z for z in self.zones}
        self.index = ZoneIndex(self.zones)
        self.zone_id = {z.code: z.id for z in self.zones}
        self.vehicle_id = {v.plate: i + 1 for i, v in enumerate(s.vehicles)}

    def profile(self, plate: str) -> VehicleProfile:
        v = self.kit.vehicle(plate)
        depot = self.kit.scenario.depot_by_code[v.depot_code]
        return VehicleProfile(
            id=self.vehicle_id[plate], plate=plate, source=v.source, use_category=v.use_category,
            home_city=v.city_code, owner_org_id=1000 + abs(hash(v.owner_org_code)) % 1000,
            org_path=(1,), lot_zone_id=self.zone_id[lot_geofence_code(depot)],
            report_interval_s=v.device.report_interval_s if v.device else 30,
            rental_company_id=1 if v.source == "leased" else None)


def _zone_rows(s: Scenario) -> list[dict]:
    rows = []

    def add(code: str, shape: str, purpose: str, category: str | None, city: str | None,
            polygon: Polygon, radius_m: float | None = None) -> None:
        rows.append({"id": len(rows) + 1, "code": code, "name_zh": code, "name_en": code,
                     "shape": shape, "purpose": purpose, "category": category,
                     "city_code": city, "geojson": geojson(polygon), "radius_m": radius_m})
    for city in s.cities:
        add(boundary_geofence_code(city), "polygon", "city_boundary", None, city.code,
            Polygon(city.boundary))
    for depot in s.depots:
        add(lot_geofence_code(depot), "polygon", "designated_lot", None, depot.city_code,
            Polygon(depot.lot))
    for zone in s.zones:
        add(zone.code, zone.shape, zone.purpose, zone.category, zone.city_code,
            zone_polygon(zone), zone.radius_m)
    return rows


NOISE = NoiseSettings()
FILTERS = FilterSettings(max_age_s=None)      # the days are replayed long after they happened


def judge(world: World, day: LabelledDay, now_ms: int, noise: NoiseSettings = NOISE,
          filters: FilterSettings = FILTERS) -> Judged:
    ctx, orders, rejected = context(world, day, now_ms, noise, filters)
    findings = list(evaluate(ctx))
    for o, fact in zip(orders, day.orders, strict=True):
        if fact.emergency:
            findings += evaluate_request(emergency_view(day, o, fact), now_ms,
                                         resolve("R14", (1,), []))
    judged = Judged(day, findings, rejected=rejected)
    judged.found = highest(findings)
    return judged


def context(world: World, day: LabelledDay, now_ms: int, noise: NoiseSettings = NOISE,
            filters: FilterSettings = FILTERS) -> tuple[VehicleDay, list[OrderView], dict[str, int]]:
    """The labelled day's VehicleDay as the rules worker would build it once all is in."""
    positions, rejected = received(world, day, noise, filters, now_ms)
    trips, stops = motion(positions)
    fixes = [Fix(p.ts_ms, p.lat, p.lon, p.speed_kmh, p.acc, p.fix, p.alarm, p.odometer_km)
             for p in positions]
    profile = world.profile(day.plate)
    trackers = Trackers(world.index, profile.id)
    folded = trackers.fold(fresh_state(), fixes)
    episodes = folded.episodes + open_episodes(folded.state, min_speeding_s=15)
    orders = [order_view(day, i, o) for i, o in enumerate(day.orders)]
    loaded = Loaded(trips=tuple(trips), stops=tuple(stops), episodes=tuple(episodes),
                    orders=tuple(orders), seals=tuple((day.ms(s.start_s), day.ms(s.end_s))
                                                       for s in day.seals),
                    duty=tuple((day.ms(s.start_s), day.ms(s.end_s)) for s in day.duty),
                    zones=world.by_id)
    newest = fixes[-1]
    horizon = max(newest.ts_ms, now_ms)
    ctx = vehicle_day(profile, day.day, horizon, loaded, world.index, newest)
    nearest = {o.id: tuple(_nearest(fixes, lo, hi, d) for d in o.destinations)
               for o, lo, hi in orders_to_measure(ctx)}
    return with_measures(ctx, nearest, ()), orders, rejected


def highest(findings: Iterable[Finding]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for f in findings:
        if RANK[f.severity] > RANK[out.get(f.rule_id)]:
            out[f.rule_id] = f.severity
    return out


def received(world: World, day: LabelledDay, noise: NoiseSettings, filters: FilterSettings,
             now_ms: int) -> tuple[list[Position], dict[str, int]]:
    """Decoded and filtered in arrival order, then as stored: unique by (ts, seq), in order."""
    on_time, late = deliveries_of(world.kit, day, noise)
    deliveries = on_time + late
    state = VehicleFilterState()
    kept: dict[tuple[int, int | None], Position] = {}
    rejected: dict[str, int] = {}
    for delivery in deliveries:
        for item in delivery.items:
            try:
                pos = decode_position(orjson.loads(orjson.dumps(item)), delivery.uid, now_ms)
            except InvalidPosition as exc:
                rejected[str(exc)] = rejected.get(str(exc), 0) + 1
                continue
            refused = check(pos, state, filters, now_ms)
            if refused is not None:
                rejected[refused[0]] = rejected.get(refused[0], 0) + 1
                continue
            kept.setdefault((pos.ts_ms, pos.seq), pos)
    return sorted(kept.values(), key=lambda p: (p.ts_ms, p.seq or -1)), rejected


def motion(positions: Sequence[Position]) -> tuple[list[TripView], list[StopView]]:
    settings = MotionSettings()
    state = motion_state()
    segments: list[Segment] = []
    for pos in positions:
        state, closed = step(state, pos, settings)
        segments += closed
    segments += state.open_segments()
    trips = [TripView(s.start_ts_ms, s.end_ts_ms, (s.start_lon, s.start_lat),
                      (s.end_lon, s.end_lat), s.dist_m, s.max_speed_kmh, s.duration_s,
                      s.odometer_end_km - s.odometer_start_km)
             for s in segments if s.kind == "trip"]
    stops = [StopView(s.start_ts_ms, s.end_ts_ms, (s.start_lon, s.start_lat), s.duration_s)
             for s in segments if s.kind == "stop"]
    return trips, stops


def order_view(day: LabelledDay, index: int, o: OrderFact) -> OrderView:
    origin = (o.origin.at[0], o.origin.at[1], o.origin.city)
    destinations = tuple((d.at[0], d.at[1], d.city) for d in o.destinations)
    points = [origin, *destinations] + ([origin] if o.round_trip else [])
    km = sum(haversine_m(a[1], a[0], b[1], b[0]) for a, b in zip(points, points[1:], strict=False))
    return OrderView(
        id=index + 1, state=o.state, planned_start_ms=day.ms(o.start_s),
        planned_end_ms=day.ms(o.end_s),
        departed_ms=None if o.departed_s is None else day.ms(o.departed_s),
        returned_ms=None if o.returned_s is None else day.ms(o.returned_s),
        origin=origin, destinations=destinations, request_ids=(index + 1,),
        trip_types=(o.trip_type,), emergency=o.emergency,
        emergency_approved=None if o.decision is None else o.decision[0],
        emergency_deadline_ms=None if o.deadline_s is None else day.ms(o.deadline_s),
        driver_id=1, planned_km=round(km / 1000 * DETOUR_FACTOR, 2), round_trip=o.round_trip)


def emergency_view(day: LabelledDay, order: OrderView, fact: OrderFact) -> EmergencyView:
    dispatched = (fact.deadline_s or 0) - 86_400
    return EmergencyView(
        request_id=order.request_ids[0], dispatched_ms=day.ms(dispatched),
        deadline_ms=None if fact.deadline_s is None else day.ms(fact.deadline_s),
        approved=None if fact.decision is None else fact.decision[0],
        decided_ms=None if fact.decision is None else day.ms(fact.decision[1]),
        order_ids=(order.id,), driver_id=1)


def _nearest(fixes: Sequence[Fix], lo: int, hi: int, dest: tuple[float, float, str]) -> float | None:
    found = [haversine_m(f.lat, f.lon, dest[1], dest[0]) for f in fixes
             if lo <= f.ts_ms <= hi and f.fix]
    return min(found, default=None)

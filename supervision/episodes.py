"""The episode trackers: one vehicle's fixes, folded in device-time order, become `Episode`s
(table vehicle_episodes) — zone visits, speeding, data gaps and alarm bits. Pure code.

- zone visits (any purpose but speed_zone): entered after ENTER_FIXES consecutive fixed fixes
  inside the zone, left after EXIT_FIXES consecutive fixed fixes outside it — a single jittery
  fix never enters or leaves. The visit starts at the first fix of the run inside and ends at
  the first fix of the run outside. "Inside" is `ZoneIndex` containment honouring the zone's
  time windows, dates and binding to the vehicle (a zone going out of force is left like any
  other). Fixes with fix=False do not count for geometry (a.2).
- speeding: consecutive fixed fixes faster than the limit that applies there — the tightest
  active speed zone's (a speed zone without a limit: `urban_limit_kmh`), else the default
  limit (R6's parameters). The episode runs from the first fix over the limit to the last one
  (its duration is what the fixes show); it ends at a fix at or under the limit, at a pause of
  SPEEDING_BREAK_S without fixes, or where the limit changes (a new episode then starts).
  R6 judges the tolerance (+10 %) and the duration (15 s).
- gaps: no position (of any kind) for more than GAP_MIN_S. The episode starts at the last
  position before the gap, which gives `acc` and `speed_kmh`, and ends at the reappearance,
  with the distance between both; a terminal asleep (ACC not on, not moving) that wakes where
  it fell asleep (< ASLEEP_RADIUS_M) is not a gap. A gap still open has no episode: the rules
  judge it from the newest fix (VehicleDay.last_fix), under the same key.
- alarm bits (JT/T 808: 5 antenna cut, 6 antenna short, 7 low voltage, 8 main power cut):
  from the first position with the bit set to the first without it.

The state is a plain JSON-serialisable dict. Folding is a per-fix step, so folding a day
whole or in pieces gives the same episodes and the same state (tests/unit/test_episodes.py).
The caller stores the state at the start of each local day (`FoldResult.day_states`): late
data replays from there, after removing the episodes the replay will write again (`anchors`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from fleet.geodesy import haversine_m
from supervision.model import Episode, Fix
from supervision.zones import Zone, ZoneIndex, binds, in_force

ENTER_FIXES = 2
EXIT_FIXES = 2
GAP_MIN_S = 180
ASLEEP_RADIUS_M = 200.0
ASLEEP_KMH = 3.0
SPEEDING_BREAK_S = 180
ALARM_BITS = (5, 6, 7, 8)
SPEED_ZONE = "speed_zone"
CST = timezone(timedelta(hours=8))
STATE_FORMAT = 1


@dataclass(frozen=True)
class TrackerSettings:
    """R6's limits (the vehicle's organisation's parameters)."""
    default_limit_kmh: float = 120.0
    urban_limit_kmh: float = 60.0


@dataclass
class FoldResult:
    state: dict[str, Any]
    episodes: list[Episode] = field(default_factory=list)     # closed ones, in order of end
    day_states: list[tuple[date, dict[str, Any]]] = field(default_factory=list)


def fresh_state() -> dict[str, Any]:
    return {"format": STATE_FORMAT, "last": None, "visits": {}, "pending": {},
            "speeding": None, "alarms": {}}


def local_day(ts_ms: int) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, CST).date()


def last_ms(state: dict[str, Any]) -> int | None:
    last = state.get("last")
    return None if last is None else int(last["ts"])


class Trackers:
    """The trackers of one vehicle against one zone index."""

    def __init__(self, index: ZoneIndex, vehicle_id: int,
                 settings: TrackerSettings = TrackerSettings(),
                 org_path: Sequence[int] | None = None) -> None:
        self.index = index
        self.vehicle_id = vehicle_id
        self.settings = settings
        self.org_path = org_path  # a zone binds only the cars of its organisation's subtree

    def fold(self, state: dict[str, Any], fixes: Sequence[Fix]) -> FoldResult:
        """Folds the fixes (in device-time order, all after the state's last) into a copy of
        the state; the episodes that ended, and the state at the start of each local day
        that begins within these fixes."""
        result = FoldResult(copy.deepcopy(state))
        hits = self._zone_hits(fixes)
        for fix, zones in zip(fixes, hits, strict=True):
            previous = last_ms(result.state)
            if previous is None or local_day(fix.ts_ms) > local_day(previous):
                result.day_states.append((local_day(fix.ts_ms), copy.deepcopy(result.state)))
            self._step(result.state, fix, zones, result.episodes)
        return result

    def _zone_hits(self, fixes: Sequence[Fix]) -> list[list[Zone]]:
        """For each fix, the zones containing it in force at its time and binding the car
        (vectorised: one STRtree query for the whole run)."""
        hits: list[list[Zone]] = [[] for _ in fixes]
        located = [i for i, f in enumerate(fixes) if f.fix]
        if not located or len(self.index) == 0:
            return hits
        pos_idx, zone_idx = self.index.containing_pairs(
            [fixes[i].lon for i in located], [fixes[i].lat for i in located])
        for p, z in zip(pos_idx.tolist(), zone_idx.tolist(), strict=True):
            zone = self.index.zones[z]
            fix = fixes[located[p]]
            if (zone.always and zone.applies_to == "all" and zone.org_id is None) or (
                    in_force(zone, fix.ts_ms) and binds(zone, self.vehicle_id, self.org_path)):
                hits[located[p]].append(zone)
        return hits

    def _step(self, state: dict[str, Any], fix: Fix, zones: list[Zone],
              out: list[Episode]) -> None:
        _gap(state, fix, out)
        _alarms(state, fix, out)
        if fix.fix:
            _visits(state, fix, [z for z in zones if z.purpose != SPEED_ZONE], out)
            self._speeding(state, fix, [z for z in zones if z.purpose == SPEED_ZONE], out)
        state["last"] = {"ts": fix.ts_ms, "lon": fix.lon, "lat": fix.lat, "acc": fix.acc,
                         "speed_kmh": fix.speed_kmh}

    # ---- speeding ---------------------------------------------------------------------------

    def limit_at(self, speed_zones: Iterable[Zone]) -> tuple[float, str, int | None]:
        """(limit km/h, source, zone id): the tightest active speed zone, else the default."""
        best: tuple[float, str, int | None] | None = None
        for zone in speed_zones:
            limit = zone.speed_limit_kmh if zone.speed_limit_kmh else self.settings.urban_limit_kmh
            if best is None or limit < best[0] or (limit == best[0] and zone.id < (best[2] or 0)):
                best = (float(limit), "zone", zone.id)
        return best or (float(self.settings.default_limit_kmh), "default", None)

    def _speeding(self, state: dict[str, Any], fix: Fix, speed_zones: list[Zone],
                  out: list[Episode]) -> None:
        if fix.speed_kmh is None:
            return                                   # says nothing either way
        open_ = state["speeding"]
        if open_ is not None and fix.ts_ms - open_["last"] > SPEEDING_BREAK_S * 1000:
            out.append(_speeding_episode(open_))
            open_ = state["speeding"] = None
        limit, source, zone_id = self.limit_at(speed_zones)
        over = fix.speed_kmh > limit
        if open_ is not None and (not over or open_["limit"] != limit
                                  or open_["zone_id"] != zone_id):
            out.append(_speeding_episode(open_))
            open_ = state["speeding"] = None
        if not over:
            return
        if open_ is None:
            state["speeding"] = {"start": fix.ts_ms, "last": fix.ts_ms, "max": fix.speed_kmh,
                                 "limit": limit, "source": source, "zone_id": zone_id,
                                 "fixes": 1}
        else:
            open_["last"] = fix.ts_ms
            open_["max"] = max(open_["max"], fix.speed_kmh)
            open_["fixes"] += 1


def _speeding_episode(s: dict[str, Any], ongoing: bool = False) -> Episode:
    return Episode("speeding", "", s["start"], None if ongoing else s["last"], {
        "max_speed_kmh": round(float(s["max"]), 1), "limit_kmh": s["limit"],
        "limit_source": s["source"], "zone_id": s["zone_id"], "fixes": s["fixes"],
        "last_over_ms": s["last"]})


# ---- zone visits -----------------------------------------------------------------------------

def _visits(state: dict[str, Any], fix: Fix, zones: list[Zone], out: list[Episode]) -> None:
    here = {str(z.id): z for z in zones}
    at = [fix.lon, fix.lat]
    visits, pending = state["visits"], state["pending"]
    for key in sorted(visits):
        visit = visits[key]
        if key in here:
            visit["fixes"] += 1 + visit["out"]       # a lone fix outside was jitter
            visit["out"], visit["out_first"], visit["out_at"] = 0, None, None
            continue
        visit["out"] += 1
        if visit["out"] == 1:
            visit["out_first"], visit["out_at"] = fix.ts_ms, at
        if visit["out"] >= EXIT_FIXES:
            out.append(_visit_episode(key, visit, ended=True))
            del visits[key]
    for key in sorted(pending):
        if key not in here:
            del pending[key]                         # the run inside broke
    for key, zone in sorted(here.items()):
        if key in visits:
            continue
        run = pending.setdefault(key, {"first": fix.ts_ms, "at": at, "n": 0})
        run["n"] += 1
        if run["n"] >= ENTER_FIXES:
            visits[key] = {"start": run["first"], "enter": run["at"], "fixes": run["n"],
                           "zone_id": zone.id, "version": zone.version,
                           "purpose": zone.purpose, "category": zone.category,
                           "out": 0, "out_first": None, "out_at": None}
            del pending[key]


def _visit_episode(key: str, visit: dict[str, Any], ended: bool) -> Episode:
    return Episode("zone", key, visit["start"], visit["out_first"] if ended else None, {
        "zone_id": visit["zone_id"], "version": visit["version"], "purpose": visit["purpose"],
        "category": visit["category"], "fixes": visit["fixes"], "enter": visit["enter"],
        "exit": visit["out_at"] if ended else None})


# ---- gaps and alarm bits -------------------------------------------------------------------------

def _gap(state: dict[str, Any], fix: Fix, out: list[Episode]) -> None:
    last = state["last"]
    if last is None or fix.ts_ms - last["ts"] <= GAP_MIN_S * 1000:
        return
    dist_m = haversine_m(last["lat"], last["lon"], fix.lat, fix.lon)
    asleep = last["acc"] is not True and (last["speed_kmh"] or 0.0) < ASLEEP_KMH
    if asleep and dist_m < ASLEEP_RADIUS_M:
        return
    out.append(Episode("gap", "", last["ts"], fix.ts_ms, {
        "from": [last["lon"], last["lat"]], "to": [fix.lon, fix.lat], "acc": last["acc"],
        "speed_kmh": last["speed_kmh"], "dist_m": round(dist_m, 1)}))


def _alarms(state: dict[str, Any], fix: Fix, out: list[Episode]) -> None:
    alarms = state["alarms"]
    for bit in ALARM_BITS:
        key = str(bit)
        raised = bool(fix.alarm >> bit & 1)
        if raised and key not in alarms:
            alarms[key] = fix.ts_ms
        elif not raised and key in alarms:
            out.append(Episode("alarm", key, alarms.pop(key), fix.ts_ms, {"bit": bit}))


# ---- what the store needs --------------------------------------------------------------------------

def open_episodes(state: dict[str, Any], *, min_speeding_s: float = 0.0) -> list[Episode]:
    """The episodes still going on (end None). An ongoing speeding is shown only once its
    fixes span `min_speeding_s` (R6's duration): until then it may be a single fast fix, and
    the rules would measure an open episode up to the horizon."""
    found = [_visit_episode(key, visit, ended=False)
             for key, visit in sorted(state["visits"].items())]
    speeding = state["speeding"]
    if speeding is not None and (speeding["last"] - speeding["start"]) >= min_speeding_s * 1000:
        found.append(_speeding_episode(speeding, ongoing=True))
    found += [Episode("alarm", key, start, None, {"bit": int(key)})
              for key, start in sorted(state["alarms"].items())]
    return found


def anchors(state: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(kind, key, start ms) of the episodes that folding on from this state may write again
    although they start before it: the open ones, the runs about to enter a zone, and the gap
    after the last position. A replay deletes these (and everything after) first."""
    found = [("zone", key, int(v["start"])) for key, v in state["visits"].items()]
    found += [("zone", key, int(run["first"])) for key, run in state["pending"].items()]
    if state["speeding"] is not None:
        found.append(("speeding", "", int(state["speeding"]["start"])))
    found += [("alarm", key, int(start)) for key, start in state["alarms"].items()]
    if state["last"] is not None:
        found.append(("gap", "", int(state["last"]["ts"])))
    return sorted(found)

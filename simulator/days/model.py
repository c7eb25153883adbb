"""The types of a labelled vehicle-day. Pure, frozen.

Times are seconds after the labelled day's local midnight (Asia/Shanghai, UTC+8 all year);
they may run past 86,400 into the next morning (an overnight stay, the return of a two-day
order). Points are (lon, lat), WGS-84.

A label says what a correct system finds for that rule on that car and day: the highest
severity among its violations ("info", "warn", "alarm"), or None for nothing at all. Every
labelled rule has a label; a day is `clean` when it is a look-alike that must not be taken
for a violation — none of its labels is above INFO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from fleet.scenario.model import LonLat
from simulator.script import ScriptedLeg

CST = timezone(timedelta(hours=8), "Asia/Shanghai")
DAY_S = 86_400
RULES = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R13", "R14", "R16",
         "R17")
SEVERITIES = ("info", "warn", "alarm")
RANK = {None: 0, "info": 1, "warn": 2, "alarm": 3}


def hm(text: str, day_offset: int = 0) -> int:
    """Seconds after the day's midnight of a local "HH:MM" or "HH:MM:SS" (+ whole days)."""
    parts = [int(p) for p in text.split(":")]
    hours, minutes, seconds = (parts + [0, 0])[:3]
    return day_offset * DAY_S + hours * 3600 + minutes * 60 + seconds


def clock(seconds: float) -> str:
    """A day offset back as "HH:MM" (with "+1d" past midnight), for notes and messages."""
    days, rest = divmod(int(seconds), DAY_S)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return text + (f"+{days}d" if days else "")


@dataclass(frozen=True)
class Place:
    """A named point with its city (GB/T 2260 code)."""

    name: str
    at: LonLat
    city: str


@dataclass(frozen=True)
class OrderFact:
    """A dispatch order of the day's car (and its trip request), as the dispatch tables hold it.

    `emergency`: an 应急 request dispatched before approval, with its deadline and the decision
    (approved or refused, and when) if one was made."""

    start_s: int                                   # planned start
    end_s: int                                     # planned end
    origin: Place
    destinations: tuple[Place, ...]
    departed_s: int | None
    returned_s: int | None
    state: str = "returned"
    trip_type: str = "official"
    round_trip: bool = True
    with_driver: bool = True
    emergency: bool = False
    deadline_s: int | None = None
    decision: tuple[bool, int] | None = None       # (approved, at)


@dataclass(frozen=True)
class Span:
    """A duty registration (值班/应急报备) of the car, or a holiday seal (节假日封存) of its
    owner organisation."""

    start_s: int
    end_s: int
    reason: str = ""


@dataclass(frozen=True)
class AlarmWindow:
    """JT/T 808 alarm bits the terminal reports over [start_s, end_s)."""

    start_s: int
    end_s: int
    bits: int


@dataclass(frozen=True)
class Spike:
    """One fix thrown off by `dist_m` (multipath): the report nearest `at_s`."""

    at_s: int
    dist_m: float
    bearing_deg: float


@dataclass(frozen=True)
class LabelledDay:
    id: str                                        # e.g. "R4-080m-lot-017"
    family: str                                    # e.g. "R4.lot_80m"
    rule: str                                      # the rule the family is about
    clean: bool                                    # a look-alike (no label above INFO)
    plate: str
    day: date
    legs: tuple[ScriptedLeg, ...]
    end_s: int                                     # the simulator runs until then
    labels: Mapping[str, str | None]
    interval_s: float = 10.0                       # report interval while driving
    parked_interval_s: float = 60.0
    orders: tuple[OrderFact, ...] = ()
    duty: tuple[Span, ...] = ()
    seals: tuple[Span, ...] = ()
    alarms: tuple[AlarmWindow, ...] = ()
    spikes: tuple[Spike, ...] = ()
    note: str = ""
    seed: int = 0
    acc_wire: bool = True                          # False: an OBD terminal that reports no ACC
    held: tuple[int, int] | None = None            # positions of [from, to) arrive only after
                                                   # the rest has been judged (盲区补报 hours late)

    def __post_init__(self) -> None:
        missing = set(RULES) - set(self.labels)
        unknown = set(self.labels) - set(RULES)
        if missing or unknown:
            raise ValueError(f"{self.id}: labels missing {sorted(missing)}, unknown {sorted(unknown)}")
        bad = {r: s for r, s in self.labels.items() if s is not None and s not in SEVERITIES}
        if bad:
            raise ValueError(f"{self.id}: bad severities {bad}")
        if self.clean and any(RANK[s] > RANK["info"] for s in self.labels.values()):
            raise ValueError(f"{self.id}: a clean day cannot expect more than INFO")
        object.__setattr__(self, "labels", dict(self.labels))

    @property
    def start(self) -> datetime:
        """The day's local midnight."""
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=CST)

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def ms(self, seconds: float) -> int:
        return int(self.at(seconds).timestamp() * 1000)

    def expected(self) -> dict[str, str]:
        """The rules expected to fire, with their severity."""
        return {r: s for r, s in self.labels.items() if s is not None}


def labels(**expected: str | None) -> dict[str, str | None]:
    """Every rule None except those given (R1="alarm", R8="info"…)."""
    out: dict[str, str | None] = dict.fromkeys(RULES)
    for rule, severity in expected.items():
        if rule not in out:
            raise ValueError(f"unknown rule {rule}")
        out[rule] = severity
    return out


@dataclass
class Draft:
    """What a family builder produces before its facts are fixed: the legs, and functions of
    the rendered truth for the rest (an order's actual departure is when the car left)."""

    legs: list[ScriptedLeg]
    labels: dict[str, str | None]
    end_s: int = hm("10:00", 1)
    orders: object = None          # callable(truth) -> tuple[OrderFact, ...]
    duty: tuple[Span, ...] = ()
    seals: tuple[Span, ...] = ()
    alarms: tuple[AlarmWindow, ...] = ()
    spikes: object = None          # callable(truth) -> tuple[Spike, ...]
    checks: list = field(default_factory=list)   # callables(truth) -> str | None (a problem)
    note: str = ""
    interval_s: float | None = None
    unguarded: frozenset[str] = frozenset()      # rules whose generic guard does not apply
    held: tuple[int, int] | None = None          # see LabelledDay.held

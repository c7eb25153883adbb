"""Rule parameters: the defaults of domain.md §6 and their resolution per organisation."""

from __future__ import annotations

from supervision.params import (
    DEFAULTS,
    RULE_IDS,
    ParamRow,
    defaults,
    resolve,
    resolve_all,
    unknown_names,
    values_for,
)

PATH = (1, 2, 9)                                   # province → city → unit (the owner)


def test_the_defaults_of_the_catalogue():
    assert set(RULE_IDS) == {"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10",
                             "R13", "R14", "R16", "R17"}
    r1, r4 = DEFAULTS["R1"], DEFAULTS["R4"]
    assert (r1["min_trip_m"], r1["min_trip_s"], r1["live_after_s"]) == (1000, 300, 600)
    assert (r1["cover_before_s"], r1["cover_after_s"]) == (1800, 3600)
    assert (DEFAULTS["R2"]["night_from"], DEFAULTS["R2"]["night_to"]) == ("20:00", "06:00")
    assert (r4["check_time"], r4["alarm_time"], r4["lot_tolerance_m"], r4["exempt_radius_m"]) \
        == ("22:00", "23:00", 100, 5000)
    assert DEFAULTS["R5"]["persist_s"] == 60
    assert (DEFAULTS["R6"]["tolerance_pct"], DEFAULTS["R6"]["min_duration_s"]) == (10, 15)
    assert (DEFAULTS["R7"]["gap_intervals"], DEFAULTS["R7"]["min_gap_s"]) == (3, 600)
    assert DEFAULTS["R8"]["min_stop_s"] == 3600 and DEFAULTS["R9"]["min_stop_s"] == 600
    assert (DEFAULTS["R10"]["detour_factor"], DEFAULTS["R10"]["day_max_km"]) == (1.3, 300)
    assert DEFAULTS["R13"]["destination_radius_m"] == 1000
    assert DEFAULTS["R14"]["approve_within_s"] == 86400
    assert (DEFAULTS["R16"]["max_driving_s"], DEFAULTS["R16"]["min_break_s"]) == (14400, 1200)
    assert defaults("R4").version == 0


def test_the_nearest_organisation_on_the_path_wins():
    rows = [ParamRow(None, "R4", 1, {"check_time": "21:30"}),
            ParamRow(2, "R4", 1, {"check_time": "21:45"}),
            ParamRow(9, "R4", 3, {"lot_tolerance_m": 150})]
    params = resolve("R4", PATH, rows)
    assert params.version == 3
    assert params.values["lot_tolerance_m"] == 150
    assert params.values["check_time"] == "22:00"  # the unit's row gives only the tolerance
    assert resolve("R4", (1, 2, 11), rows).values["check_time"] == "21:45"
    assert resolve("R4", (5, 6), rows).values["check_time"] == "21:30"
    assert resolve("R5", PATH, rows).version == 0


def test_the_newest_version_in_force_wins():
    rows = [ParamRow(9, "R6", 1, {"tolerance_pct": 5}, valid_from_ms=1_000),
            ParamRow(9, "R6", 2, {"tolerance_pct": 20}, valid_from_ms=5_000)]
    assert resolve("R6", PATH, rows, at_ms=2_000).values["tolerance_pct"] == 5
    assert resolve("R6", PATH, rows, at_ms=6_000).version == 2
    assert resolve("R6", PATH, rows, at_ms=500).version == 0


def test_category_overrides():
    params = resolve_all(PATH, [])
    assert values_for(params["R10"], "R10", "general")["day_max_km"] == 300
    assert values_for(params["R10"], "R10", "special_technical")["day_max_km"] == 500
    rows = [ParamRow(9, "R10", 2, {"by_category": {"special_technical": {"day_max_km": 800}}})]
    params = resolve_all(PATH, rows)
    assert values_for(params["R10"], "R10", "special_technical")["day_max_km"] == 800


def test_unknown_names_are_reported_for_the_api():
    assert unknown_names("R4", {"check_time": "22:00", "lot_tolerance": 5}) == ["lot_tolerance"]


def test_resolved_values_do_not_share_the_defaults():
    params = resolve("R9", PATH, [])
    params.values["categories"].append("residential")
    assert "residential" not in DEFAULTS["R9"]["categories"]


# ---- a bad stored row never stops the rules --------------------------------------------------

def test_a_stored_value_that_does_not_fit_is_ignored_and_reported():
    rows = [ParamRow(9, "R1", 4, {"min_trip_m": None, "min_trip_s": float("inf"),
                                  "live_after_s": 900, "severity": "loud", "typo": 1})]
    params = resolve("R1", PATH, rows)
    assert params.version == 4 and params.values["live_after_s"] == 900     # the good one holds
    assert (params.values["min_trip_m"], params.values["min_trip_s"]) == (1000, 300)
    assert params.values["severity"] == "alarm" and "typo" not in params.values
    assert len(params.problems) == 4
    assert all("R1 v4 (org 9)" in p and "ignored" in p for p in params.problems)
    assert resolve("R1", PATH, []).problems == ()


def test_an_empty_window_falls_back_to_the_default_window():
    rows = [ParamRow(None, "R2", 2, {"night_from": "06:00"})]            # 06:00 → 06:00
    params = resolve("R2", PATH, rows)
    assert (params.values["night_from"], params.values["night_to"]) == ("20:00", "06:00")
    assert params.problems and "night" in params.problems[0]


def test_stored_rows_that_are_not_maps_or_bad_categories_are_ignored():
    assert resolve("R6", PATH, [ParamRow(9, "R6", 1, "not json")]).values == DEFAULTS["R6"]
    assert resolve("R6", PATH, [ParamRow(9, "R6", 1, '{"tolerance_pct": 20}')]) \
        .values["tolerance_pct"] == 20
    rows = [ParamRow(9, "R10", 2, {"by_category": {"special_technical": {"day_max_km": -5,
                                                                          "detour_extra_km": 20},
                                                   "taxi": {"day_max_km": 900}}})]
    params = resolve("R10", PATH, rows)
    cat = values_for(params, "R10", "special_technical")
    assert (cat["day_max_km"], cat["detour_extra_km"]) == (500, 20)
    assert len(params.problems) == 2


def test_a_pass_with_a_bad_row_judges_with_the_defaults():
    from supervision.rules import evaluate
    from tests.rules_fixtures import LOT_CENTRE, at, day, only, trip
    rows = [ParamRow(9, "R1", 3, {"min_trip_m": None}),
            ParamRow(9, "R6", 2, {"default_limit_kmh": 0}),
            ParamRow(9, "R2", 2, {"night_from": "6:00pm"})]
    ctx = day(trips=(trip("21:00", "21:40", LOT_CENTRE, at(8000, 4000), 12.0),),
              params=resolve_all(PATH, rows))
    found = evaluate(ctx)
    assert len(only(found, "R1")) == 1 and len(only(found, "R2")) == 1

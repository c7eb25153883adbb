"""The documented JSON form: exact round trips, and clear errors on bad documents."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import (
    Node,
    OnBoard,
    PricePlan,
    Problem,
    Request,
    StopRef,
    TimeWindow,
    UnservedPenalty,
    Vehicle,
    VehicleState,
    check,
    evaluate_routes,
)
from optimizer.json_form import (
    problem_from_json,
    problem_to_json,
    solution_from_json,
    solution_to_json,
)
from optimizer.matrix import GreatCircleProvider
from optimizer.solution import UNASSIGNED_REASONS
from optimizer.violation import VIOLATION_CODES
from tests.optimizer_world import line_problem, request, vehicle


def rich_problem() -> Problem:
    state = VehicleState(node=2, time_s=900, on_board=(OnBoard("seated", 600),),
                         committed=(StopRef("ride", "pickup"),), departed_s=300, driven_s=300,
                         driven_m=5000)
    plan = PricePlan(30_000, 20_000, 3600, 5000, 300)
    return line_problem(
        [request("out", 1, 3, pickup_window=TimeWindow(600, 900), pickup_service_s=60,
                 priority="emergency", car_levels=("sedan", "business"), unit_id="u1"),
         request("back", 3, 1, follows="out", driver_waits=True, confidential=True,
                 dropoff_window=TimeWindow(7200, 7500), max_ride_s=1500),
         request("ride", 2, 4, shareable=False),
         request("seated", 4, 1, passengers=2, priority="law_enforcement")],
        [vehicle("lease", source="leased", price_plan=plan, range_m=250_000, max_driving_s=28_800),
         vehicle("w", state=state, unit_id="u1", source="unit_retained", car_level="business")],
        unserved_penalty=UnservedPenalty(9, 8, 7), name="武汉 day")


def through_text(data):
    return json.loads(json.dumps(data, ensure_ascii=False))


def test_problem_round_trips_exactly():
    problem = rich_problem()
    assert problem_from_json(through_text(problem_to_json(problem))) == problem


def test_solution_round_trips_exactly():
    problem = rich_problem()
    solution = evaluate_routes(problem, {
        "lease": [("out", "pickup"), ("out", "dropoff"), ("back", "pickup"), ("back", "dropoff")],
        "w": [("ride", "pickup"), ("ride", "dropoff"), ("seated", "dropoff")]})
    data = through_text(solution_to_json(solution))
    assert data["cost"]["total"] == solution.cost.total
    assert solution_from_json(data) == solution


def test_optional_fields_may_be_left_out():
    minimal = {
        "nodes": [{"coord": [114.3, 30.6]}, {"coord": [114.4, 30.5]}],
        "duration_s": [[0, 60], [60, 0]], "dist_m": [[0, 900], [900, 0]],
        "requests": [{"id": "r1", "pickup_node": 0, "dropoff_node": 1}],
        "vehicles": [{"id": "v1", "start_node": 0, "end_node": 0, "capacity": 4,
                      "shift": [0, 86400]}],
    }
    problem = problem_from_json(minimal)
    assert problem.requests[0] == Request("r1", 0, 1)
    assert problem.vehicles[0] == Vehicle("v1", 0, 0, 4, TimeWindow(0, 86400))
    assert problem.nodes[0] == Node((114.3, 30.6))
    assert problem.unserved_penalty == UnservedPenalty()


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("vehicles"), r"^vehicles: missing field"),
    (lambda d: d["requests"][0].pop("pickup_node"), r"requests\[0\]\.pickup_node: missing"),
    (lambda d: d["requests"][1].update(pickup_node=9), r"request 'back' pickup_node = 9 is not"),
    (lambda d: d["vehicles"][0].update(end_node=-1), r"vehicle 'lease' end_node = -1 is not"),
    (lambda d: d["requests"][0].update(pickup_window=[900, 600]),
     r"requests\[0\]\.pickup_window: start 900 s is after end 600 s"),
    (lambda d: d["vehicles"][1].update(shift=[1]), r"vehicles\[1\]\.shift: expected \[start_s"),
    (lambda d: d["requests"][0].update(pickup_windw=[1, 2]), r"unknown field\(s\) \['pickup_windw"),
    (lambda d: d["requests"][0].update(passengers="2"), r"requests\[0\]\.passengers: expected int"),
    (lambda d: d["requests"][0].update(confidential=1), r"confidential: expected bool"),
    (lambda d: d["requests"][0].update(priority="vip"), r"priority 'vip': expected one of"),
    (lambda d: d["requests"][1].update(follows="nobody"), r"follows unknown request 'nobody'"),
    (lambda d: d["vehicles"][0].update(source="borrowed"), r"source 'borrowed': expected one of"),
    (lambda d: d["vehicles"][1]["state"].update(committed=[["ride", "board"]]),
     r"committed\[0\]: expected \[request_id, pickup\|dropoff\]"),
    (lambda d: d["duration_s"][1].pop(), r"duration_s row 1 has 4 entries for 5 nodes"),
    (lambda d: d["dist_m"][0].__setitem__(1, 1.5), r"dist_m\[0\]\[1\]: expected int"),
    (lambda d: d["nodes"][0].update(coord=[114.3]), r"nodes\[0\]\.coord: expected \[lon, lat\]"),
    (lambda d: d["requests"].append(copy.deepcopy(d["requests"][0])), r"duplicate request id"),
])
def test_bad_problem_documents_are_refused_with_a_clear_message(change, message):
    data = problem_to_json(rich_problem())
    change(data)
    with pytest.raises(ValueError, match=message):
        problem_from_json(data)


def test_a_solution_whose_total_is_not_its_parts_is_refused():
    problem = line_problem([request("a", 1, 2)])
    data = solution_to_json(evaluate_routes(problem, {"v": [("a", "pickup"), ("a", "dropoff")]}))
    data["cost"]["total"] += 1
    with pytest.raises(ValueError, match=r"cost\.total: .* is not the sum"):
        solution_from_json(data)
    data = solution_to_json(evaluate_routes(problem, {}))
    data["unassigned"][0].pop("reason")
    with pytest.raises(ValueError, match=r"unassigned\[0\]\.reason: missing field"):
        solution_from_json(data)


# ---- property: any valid problem round-trips -------------------------------------------------

ints = st.integers(min_value=0, max_value=10**9)
windows = st.builds(lambda a, b: TimeWindow(min(a, b), max(a, b)), ints, ints)
texts = st.text(max_size=6)


@st.composite
def problems(draw) -> Problem:
    size = draw(st.integers(1, 4))
    nodes = tuple(Node((draw(st.floats(-180, 180)), draw(st.floats(-90, 90))), draw(texts),
                       draw(texts)) for _ in range(size))
    matrix = st.tuples(*[st.tuples(*[ints] * size)] * size)
    node = st.integers(0, size - 1)
    ids = draw(st.lists(st.text(min_size=1, max_size=4), max_size=4, unique=True))
    requests = []
    for i, rid in enumerate(ids):
        requests.append(Request(
            rid, draw(node), draw(node), draw(st.integers(1, 9)), draw(st.none() | windows),
            draw(st.none() | windows), draw(st.none() | ints), draw(ints), draw(ints),
            draw(st.sampled_from(["emergency", "law_enforcement", "ordinary"])),
            tuple(draw(st.lists(texts, max_size=2))), draw(st.booleans()), draw(st.booleans()),
            draw(st.none() | texts), ids[i - 1] if i and draw(st.booleans()) else None))
        if requests[-1].follows:
            requests[-1] = replace(requests[-1], driver_waits=draw(st.booleans()))
    vehicles = []
    for vid in draw(st.lists(st.text(min_size=1, max_size=4), max_size=3, unique=True)):
        source = draw(st.sampled_from(["platform", "entrusted", "unit_retained", "leased"]))
        state = None
        if ids and draw(st.booleans()):
            state = VehicleState(draw(node), draw(ints), (OnBoard(ids[0], draw(ints)),),
                                 (StopRef(ids[0], "dropoff"),), draw(st.none() | ints),
                                 draw(ints), draw(ints))
        vehicles.append(Vehicle(
            vid, draw(node), draw(node), draw(st.integers(0, 50)), draw(windows), draw(texts),
            source, "u" if source == "unit_retained" else draw(st.none() | texts),
            draw(st.none() | ints), draw(st.none() | ints), draw(ints),
            draw(st.none() | st.builds(PricePlan, ints, ints, ints, ints, ints)),
            None if vehicles and any(v.state for v in vehicles) else state))
    return Problem(nodes, draw(matrix), draw(matrix), tuple(requests), tuple(vehicles),
                   UnservedPenalty(draw(ints), draw(ints), draw(ints)), draw(texts))


@settings(max_examples=60, deadline=None)
@given(problems())
def test_any_valid_problem_round_trips(problem):
    assert problem_from_json(through_text(problem_to_json(problem))) == problem


# ---- the documented example stays true ---------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "optimizer.md"


def test_the_documented_example_parses_checks_and_is_what_evaluate_routes_builds():
    text = DOC.read_text(encoding="utf-8")
    problem_doc, solution_doc = re.findall(r"```json\n(.*?)\n```", text, re.S)
    problem = problem_from_json(json.loads(problem_doc))
    solution = solution_from_json(json.loads(solution_doc))
    assert check(problem, solution) == []
    order = [(s.request_id, s.kind) for s in solution.routes[0].stops]
    assert evaluate_routes(problem, {solution.routes[0].vehicle_id: order}) == solution
    assert problem.duration_s == GreatCircleProvider().matrix(problem.nodes).duration_s


def test_the_document_lists_every_violation_and_reason_code():
    text = DOC.read_text(encoding="utf-8")
    assert all(f"| `{code}` |" in text for code in [*VIOLATION_CODES, *UNASSIGNED_REASONS])

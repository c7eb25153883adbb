"""A proposal (方案) as the console shows it: per car its route on the map (a polyline through
numbered stops), times, cost, km and the dispatch orders it would make (a shared ride is one
order carrying several requests), and the requests left out with their reasons. Built from
`optimizer.planning.DayProblem`s and their plans; no I/O."""

from __future__ import annotations

from typing import Any

from optimizer.insertion_plan import PlanResult
from optimizer.planning import DayProblem, FleetCar
from optimizer.solution import UNASSIGNED_REASONS

REASON_TEXT_ZH = {
    "no_vehicle": "没有可承运的车辆（座位、车型、保留车辆归属或续航）",
    "infeasible_time": "没有车辆能在时间窗内完成（即便单独执行）",
    "linked_unserved": "同一行程的另一段无法安排",
    "no_capacity": "可单独执行，但方案中已无空余车辆",
    "too_costly": "执行成本高于不执行的代价",
    "not_planned": "求解时限内未安排",
    "not_waiting": "不在待派车队列中",
    "merged_order": "已合并为派车单，请在卡片上派车",
    "pinned_car": "指定车辆无法执行",
}


def _cny(fen: int) -> float:
    return round(fen / 100, 2)


def day_routes(dp: DayProblem, result: PlanResult, cars: dict[int, FleetCar]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(routes of the cars used, requests left out) of one day and city."""
    solution = result.solution(dp.problem)
    routes = []
    for route in solution.routes:
        if not route.stops:
            continue
        car = cars[dp.car_of_vehicle[route.vehicle_id]]
        refs = result.routes[route.vehicle_id]
        vehicle = dp.problem.vehicle_by_id[route.vehicle_id]
        start = dp.place_of_node[vehicle.origin_node]
        depot = dp.place_of_node[vehicle.end_node]
        stops = []
        for seq, stop in enumerate(route.stops, start=1):
            place = dp.place_of_node[stop.node]
            stops.append({
                "seq": seq, "request_id": dp.trip_of_leg[stop.request_id],
                "leg": stop.request_id, "kind": stop.kind, "name": place.name,
                "lat": place.lat, "lon": place.lon, "city_code": place.city_code,
                "arrival": dp.at(stop.arrival_s), "start": dp.at(stop.start_s),
                "departure": dp.at(stop.departure_s), "load": stop.load,
            })
        orders = [{"request_ids": group, "shared": len(group) > 1}
                  for group in dp.orders_of(route.vehicle_id, refs)]
        routes.append({
            "vehicle_id": car.id, "plate": car.plate, "car_level": car.car_level,
            "source": car.source, "seats": car.seats, "city_code": dp.city,
            "day": dp.day.isoformat(), "cost_cny": _cny(route.cost.total),
            "km": round(route.dist_m / 1000, 1), "start": dp.at(route.start_s),
            "end": dp.at(route.end_s), "shared": any(o["shared"] for o in orders),
            "path": [[start.lat, start.lon], *[[s["lat"], s["lon"]] for s in stops],
                     [depot.lat, depot.lon]],
            "stops": stops, "orders": orders, "accepted": False,
        })
    unserved = []
    seen: set[int] = set()
    for item in solution.unassigned:
        trip = dp.trip_of_leg[item.request_id]
        if trip in seen:
            continue
        seen.add(trip)
        unserved.append(unserved_item(trip, item.reason, item.message))
    return routes, unserved


def unserved_item(request_id: int, reason: str, message: str) -> dict[str, Any]:
    return {"request_id": request_id, "reason": reason, "message": message,
            "message_zh": REASON_TEXT_ZH.get(reason, ""),
            "reason_text": UNASSIGNED_REASONS.get(reason, message)}


def totals(routes: list[dict[str, Any]], unserved: list[dict[str, Any]]) -> dict[str, Any]:
    served = {s["request_id"] for r in routes for s in r["stops"]}
    return {
        "cost_cny": round(sum(r["cost_cny"] for r in routes), 2),
        "km": round(sum(r["km"] for r in routes), 1),
        "vehicles": len(routes),
        "orders": sum(len(r["orders"]) for r in routes),
        "shared_rides": sum(1 for r in routes for o in r["orders"] if o["shared"]),
        "served": len(served),
        "unserved": len(unserved),
    }

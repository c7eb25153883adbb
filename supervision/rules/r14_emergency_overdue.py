"""R14 应急补单超时: an emergency order not approved in time (domain.md §4, §6, a.3).

An emergency request (应急) is dispatched first and approved afterwards, by its deadline
(trip_requests.emergency_deadline; else dispatched + 24 h). Past the deadline without an
approval → ALARM, keyed by the request. Approved late: the ALARM stays (its summary says
when). Refused: ALARM as well (the car went out on a request that was not upheld). Approved in
time: nothing — a stored R14 of that request is then auto-closed by reconcile. The trips under
such an order are covered (no R1): R14 speaks for them.
"""

from __future__ import annotations

from supervision.model import EmergencyView, Finding, RuleParams
from supervision.params import values_for
from supervision.rules import common as c

RULE = "R14"


def deadline_ms(view: EmergencyView, v: dict) -> int:
    if view.deadline_ms is not None:
        return view.deadline_ms
    return view.dispatched_ms + int(v["approve_within_s"]) * 1000


def evaluate_request(view: EmergencyView, now_ms: int,
                     params: RuleParams | None = None) -> list[Finding]:
    v = values_for(params, RULE, "general")
    due = deadline_ms(view, v)
    decided = view.decided_ms
    if view.approved is True and (decided is None or decided <= due):
        return []
    if view.approved is None and now_ms < due:
        return []
    if view.approved is False:
        outcome, zh, en = "refused", "应急用车补办审批未通过", "was refused on approval"
    elif view.approved is True:
        outcome, zh, en = "approved_late", "应急用车超时后才补办审批", "was approved after its deadline"
    else:
        outcome, zh, en = "overdue", "应急用车超过时限未补办审批", "was not approved by its deadline"
    overdue_s = max(0, ((decided if decided is not None else now_ms) - due) // 1000)
    plate = f"{view.plate} " if view.plate else ""
    return [Finding(
        rule_id=RULE, key=f"req:{view.request_id}", severity=str(v["severity"]),
        start_ms=min(due, decided) if decided is not None else due,
        end_ms=decided, order_ids=tuple(sorted(view.order_ids)), driver_id=view.driver_id,
        summary={"request_id": view.request_id, "outcome": outcome,
                 "dispatched_at": c.local_iso(view.dispatched_ms),
                 "deadline": c.local_iso(due), "decided_at": c.local_iso(decided),
                 "overdue_s": overdue_s},
        trigger_ms=(due,), request_id=view.request_id,
        message_zh=f"{plate}应急申请{view.request_id}：{zh}",
        message_en=f"{plate}emergency request {view.request_id} {en}",
    )]

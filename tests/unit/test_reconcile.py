"""reconcile: insert / amend / retract / auto_close / keep, each with its reason."""

from __future__ import annotations

from supervision.model import Finding
from supervision.reconcile import Stored, reconcile


def finding(rule="R1", key="v12:trip:1", severity="alarm", end=2_000, summary=None,
            provisional=False):
    return Finding(rule, key, severity, 1_000, end, summary or {"km": 12.0},
                   provisional=provisional)


def stored(rule="R1", key="v12:trip:1", severity="alarm", state="open", end=2_000,
           summary=None, provisional=False):
    return Stored(rule, key, severity, state, summary or {"km": 12.0}, end, provisional, id=5)


def kinds(actions):
    return [(a.kind, a.rule_id, a.key) for a in actions]


def test_new_findings_are_inserted_as_open():
    actions = reconcile([], [finding(), finding("R9", "v12:stop:9", provisional=True)])
    assert kinds(actions) == [("insert", "R1", "v12:trip:1"), ("insert", "R9", "v12:stop:9")]
    assert actions[0].reason == "detected" and actions[1].reason == "detected (live)"
    assert all(a.to_state == "open" and a.finding is not None for a in actions)


def test_the_same_finding_again_is_kept_silently():
    actions = reconcile([stored()], [finding()])
    assert kinds(actions) == [("keep", "R1", "v12:trip:1")]
    assert actions[0].reason == "unchanged" and not actions[0].audit


def test_a_changed_severity_end_or_summary_is_amended_with_what_changed():
    actions = reconcile([stored(severity="warn", end=None)],
                        [finding(severity="alarm", summary={"km": 15.5})])
    a = actions[0]
    assert a.kind == "amend" and a.audit and a.to_state is None
    assert "severity warn → alarm" in a.reason and "ended" in a.reason
    assert "km 12.0 → 15.5" in a.reason


def test_a_live_finding_confirmed_at_the_trip_end_is_amended():
    actions = reconcile([stored(provisional=True, end=None)], [finding()])
    assert actions[0].kind == "amend" and "confirmed" in actions[0].reason


def test_an_ongoing_finding_whose_figures_grow_is_kept():
    actions = reconcile([stored(end=None, summary={"duration_s": 600})],
                        [finding(end=None, summary={"duration_s": 660})])
    assert actions[0].kind == "keep" and actions[0].reason.startswith("ongoing")


def test_a_finding_no_longer_found_is_retracted_with_a_reason():
    for state in ("open", "awaiting_explanation", "overdue"):
        actions = reconcile([stored(rule="R4", key="v12:night:2026-11-24", state=state)], [])
        a = actions[0]
        assert (a.kind, a.to_state, a.audit) == ("retract", "retracted", True)
        assert a.reason.startswith("retracted:") and "lot" in a.reason


def test_an_unconfirmed_live_finding_is_retracted_as_such():
    a = reconcile([stored(provisional=True, end=None)], [])[0]
    assert a.kind == "retract" and "not confirmed" in a.reason


def test_an_emergency_approved_in_time_auto_closes_its_r14():
    a = reconcile([stored(rule="R14", key="req:41")], [])[0]
    assert (a.kind, a.to_state) == ("auto_close", "auto_closed") and "in time" in a.reason


def test_a_violation_in_peoples_hands_is_left_with_an_audit_note():
    for state in ("under_review", "confirmed", "dismissed", "referred"):
        a = reconcile([stored(state=state)], [])[0]
        assert a.kind == "keep" and a.audit and a.to_state is None
        assert "late data no longer supports it" in a.reason


def test_already_retracted_stays_retracted_quietly():
    a = reconcile([stored(state="retracted")], [])[0]
    assert a.kind == "keep" and not a.audit


def test_late_data_can_reinstate_a_retracted_violation():
    a = reconcile([stored(state="retracted")], [finding()])[0]
    assert (a.kind, a.to_state) == ("amend", "open") and a.reason.startswith("reinstated")


def test_actions_come_in_rule_then_key_order():
    actions = reconcile([stored(rule="R10", key="b")],
                        [finding(rule="R2", key="z"), finding(rule="R10", key="a")])
    assert [(a.rule_id, a.key) for a in actions] == [("R2", "z"), ("R10", "a"), ("R10", "b")]


def test_a_decided_violation_is_never_amended_only_noted():
    for state in ("under_review", "dismissed", "confirmed", "rectified", "closed", "referred"):
        a = reconcile([stored(rule="R2", state=state)],
                      [finding(rule="R2", severity="info", summary={"km": 12.0, "duty": True})])[0]
        assert (a.kind, a.audit, a.to_state) == ("keep", True, None), state
        assert a.reason.startswith("late data would now judge it info (was alarm)")
        assert "duty" in a.reason and f"left {state}" in a.reason


def test_a_decided_violation_with_other_figures_only_is_noted_too():
    a = reconcile([stored(state="confirmed")], [finding(summary={"km": 18.4}, end=3_000)])[0]
    assert (a.kind, a.audit) == ("keep", True)
    assert "alarm as before" in a.reason and "km" in a.reason and "another end" in a.reason
    assert "18.4" not in a.reason                       # one note per wording, not per figure


def test_a_violation_still_in_the_systems_hands_may_be_amended():
    for state in ("open", "awaiting_explanation", "overdue"):
        a = reconcile([stored(state=state)], [finding(severity="info")])[0]
        assert a.kind == "amend" and "severity alarm → info" in a.reason, state

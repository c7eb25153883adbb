"""Where a dead letter's reason comes from (pure): the device contract, a filter, or storage.

Mirrors the reason tables of docs/device-contract.md; a reason not listed there is "other"
(a newer worker may add some before this list learns them).
"""

from __future__ import annotations

from typing import Literal

DeadLetterKind = Literal["contract", "filter", "store", "other"]

CONTRACT_REASONS = frozenset(
    {
        "bad_topic",
        "too_large",
        "bad_json",
        "not_object",
        "empty_batch",
        "batch_too_large",
        "missing_field",
        "bad_field",
        "bad_timestamp",
        "future_timestamp",
        "coordinate_out_of_range",
        "bad_status",
        "unknown_device",
        "unbound_device",
    }
)
FILTER_REASONS = frozenset(
    {"zero_coordinates", "too_old", "implausible_speed", "impossible_jump", "duplicate"}
)
STORE_REASONS = frozenset({"store_error"})


def reason_kind(reason: str) -> DeadLetterKind:
    if reason in FILTER_REASONS:
        return "filter"
    if reason in CONTRACT_REASONS:
        return "contract"
    if reason in STORE_REASONS:
        return "store"
    return "other"

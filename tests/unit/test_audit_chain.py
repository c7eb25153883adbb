"""The audit trail's hash chain (supervision/audit.py): a record's hash covers every field and
the previous hash; verify finds a changed record, a removed one, a removed tail and a chain
rewritten from an altered record onward."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from supervision.audit import (
    GENESIS_HASH,
    AuditRecord,
    ChainVerifier,
    Checkpoint,
    canonical,
    iso_at,
    normalise,
    record_hash,
    seal,
    verify,
)

T0 = datetime(2026, 11, 30, 13, 10, tzinfo=UTC)


def chain(n: int) -> list[AuditRecord]:
    records, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        record = seal(AuditRecord(
            id=i, at=T0 + timedelta(seconds=i), actor_id=None if i % 3 == 0 else 7,
            subject=f"violation:{i % 4 + 1}", action="transition", from_state="open",
            to_state="awaiting_explanation", reason=f"第{i}次 reason", data={"deadline": "2026-12-03", "n": i},
            prev_hash=prev))
        records.append(record)
        prev = record.hash
    return records


def rehash_from(records: list[AuditRecord], start: int) -> list[AuditRecord]:
    """What a forger with database access would do: recompute every hash from `start` on."""
    out = records[:start]
    prev = out[-1].hash if out else GENESIS_HASH
    for record in records[start:]:
        fixed = seal(dataclasses.replace(record, prev_hash=prev, hash=""))
        out.append(fixed)
        prev = fixed.hash
    return out


def kinds(problems) -> list[str]:
    return [p.kind for p in problems]


def test_intact_chain_verifies() -> None:
    records = chain(20)
    assert records[0].prev_hash == GENESIS_HASH == "0" * 64
    assert verify(records, Checkpoint(20, records[-1].hash)) == []
    assert verify([]) == []


def test_hash_covers_every_field() -> None:
    record = chain(1)[0]
    changes = {"id": 2, "at": record.at + timedelta(microseconds=1), "actor_id": 8,
               "subject": "violation:9", "action": "x", "from_state": "closed", "to_state": None,
               "reason": "other", "data": {"deadline": "2026-12-04", "n": 1},
               "prev_hash": "f" * 64}
    for name, value in changes.items():
        assert record_hash(dataclasses.replace(record, **{name: value})) != record.hash, name


def test_canonical_form_is_stable() -> None:
    record = chain(1)[0]
    text = canonical(record).decode()
    assert '"reason":"第1次 reason"' in text  # UTF-8, not \u-escaped
    assert '"at":"2026-11-30T13:10:01.000000Z"' in text
    # the same instant in another zone hashes the same; key order does not matter
    shifted = dataclasses.replace(record, at=record.at.astimezone(timezone(timedelta(hours=8))),
                                  data={"n": 1, "deadline": "2026-12-03"})
    assert record_hash(shifted) == record.hash


def test_normalise_survives_jsonb_round_trip() -> None:
    assert normalise({1: (1.0, 2.5, float("nan")), "d": {"x": {3}}}) == {"1": [1, 2.5, None], "d": {"x": [3]}}
    assert normalise(1e20) == 10**20
    assert normalise(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00+00:00"
    with pytest.raises(ValueError):
        iso_at(datetime(2026, 1, 1))


def test_changed_reason_is_detected() -> None:
    records = chain(10)
    records[4] = dataclasses.replace(records[4], reason="whitewashed")
    problems = verify(records, Checkpoint(10, records[-1].hash))
    assert kinds(problems) == ["changed"]
    assert problems[0].id == 5


def test_removed_record_is_detected() -> None:
    records = chain(10)
    del records[3]
    problems = verify(records, Checkpoint(10, records[-1].hash))
    assert kinds(problems) == ["removed"]
    assert problems[0].id == 5 and "4..4" in problems[0].detail


def test_removed_first_record_is_detected() -> None:
    records = chain(5)[1:]
    assert kinds(verify(records)) == ["removed"]


def test_removed_tail_is_caught_by_the_checkpoint_only() -> None:
    records = chain(10)
    cut = records[:7]
    assert verify(cut) == []  # the chain alone is still whole
    problems = verify(cut, Checkpoint(10, records[-1].hash))
    assert kinds(problems) == ["tail_removed"] and problems[0].id == 10


def test_everything_removed_is_caught_by_the_checkpoint() -> None:
    records = chain(3)
    assert kinds(verify([], Checkpoint(3, records[-1].hash))) == ["tail_removed"]


def test_rewritten_chain_is_caught_by_an_outside_checkpoint() -> None:
    records = chain(10)
    outside = Checkpoint(8, records[7].hash)  # verified earlier, kept outside the database
    altered = rehash_from([*records[:3], dataclasses.replace(records[3], reason="x"), *records[4:]], 3)
    inside = Checkpoint(10, altered[-1].hash)  # the forger updated the table's checkpoint too
    assert verify(altered, inside) == []
    verifier = ChainVerifier([("checkpoint", inside), ("last verified point", outside)])
    verifier.feed(altered[:5])
    verifier.feed(altered[5:])
    problems = verifier.finish()
    assert kinds(problems) == ["checkpoint"] and problems[0].id == 8
    assert verifier.count == 10


def test_record_named_by_a_checkpoint_missing_in_the_middle() -> None:
    records = chain(10)
    rest = rehash_from([*records[:5], *records[6:]], 5)
    rest = [dataclasses.replace(r, id=r.id) for r in rest]
    problems = verify(rest, Checkpoint(6, records[5].hash))
    assert "removed" in kinds(problems)

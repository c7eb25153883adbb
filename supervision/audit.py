"""The audit trail's hash chain (审计链). Pure code.

Every record of `audit_log` carries the SHA-256 of its canonical JSON, which includes the hash
of the record before it (`prev_hash`; the first record's is 64 zeros). Changing a past record
changes its hash, which no longer matches the stored one; removing a record breaks the link of
the record after it; removing the newest records is caught against a checkpoint kept outside
the table (supervision/audit_store.py).

Canonical JSON: the record's fields (id, at, actor_id, subject, action, from_state, to_state,
reason, data, prev_hash), keys sorted, no spaces, UTF-8 (not \\u-escaped); `at` in UTC with
microseconds ("2026-11-30T13:10:00.000000Z", PostgreSQL's precision); numbers as PostgreSQL's
jsonb gives them back (an integral float is written as an integer: jsonb may return 1e20 as
100000000000000000000). `normalise(data)` makes the stored `data` read back exactly as hashed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64
FIELDS = ("id", "at", "actor_id", "subject", "action", "from_state", "to_state", "reason",
          "data", "prev_hash")


def normalise(value: Any) -> Any:
    """`value` as plain JSON data that survives a jsonb round trip unchanged: string keys,
    lists for tuples/sets, ISO text for dates, integral floats as integers, NaN/inf as None."""
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((normalise(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def iso_at(at: datetime) -> str:
    """The record's time as hashed: UTC, microseconds, a Z."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor_id: int | None
    subject: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str
    data: Any
    prev_hash: str
    hash: str = ""  # as stored; empty for a record not yet hashed

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditRecord:
        values = {name: row[name] for name in (*FIELDS, "hash")}
        if isinstance(values["data"], str):  # a connection without the jsonb codec
            values["data"] = json.loads(values["data"])
        return cls(**values)


def canonical(record: AuditRecord) -> bytes:
    body = {
        "id": record.id, "at": iso_at(record.at), "actor_id": record.actor_id,
        "subject": record.subject, "action": record.action, "from_state": record.from_state,
        "to_state": record.to_state, "reason": record.reason, "data": normalise(record.data),
        "prev_hash": record.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def record_hash(record: AuditRecord) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing `verify` found wrong. kind: changed (the record's content no longer gives its
    hash), removed (records missing before `id`: its prev_hash links to no record present),
    tail_removed (the newest records are gone: the checkpoint names a record not there),
    checkpoint (the checkpoint itself disagrees with the chain)."""

    kind: str
    id: int | None
    detail: str


@dataclass(frozen=True)
class Checkpoint:
    last_id: int
    last_hash: str


class ChainVerifier:
    """Checks records fed in id order, in batches (`feed`), then `finish`. Holds only the last
    record's id and hash, so a chain of any length is checked in constant memory.

    Checkpoints (name, Checkpoint) each name the newest record at some earlier time: that
    record must still be there with the same hash. This catches the removal of the newest
    records, and a chain recomputed by hand from an altered record onward."""

    def __init__(self, checkpoints: Iterable[tuple[str, Checkpoint | None]] = ()) -> None:
        self.count = 0
        self.last_id = 0
        self.last_hash = GENESIS_HASH
        self.problems: list[Problem] = []
        self._checkpoints = {}
        for name, point in checkpoints:
            if point is not None and point.last_id > 0:
                self._checkpoints.setdefault(point.last_id, []).append((name, point))
        self._seen: set[int] = set()

    def feed(self, records: Iterable[AuditRecord]) -> None:
        for record in records:
            self._check(record)
            self.last_id, self.last_hash = record.id, record.hash

    def _check(self, record: AuditRecord) -> None:
        self.count += 1
        if record_hash(record) != record.hash:
            self.problems.append(Problem(
                "changed", record.id,
                f"record {record.id} ({record.subject} {record.action}) does not hash to its "
                "stored hash: its content was changed"))
        if record.prev_hash != self.last_hash:
            missing = (f"ids {self.last_id + 1}..{record.id - 1} are missing"
                       if record.id > self.last_id + 1 else "no id is missing")
            self.problems.append(Problem(
                "removed", record.id,
                f"record {record.id} does not link to the record before it "
                f"(id {self.last_id or 'none'}): a record was removed or rewritten ({missing})"))
        elif record.id != self.last_id + 1:
            self.problems.append(Problem(
                "removed", record.id,
                f"ids {self.last_id + 1}..{record.id - 1} are missing before record {record.id}"))
        for name, point in self._checkpoints.get(record.id, ()):
            self._seen.add(record.id)
            if point.last_hash != record.hash:
                self.problems.append(Problem(
                    "checkpoint", record.id,
                    f"the {name} holds another hash for record {record.id}: the chain was "
                    "rewritten from there or before"))

    def finish(self) -> list[Problem]:
        """Every problem found (an empty list: the chain is intact)."""
        for point_id, named in sorted(self._checkpoints.items()):
            if point_id in self._seen:
                continue
            for name, _ in named:
                if point_id > self.last_id:
                    self.problems.append(Problem(
                        "tail_removed", point_id,
                        f"the {name} names record {point_id} but the chain ends at "
                        f"{self.last_id or 'nothing'}: the newest records were removed"))
                else:
                    self.problems.append(Problem(
                        "removed", point_id,
                        f"record {point_id}, named by the {name}, is missing"))
        return list(self.problems)


def verify(records: Iterable[AuditRecord], checkpoint: Checkpoint | None = None) -> list[Problem]:
    """Every problem of a whole chain given in id order (an empty list: intact)."""
    verifier = ChainVerifier([("checkpoint", checkpoint)])
    verifier.feed(records)
    return verifier.finish()


def seal(record: AuditRecord) -> AuditRecord:
    """The record with its hash filled in."""
    return AuditRecord(**{**{f: getattr(record, f) for f in FIELDS}, "hash": record_hash(record)})

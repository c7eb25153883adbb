"""A durable local spool for raw MQTT messages while PostgreSQL is unreachable.

When a batch cannot be written, its raw messages go to an SQLite file (WAL, synchronous=FULL:
on disk before the call returns) and are acknowledged to the broker: the broker's queue for
this client is bounded (Mosquitto's max_queued_messages drops QoS 1 messages beyond it), the
local disk is not. Once PostgreSQL answers again the worker feeds the spooled messages through
the same pipeline, oldest first, and deletes them only after they are stored: a crash in
between replays them, and the unique key (device, ts, seq) makes that harmless.

sqlite3 is blocking: calls go through asyncio.to_thread; a spool is used by one worker.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from telemetry.model import RawMessage


class Spool:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS spooled (
                   id INTEGER PRIMARY KEY AUTOINCREMENT,
                   topic TEXT NOT NULL, payload BLOB NOT NULL, received_ms INTEGER NOT NULL)"""
        )
        self.depth = self._count()

    def _count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM spooled").fetchone()[0]

    def append(self, messages: list[RawMessage]) -> None:
        """Durable when it returns."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO spooled (topic, payload, received_ms) VALUES (?, ?, ?)",
                [(m.topic, m.payload, m.received_ms) for m in messages],
            )
            self._db.execute("COMMIT")
            self.depth += len(messages)

    def peek(self, limit: int) -> list[tuple[int, RawMessage]]:
        """The oldest spooled messages (as QoS 0: there is nothing left to acknowledge)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, payload, received_ms FROM spooled ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [(r[0], RawMessage(r[1], bytes(r[2]), r[3])) for r in rows]

    def delete_through(self, last_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM spooled WHERE id <= ?", (last_id,))
            self.depth = self._db.execute("SELECT count(*) FROM spooled").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""Prometheus metrics of one ingest worker, served at http://{host}:{port}/metrics.

Each worker has its own registry (several can live in one test process); scrape each worker
(one port per process, FLEET_INGEST_METRICS_PORT) and sum in Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

_BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86_400)


class IngestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter("fleet_ingest_messages", "MQTT messages received", registry=r)
        self.positions_stored = Counter(
            "fleet_ingest_positions_stored", "Positions stored as new rows", registry=r)
        self.duplicates = Counter(
            "fleet_ingest_positions_duplicate", "Positions already stored (redelivery, repeat)",
            registry=r)
        self.rejected = Counter(
            "fleet_ingest_rejected", "Messages or positions refused, by reason (dead letters)",
            ["reason"], registry=r)
        self.status_changes = Counter(
            "fleet_ingest_status_changes", "Device online/offline changes", ["status", "reason"],
            registry=r)
        self.batch_size = Histogram(
            "fleet_ingest_batch_messages", "Messages per batch", buckets=_BATCH_BUCKETS, registry=r)
        self.stage_seconds = Histogram(
            "fleet_ingest_stage_seconds", "Time spent per batch in each pipeline stage", ["stage"],
            buckets=_SECONDS_BUCKETS, registry=r)
        self.stage_errors = Counter(
            "fleet_ingest_stage_errors", "Pipeline stage failures (logged; no position lost)",
            ["stage"], registry=r)
        self.lag = Histogram(
            "fleet_ingest_lag_seconds", "Now minus device time when a position is stored",
            buckets=_LAG_BUCKETS, registry=r)
        self.write_retries = Counter(
            "fleet_ingest_write_retries", "Database writes retried", registry=r)
        self.spooled = Counter(
            "fleet_ingest_spooled_messages", "Messages written to the local spool", registry=r)
        self.motion_recomputed = Counter(
            "fleet_ingest_motion_recomputed", "Trip recomputations for data older than the window",
            registry=r)
        self.queue_depth = Gauge(
            "fleet_ingest_queue_depth", "Messages received and not yet processed", registry=r)
        self.spool_depth = Gauge(
            "fleet_ingest_spool_depth", "Messages waiting in the local spool", registry=r)

    def watch(self, queue_depth: Callable[[], int], spool_depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(queue_depth)
        self.spool_depth.set_function(spool_depth)

    def serve(self, host: str, port: int):  # noqa: ANN201 (prometheus_client's server, thread)
        return start_http_server(port, addr=host, registry=self.registry)

"""Prometheus metrics.

Design (documented in docs/runbook.md): web counters and histograms live in each process's
registry; when ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn with several workers, see
gunicorn.conf.py) prometheus-client's multiprocess mode aggregates them across workers. Everything
that describes shared state — live SUNAT jobs by status, oldest pending age, unsettled documents,
SUNAT exchanges of the last hour by operation, outcome and return code (from the attempt history
every worker writes), worker heartbeats — is computed from the database at scrape time by
:class:`DatabaseCollector`, so it is right no matter which process answers the scrape and no
matter which process (web or worker) changed the data. Each of its reads is bounded by live rows
or by a time window on an index (``ops.selectors``), so a scrape costs the same after years.

Helper other apps call: ``process_memory_observed(component=...)`` — each web process sets its
RSS gauge; workers report theirs with their heartbeat.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

MULTIPROC = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "bodegapos_http_request_duration_seconds",
    "Latency of HTTP requests by route (checkout has its own route label).",
    ["method", "route"],
    buckets=_BUCKETS,
)
CHECKOUT_LATENCY = Histogram(
    "bodegapos_checkout_duration_seconds",
    "Latency of POST /api/v1/checkout.",
    ["status"],
    buckets=_BUCKETS,
)
REQUESTS = Counter("bodegapos_http_requests", "HTTP responses by route and status class.", ["route", "status"])
ERRORS = Counter("bodegapos_http_errors", "HTTP 5xx responses by route.", ["route"])
POOL_EXHAUSTED = Counter(
    "bodegapos_db_pool_exhausted", "Requests answered 503 because no pooled connection came in time."
)
POOL_SIZE = Gauge(
    "bodegapos_db_pool_connections",
    "Connections held by this process's pool.",
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge("bodegapos_db_pool_in_use", "Pooled connections lent out right now.", multiprocess_mode="livesum")
POOL_WAITING = Gauge(
    "bodegapos_db_pool_waiting", "Requests waiting for a pooled connection.", multiprocess_mode="livesum"
)
PROCESS_RSS = Gauge(
    "bodegapos_process_resident_memory_bytes",
    "Resident memory of each web and worker process.",
    ["component", "pid"],
    multiprocess_mode="liveall",
)

CHECKOUT_PATH = "/api/v1/checkout"
_last_pool_sample = 0.0


def route_label(request: Any) -> str:
    """A low-cardinality route: the URL pattern's route (``pos/receipts/<int:pk>/``), never
    the raw path."""
    if request.path == CHECKOUT_PATH:
        return "checkout"
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return match.route
    if request.path.startswith("/static/"):
        return "static"
    return "unmatched"


def request_observed(*, method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(method=method, route=route).observe(seconds)
    REQUESTS.labels(route=route, status=f"{status // 100}xx").inc()
    if status >= 500:
        ERRORS.labels(route=route).inc()
    if route == "checkout":
        CHECKOUT_LATENCY.labels(status=str(status)).observe(seconds)
    pool_observed()


def pool_observed(*, force: bool = False) -> dict[str, int]:
    """Sample the default alias's pool (at most once a second unless ``force``)."""
    global _last_pool_sample
    now = time.monotonic()
    if not force and now - _last_pool_sample < 1.0:
        return {}
    _last_pool_sample = now
    try:
        process_memory_observed(component="web")
    except Exception:
        pass
    stats = pool_stats()
    if stats:
        POOL_SIZE.set(stats.get("pool_size", 0))
        POOL_IN_USE.set(max(0, stats.get("pool_size", 0) - stats.get("pool_available", 0)))
        POOL_WAITING.set(stats.get("requests_waiting", 0))
    return stats


def pool_stats() -> dict[str, int]:
    """``connection.pool.get_stats()`` of the default alias, or ``{}`` before the pool opens."""
    from django.db import connection

    pool = getattr(connection, "_connection_pools", {}).get(connection.alias)
    if pool is None:
        return {}
    try:
        return dict(pool.get_stats())
    except Exception:
        return {}


def process_memory_observed(*, component: str) -> int:
    """Set this process's RSS gauge (``component`` is ``web`` or ``worker``); return bytes."""
    import psutil

    rss = psutil.Process().memory_info().rss
    PROCESS_RSS.labels(component=component, pid=str(os.getpid())).set(rss)
    return rss


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def _labelled(name: str, documentation: str, labels: list[str], values: dict) -> GaugeMetricFamily:
    """A gauge family with one sample per ``values`` item (key: a label value or a tuple of them)."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, value in values.items():
        family.add_metric([k or "-" for k in (key if isinstance(key, tuple) else (key,))], value)
    return family


class DatabaseCollector:
    """Gauges computed from the database at scrape time (shared state, any process)."""

    def collect(self):
        from ops.health import worker_is_live, worker_stale_after_seconds
        from ops.selectors import metrics_snapshot

        up = "1 when the scrape could read the database."
        try:
            snap = metrics_snapshot()
        except Exception:  # a scrape must still answer with process metrics
            yield _gauge("bodegapos_database_up", up, 0)
            return
        yield _gauge("bodegapos_database_up", up, 1)
        yield _labelled(
            "bodegapos_sunat_jobs",
            "Live SUNAT jobs by status (finished ones are history).",
            ["status"],
            snap["jobs_by_status"],
        )
        yield _gauge(
            "bodegapos_sunat_oldest_pending_seconds",
            "Age of the oldest due pending SUNAT job (0 when none).",
            snap["oldest_pending_seconds"],
        )
        yield _labelled(
            "bodegapos_sunat_documents_unsettled",
            "SUNAT documents not yet settled by SUNAT (pending, error): live rows, not the history.",
            ["status"],
            snap["documents_unsettled"],
        )
        yield _gauge(
            "bodegapos_sunat_documents_unsent_after_24h",
            "Pending SUNAT documents issued more than 24 h ago.",
            snap["documents_unsent_after_24h"],
        )
        yield _labelled(
            "bodegapos_sunat_exchanges_last_hour",
            "Exchanges with SUNAT started in the last hour by operation, outcome and SUNAT return code "
            "(the workers' attempt history).",
            ["operation", "outcome", "code"],
            snap["exchanges_recent"],
        )
        yield _labelled(
            "bodegapos_worker_heartbeat_age_seconds",
            "Seconds since each SUNAT worker's last heartbeat.",
            ["worker"],
            snap["worker_heartbeats"],
        )
        yield _labelled(
            "bodegapos_worker_jobs_lost",
            "Jobs each live SUNAT worker could not finish (lease lost, finish refused, an exception "
            "escaped its slot) since it started; the reaper recovers them.",
            ["worker"],
            snap["worker_jobs_lost"],
        )
        stale_after = worker_stale_after_seconds()
        yield _gauge(
            "bodegapos_workers_live",
            f"Workers with a heartbeat in the last {stale_after} s (the deep health's rule).",
            sum(1 for age in snap["worker_heartbeats"].values() if worker_is_live(age_seconds=age)),
        )
        if snap["worker_rss"]:
            yield _labelled(
                "bodegapos_worker_resident_memory_bytes",
                "RSS the worker reported with its heartbeat.",
                ["worker"],
                snap["worker_rss"],
            )
        yield _gauge(
            "bodegapos_sunat_voids_rejected",
            "Voids (RA/RC) SUNAT rejected that nobody has settled since.",
            snap["voids_rejected"],
        )
        yield _gauge(
            "bodegapos_cash_sessions_open_over_24h",
            "Registers whose cash session is open longer than 24 h.",
            snap["cash_sessions_open_long"],
        )
        yield _gauge("bodegapos_db_connections", "Server connections (pg_stat_activity).", snap["db_connections"])
        yield _gauge("bodegapos_db_max_connections", "PostgreSQL max_connections.", snap["db_max_connections"])


def metrics_payload() -> tuple[bytes, str]:
    """Render every metric for one scrape."""
    process_memory_observed(component="web")
    pool_observed(force=True)
    registry = CollectorRegistry()
    if MULTIPROC:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
        if not getattr(REGISTRY, "_bodegapos_db", False):
            REGISTRY.register(DatabaseCollector())
            REGISTRY._bodegapos_db = True  # type: ignore[attr-defined]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    registry.register(DatabaseCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST

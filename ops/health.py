"""The deep health check behind ``GET /health?deep=true``.

``down`` (HTTP 503) only for what makes the till unusable on this instance: the database round
trip and unapplied migrations. Everything else (SUNAT backlog, no live worker, paused companies,
certificates close to expiry, connections above 80 % of the limit, voids SUNAT rejected, cash
sessions open longer than 24 h) is ``degraded`` (HTTP 200):
pulling web instances out of a load balancer for a SUNAT outage would turn it into a POS outage.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from ops import selectors

OK, DEGRADED, DOWN = "ok", "degraded", "down"
_migrations_ok = False  # cached per process once positive: reading the graph is not free


def check_database() -> dict[str, Any]:
    """``SELECT 1`` inside a transaction with ``SET LOCAL statement_timeout`` (PgBouncer-safe)."""
    started = time.perf_counter()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = '2s'")
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception as exc:
        return {"status": DOWN, "error": type(exc).__name__}
    return {"status": OK, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def check_migrations() -> dict[str, Any]:
    global _migrations_ok
    if _migrations_ok:
        return {"status": OK, "unapplied": 0, "cached": True}
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return {"status": DOWN, "error": type(exc).__name__}
    if plan:
        return {"status": DOWN, "unapplied": len(plan), "first": f"{plan[0][0].app_label}.{plan[0][0].name}"}
    _migrations_ok = True
    return {"status": OK, "unapplied": 0}


def check_pool() -> dict[str, Any]:
    from ops.metrics import pool_stats

    stats = pool_stats()
    result: dict[str, Any] = {"status": OK}
    if stats:
        result.update(
            size=stats.get("pool_size", 0),
            available=stats.get("pool_available", 0),
            waiting=stats.get("requests_waiting", 0),
            max_size=stats.get("pool_max", settings.DATABASES["default"]["OPTIONS"].get("pool", {}).get("max_size")),
        )
    try:
        conns = selectors.database_connections()
    except Exception as exc:
        result.update(status=DEGRADED, error=type(exc).__name__)
        return result
    ratio = conns["connections"] / conns["max_connections"] if conns["max_connections"] else 0
    result.update(
        server_connections=conns["connections"],
        max_connections=conns["max_connections"],
        usage_percent=round(ratio * 100, 1),
    )
    if ratio > selectors.CONNECTIONS_ALERT_RATIO:
        result["status"] = DEGRADED
        result["reason"] = "conexiones por encima del 80 % del límite"
    return result


def check_sunat_queue() -> dict[str, Any]:
    try:
        q = selectors.sunat_queue_summary()
    except Exception as exc:
        return {"status": DEGRADED, "error": type(exc).__name__}
    q.pop("by_status", None)
    reasons = []
    if q["pending"] > selectors.QUEUE_PENDING_ALERT:
        reasons.append("más de 100 pendientes")
    if q["oldest_pending_seconds"] > selectors.OLDEST_PENDING_ALERT_SECONDS:
        reasons.append("pendiente más antiguo supera 15 min")
    if q["dead"] or q["failed"]:
        reasons.append("trabajos agotados o que requieren corrección")
    if q["paused_companies"]:
        reasons.append("empresas con envíos pausados")
    if q["unsent_after_24h"]:
        reasons.append("comprobantes sin enviar después de 24 h")
    if q["facturas_near_limit"] or q["facturas_past_limit"]:
        reasons.append("facturas cerca del plazo de 3 días")
    if q["voids_rejected"]:
        reasons.append("anulaciones rechazadas por SUNAT: revíselas en el admin")
    return {"status": DEGRADED if reasons else OK, **q, **({"reasons": reasons} if reasons else {})}


def worker_stale_after_seconds() -> int:
    return int(max(60, 3 * float(getattr(settings, "SUNAT_POLL_INTERVAL", 10))))


def worker_is_live(*, age_seconds: float) -> bool:
    """The one rule of a live SUNAT worker (deep health, ``monitor_db``, ``/metrics``): its last
    heartbeat is at most :func:`worker_stale_after_seconds` old."""
    return age_seconds <= worker_stale_after_seconds()


def check_worker() -> dict[str, Any]:
    try:
        beats = selectors.worker_heartbeats()
    except Exception as exc:
        return {"status": DEGRADED, "error": type(exc).__name__}
    limit = worker_stale_after_seconds()
    live = {name: b["age_seconds"] for name, b in beats.items() if worker_is_live(age_seconds=b["age_seconds"])}
    youngest = min((b["age_seconds"] for b in beats.values()), default=None)
    result: dict[str, Any] = {
        "live_workers": len(live),
        "heartbeat_age_seconds": youngest,
        "stale_after_seconds": limit,
    }
    if not live:
        return {"status": DEGRADED, "reason": "no hay worker SUNAT activo", **result}
    return {"status": OK, **result}


def check_certificate() -> dict[str, Any]:
    try:
        rows = selectors.certificate_status()
    except Exception as exc:
        return {"status": DEGRADED, "error": type(exc).__name__}
    known = [r["days_left"] for r in rows if r["days_left"] is not None]
    result: dict[str, Any] = {"companies": rows, "min_days_left": min(known, default=None)}
    if any(r["days_left"] is None for r in rows):
        return {"status": DEGRADED, "reason": "empresa sin certificado", **result}
    if known and min(known) < selectors.CERTIFICATE_WARN_DAYS:
        return {"status": DEGRADED, "reason": "certificado vence en menos de 30 días", **result}
    return {"status": OK, **result}


def check_cash_sessions() -> dict[str, Any]:
    """Registers whose cash session is open longer than 24 h: a shift nobody closed."""
    try:
        open_long = selectors.cash_sessions_open_long()
    except Exception as exc:
        return {"status": DEGRADED, "error": type(exc).__name__}
    if open_long:
        return {"status": DEGRADED, "reason": "cajas con turno abierto hace más de 24 h", "registers": open_long}
    return {"status": OK, "registers": []}


def health_deep() -> tuple[str, dict[str, Any]]:
    """Run every check; return ``(overall status, checks)``. Never raises."""
    checks: dict[str, Any] = {"database": check_database()}
    if checks["database"]["status"] == DOWN:
        checks["migrations"] = {"status": DOWN, "error": "sin base de datos"}
        return DOWN, checks
    checks["migrations"] = check_migrations()
    checks["pool"] = check_pool()
    checks["sunat_queue"] = check_sunat_queue()
    checks["worker"] = check_worker()
    checks["certificate"] = check_certificate()
    checks["cash_sessions"] = check_cash_sessions()
    if checks["migrations"]["status"] == DOWN:
        return DOWN, checks
    overall = DEGRADED if any(c["status"] != OK for c in checks.values()) else OK
    return overall, checks

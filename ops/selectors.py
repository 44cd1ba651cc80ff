"""Reads for health, metrics and monitor_db. Every query here is one short statement; nothing
holds a session-level setting (PgBouncer transaction mode safe)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import connection
from django.utils import timezone

# The seed's alert thresholds (S10 "Métricas a monitorear"), in one place.
QUEUE_PENDING_ALERT = 100
CONNECTIONS_ALERT_RATIO = 0.80
CHECKOUT_LATENCY_ALERT_SECONDS = 3.0
ERROR_RATE_ALERT = 0.01
MEMORY_ALERT_BYTES = 512 * 1024 * 1024
# Ours, derived from SUNAT's rules and the retry schedule.
OLDEST_PENDING_ALERT_SECONDS = 15 * 60
UNSENT_AFTER = timedelta(hours=24)
# A factura must reach SUNAT within 3 calendar days of issue; warn after 2.
FACTURA_LIMIT = timedelta(days=3)
FACTURA_WARN_AFTER = timedelta(days=2)
CERTIFICATE_WARN_DAYS = 30
# A register's cash session open longer than this is a shift somebody forgot to close.
SESSION_OPEN_ALERT = timedelta(hours=24)


def _db_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


# Every read below is bounded by what is live or recent, never by history: each one's WHERE
# clause is written with literal constants matching a partial index of ops migration 0002 (a bound
# parameter would keep a generic plan from using the partial index), or a time window on an
# indexed column. docs/performance.md ("/metrics on a year of data") has their plans.
LIVE_JOBS_SQL = "SELECT status, count(*) FROM sunat_jobs WHERE status NOT IN ('done', 'discarded') GROUP BY status"
OLDEST_DUE_SQL = "SELECT min(created_at) FROM sunat_jobs WHERE status = 'pending' AND run_at <= now()"
UNSETTLED_DOCUMENTS_SQL = """
    SELECT count(*) FILTER (WHERE status = 'pending'),
           count(*) FILTER (WHERE status = 'error'),
           count(*) FILTER (WHERE status = 'pending' AND issued_at < now() - %(unsent)s),
           count(*) FILTER (WHERE document_type = '01' AND issued_at < now() - %(warn)s AND issued_at >= now() - %(limit)s),
           count(*) FILTER (WHERE document_type = '01' AND issued_at < now() - %(limit)s)
    FROM sunat_sunatdocument WHERE status IN ('pending', 'error')"""
# Voids (RA / RC) SUNAT rejected whose original has no accepted void since: each needs a person
# (ops migration 0003's partial index; the subquery reads the original's few voids).
VOIDS_REJECTED_SQL = """
    SELECT count(*) FROM sunat_sunatdocument v
    WHERE v.document_type IN ('RA', 'RC') AND v.status = 'rejected'
      AND NOT EXISTS (
          SELECT 1 FROM sunat_sunatdocument a
          WHERE a.original_id = v.original_id AND a.document_type IN ('RA', 'RC')
            AND a.status IN ('accepted', 'observed'))"""
# Open cash sessions (the partial unique index on open sessions holds only them).
SESSIONS_OPEN_LONG_SQL = """
    SELECT st.code, r.code, s.opened_at FROM sales_cashsession s
    JOIN stores_store st ON st.id = s.store_id JOIN stores_register r ON r.id = s.register_id
    WHERE s.status = 'open' AND s.opened_at < now() - %(after)s
    ORDER BY s.opened_at LIMIT 50"""
# The exchanges of the last METRICS_WINDOW (index on started_at): a window, not a sum over the
# history, which the retention loop deletes from anyway.
METRICS_WINDOW = timedelta(hours=1)
RECENT_EXCHANGES_SQL = """
    SELECT operation, category, code, count(*) FROM sunat_sunatattempt
    WHERE started_at >= now() - %(window)s GROUP BY operation, category, code"""


def _rows(sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def sunat_live_jobs() -> dict[str, int]:
    """Jobs by status, live statuses only (pending, running, paused, failed, dead): finished and
    discarded jobs are history (purged after ``SUNAT_JOB_RETENTION_DAYS``)."""
    return dict(_rows(LIVE_JOBS_SQL))


def sunat_unsettled_documents() -> dict[str, int]:
    """Documents SUNAT has not settled (``pending``, ``error``) and those late among them."""
    pending, error, unsent, near, past = _rows(
        UNSETTLED_DOCUMENTS_SQL, {"unsent": UNSENT_AFTER, "warn": FACTURA_WARN_AFTER, "limit": FACTURA_LIMIT}
    )[0]
    return {
        "pending": pending,
        "error": error,
        "unsent_after_24h": unsent,
        "facturas_near_limit": near,
        "facturas_past_limit": past,
    }


def sunat_voids_rejected() -> int:
    """Voids SUNAT rejected that nobody has settled since (no accepted void of the same original)."""
    return _rows(VOIDS_REJECTED_SQL)[0][0]


def cash_sessions_open_long() -> list[dict[str, Any]]:
    """Registers whose cash session has been open longer than ``SESSION_OPEN_ALERT`` (oldest first)."""
    return [
        {"store": store, "register": register, "opened_at": opened_at.isoformat(timespec="seconds")}
        for store, register, opened_at in _rows(SESSIONS_OPEN_LONG_SQL, {"after": SESSION_OPEN_ALERT})
    ]


def sunat_queue_summary() -> dict[str, Any]:
    """Pending count, oldest pending age, dead and failed jobs, paused companies, documents
    unsent after 24 h and facturas close to SUNAT's 3-day limit."""
    from sunat.selectors import sunat_paused_company_count

    now = _db_now()
    by_status = sunat_live_jobs()
    (oldest,) = _rows("SELECT min(created_at) FROM sunat_jobs WHERE status = 'pending'")[0]
    documents = sunat_unsettled_documents()
    return {
        "pending": by_status.get("pending", 0),
        "running": by_status.get("running", 0),
        "dead": by_status.get("dead", 0),
        "failed": by_status.get("failed", 0),
        "paused": by_status.get("paused", 0),
        "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "paused_companies": sunat_paused_company_count(),
        "unsent_after_24h": documents["unsent_after_24h"],
        "facturas_near_limit": documents["facturas_near_limit"],
        "facturas_past_limit": documents["facturas_past_limit"],
        "voids_rejected": sunat_voids_rejected(),
        "by_status": by_status,
    }


def _heartbeat_model():
    try:
        return apps.get_model("worker", "WorkerHeartbeat")
    except LookupError:
        return None


def _first_field(model, names: tuple[str, ...]) -> str | None:
    fields = {f.name for f in model._meta.get_fields()}
    return next((n for n in names if n in fields), None)


def worker_heartbeats() -> dict[str, dict[str, Any]]:
    """``{worker name: {"age_seconds", "rss_bytes", "jobs_lost"}}`` of the ``worker.WorkerHeartbeat`` rows
    not stopped, live or dead: a worker that died keeps its row, ever older. Which are live is
    ``ops.health.check_worker``'s rule (age within ``worker_stale_after_seconds()``), the one
    ``/health?deep=true`` and ``monitor_db`` apply. Empty when the worker app has no such model yet
    (no live worker)."""
    model = _heartbeat_model()
    if model is None:
        return {}
    beat_field = _first_field(model, ("beat_at", "last_beat_at", "heartbeat_at", "seen_at", "updated_at"))
    if beat_field is None:
        return {}
    name_field = _first_field(model, ("name", "worker", "worker_id", "identity", "hostname"))
    rss_field = _first_field(model, ("rss_bytes", "memory_bytes", "rss"))
    now = _db_now()
    result: dict[str, dict[str, Any]] = {}
    for row in model.objects.order_by(f"-{beat_field}")[:50]:
        name = str(getattr(row, name_field)) if name_field else str(row.pk)
        beat = getattr(row, beat_field)
        if beat is None or getattr(row, "stopped_at", None) is not None:
            continue  # a worker that exited cleanly is not a live one
        result[name] = {
            "age_seconds": max(0, int((now - beat).total_seconds())),
            "rss_bytes": int(getattr(row, rss_field) or 0) if rss_field else None,
            "jobs_lost": int(getattr(row, "jobs_lost", 0) or 0),
        }
    return result


def certificate_status() -> list[dict[str, Any]]:
    """Days to expiry of each company's signing certificate (no secrets: RUC and dates only)."""
    from sunat.selectors import sunat_certificate_expiries

    today = timezone.now()
    rows = []
    for ruc, expires in sunat_certificate_expiries(limit=200):
        days = None if expires is None else int((expires - today).total_seconds() // 86400)
        rows.append({"ruc": ruc, "expires_at": expires.isoformat() if expires else None, "days_left": days})
    return rows


def database_connections() -> dict[str, int]:
    """Server connections to this cluster and ``max_connections``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'active'), "
            "current_setting('max_connections')::int FROM pg_stat_activity WHERE backend_type = 'client backend'"
        )
        total, active, limit = cursor.fetchone()
    return {"connections": total, "active": active, "max_connections": limit}


def metrics_snapshot() -> dict[str, Any]:
    """What one ``/metrics`` scrape reads from the database: six short statements, each bounded
    by live rows or by ``METRICS_WINDOW`` (never by the history of documents or exchanges)."""
    from sunat.models import JobStatus

    now = _db_now()
    by_status = {s: 0 for s in JobStatus.values if s not in (JobStatus.DONE, JobStatus.DISCARDED)}
    by_status.update(sunat_live_jobs())
    (oldest,) = _rows(OLDEST_DUE_SQL)[0]
    documents = sunat_unsettled_documents()
    exchanges = {
        (operation, category, code): n
        for operation, category, code, n in _rows(RECENT_EXCHANGES_SQL, {"window": METRICS_WINDOW})
    }
    beats = worker_heartbeats()
    conns = database_connections()
    return {
        "jobs_by_status": by_status,
        "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "documents_unsettled": {"pending": documents["pending"], "error": documents["error"]},
        "documents_unsent_after_24h": documents["unsent_after_24h"],
        "exchanges_recent": exchanges,
        "worker_heartbeats": {k: v["age_seconds"] for k, v in beats.items()},
        "worker_rss": {k: v["rss_bytes"] for k, v in beats.items() if v.get("rss_bytes")},
        "worker_jobs_lost": {k: v["jobs_lost"] for k, v in beats.items()},
        "db_connections": conns["connections"],
        "db_max_connections": conns["max_connections"],
        "voids_rejected": sunat_voids_rejected(),
        "cash_sessions_open_long": len(cash_sessions_open_long()),
    }

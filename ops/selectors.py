"""Reads for health, metrics and monitor_db. Every query here is one short statement; nothing
holds a session-level setting (PgBouncer transaction mode safe)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Count, Min
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


def _db_now():  # noqa: ANN202
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def sunat_queue_summary() -> dict[str, Any]:
    """Pending count, oldest pending age, dead and failed jobs, paused companies, documents
    unsent after 24 h and facturas close to SUNAT's 3-day limit."""
    from sunat.models import DocumentStatus, JobStatus, SunatDocument, SunatJob
    from sunat.selectors import sunat_paused_company_count

    now = _db_now()
    by_status = dict(SunatJob.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    oldest = SunatJob.objects.filter(status=JobStatus.PENDING).aggregate(m=Min("created_at"))["m"]
    unsent = SunatDocument.objects.filter(status=DocumentStatus.PENDING, issued_at__lt=now - UNSENT_AFTER)
    facturas = SunatDocument.objects.filter(
        document_type="01",
        status__in=[DocumentStatus.PENDING, DocumentStatus.ERROR],
        issued_at__lt=now - FACTURA_WARN_AFTER,
    )
    return {
        "pending": by_status.get(JobStatus.PENDING, 0),
        "running": by_status.get(JobStatus.RUNNING, 0),
        "dead": by_status.get(JobStatus.DEAD, 0),
        "failed": by_status.get(JobStatus.FAILED, 0),
        "paused": by_status.get(JobStatus.PAUSED, 0),
        "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "paused_companies": sunat_paused_company_count(),
        "unsent_after_24h": unsent.count(),
        "facturas_near_limit": facturas.filter(issued_at__gte=now - FACTURA_LIMIT).count(),
        "facturas_past_limit": facturas.filter(issued_at__lt=now - FACTURA_LIMIT).count(),
        "by_status": by_status,
    }


def _heartbeat_model():  # noqa: ANN202
    try:
        return apps.get_model("worker", "WorkerHeartbeat")
    except LookupError:
        return None


def _first_field(model, names: tuple[str, ...]) -> str | None:  # noqa: ANN001
    fields = {f.name for f in model._meta.get_fields()}
    return next((n for n in names if n in fields), None)


def worker_heartbeats() -> dict[str, dict[str, Any]]:
    """``{worker name: {"age_seconds", "rss_bytes"}}`` from ``worker.WorkerHeartbeat`` rows; empty
    when the worker app has no such model yet (treated as "no live worker")."""
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
    from sunat.models import JobStatus, SunatAttempt, SunatDocument, SunatJob

    now = _db_now()
    by_status = {s: 0 for s in JobStatus.values}
    by_status.update(dict(SunatJob.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")))
    oldest = SunatJob.objects.filter(status=JobStatus.PENDING, run_at__lte=now).aggregate(m=Min("created_at"))["m"]
    docs = {
        (status, code): n
        for status, code, n in SunatDocument.objects.values_list("status", "response_code")
        .annotate(n=Count("id"))
        .values_list("status", "response_code", "n")
    }
    sends = {
        (operation, category, code): n
        for operation, category, code, n in SunatAttempt.objects.values_list("operation", "category", "code")
        .annotate(n=Count("id"))
        .values_list("operation", "category", "code", "n")
    }
    beats = worker_heartbeats()
    conns = database_connections()
    return {
        "jobs_by_status": by_status,
        "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "documents_by_status_code": docs,
        "sends_by_outcome_code": sends,
        "worker_heartbeats": {k: v["age_seconds"] for k, v in beats.items()},
        "worker_rss": {k: v["rss_bytes"] for k, v in beats.items() if v.get("rss_bytes")},
        "db_connections": conns["connections"],
        "db_max_connections": conns["max_connections"],
    }

"""``manage.py monitor_db [--json]``: the seed's ``scripts/monitor-db.ts``, with its alerts.

Prints connections vs ``max_connections``, slow queries (pg_stat_statements when installed),
the 10 largest tables, dead tuples on ``sunat_jobs``, the SUNAT backlog and the live SUNAT
workers; evaluates every seed alert threshold it can see from the database and exits 1 when one
fires (0 otherwise; 2 when the database cannot be reached).

A worker is live by the rule of ``/health?deep=true`` (``ops.health.check_worker``: a heartbeat
within ``worker_stale_after_seconds()``, not stopped); a heartbeat row that stopped beating
without ``stopped_at`` is a dead worker, listed under ``workers`` with its age but not counted.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ops import health, selectors

SLOW_QUERY_MS = 1000.0


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def slow_queries() -> dict[str, Any]:
    installed = _rows("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if not installed:
        return {
            "available": False,
            "note": "pg_stat_statements no está instalado: agregue shared_preload_libraries = "
            "'pg_stat_statements' y ejecute CREATE EXTENSION pg_stat_statements;",
            "count": None,
            "top": [],
        }
    try:
        count = _rows("SELECT count(*) FROM pg_stat_statements WHERE mean_exec_time > %s", [SLOW_QUERY_MS])[0][0]
        top = _rows(
            "SELECT left(query, 200), calls, round(mean_exec_time::numeric, 1) FROM pg_stat_statements "
            "ORDER BY mean_exec_time DESC LIMIT 5"
        )
    except Exception as exc:  # e.g. installed but not preloaded
        return {"available": False, "note": f"pg_stat_statements no responde: {exc}".strip(), "count": None, "top": []}
    return {
        "available": True,
        "count": count,
        "top": [{"query": q, "calls": c, "mean_ms": float(m)} for q, c, m in top],
    }


def table_sizes() -> list[dict[str, Any]]:
    return [
        {"table": name, "bytes": size, "pretty": pretty}
        for name, size, pretty in _rows(
            "SELECT relname, pg_total_relation_size(relid), pg_size_pretty(pg_total_relation_size(relid)) "
            "FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 10"
        )
    ]


def sunat_jobs_tuples() -> dict[str, Any]:
    row = _rows("SELECT n_live_tup, n_dead_tup, last_autovacuum FROM pg_stat_user_tables WHERE relname = 'sunat_jobs'")
    if not row:
        return {"live": 0, "dead": 0, "last_autovacuum": None}
    live, dead, vacuumed = row[0]
    return {"live": live, "dead": dead, "last_autovacuum": vacuumed.isoformat() if vacuumed else None}


def collect() -> dict[str, Any]:
    conns = selectors.database_connections()
    ratio = conns["connections"] / conns["max_connections"] if conns["max_connections"] else 0.0
    queue = selectors.sunat_queue_summary()
    queue.pop("by_status", None)
    report: dict[str, Any] = {
        "connections": {**conns, "usage_percent": round(ratio * 100, 1)},
        "slow_queries": slow_queries(),
        "tables": table_sizes(),
        "sunat_jobs_tuples": sunat_jobs_tuples(),
        "sunat_queue": queue,
        "workers": selectors.worker_heartbeats(),  # not stopped: live and dead, with their ages
        "worker": health.check_worker(),  # live_workers, stale_after_seconds
    }
    report["alerts"] = alerts(report)
    return report


def alerts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The seed's thresholds that the database can show (latency, error rate and memory come
    from /metrics; see docs/runbook.md)."""
    found: list[dict[str, Any]] = []
    conns = report["connections"]
    if conns["usage_percent"] > selectors.CONNECTIONS_ALERT_RATIO * 100:
        found.append(
            {
                "alert": "db_connections",
                "message": "Conexiones por encima del 80 % del límite",
                "value": conns["usage_percent"],
                "threshold": 80,
            }
        )
    queue = report["sunat_queue"]
    if queue["pending"] > selectors.QUEUE_PENDING_ALERT:
        found.append(
            {
                "alert": "sunat_queue",
                "message": "Cola SUNAT con más de 100 pendientes",
                "value": queue["pending"],
                "threshold": selectors.QUEUE_PENDING_ALERT,
            }
        )
    if queue["dead"] or queue["failed"]:
        found.append(
            {
                "alert": "sunat_dead_jobs",
                "message": "Trabajos SUNAT agotados o que requieren corrección",
                "value": queue["dead"] + queue["failed"],
                "threshold": 0,
            }
        )
    if queue["paused_companies"]:
        found.append(
            {
                "alert": "sunat_paused",
                "message": "Empresas con envíos SUNAT pausados",
                "value": queue["paused_companies"],
                "threshold": 0,
            }
        )
    if queue["facturas_near_limit"] or queue["facturas_past_limit"]:
        found.append(
            {
                "alert": "facturas_limit",
                "message": "Facturas sin aceptar cerca del plazo de 3 días",
                "value": queue["facturas_near_limit"] + queue["facturas_past_limit"],
                "threshold": 0,
            }
        )
    worker = report["worker"]
    if not worker.get("live_workers"):
        found.append(
            {
                "alert": "no_live_worker",
                "message": "Ningún worker SUNAT vivo: sin latido en los últimos "
                f"{worker.get('stale_after_seconds', health.worker_stale_after_seconds())} s",
                "value": worker.get("live_workers", 0),
                "threshold": 1,
            }
        )
    slow = report["slow_queries"]
    if slow.get("available") and slow.get("count"):
        found.append(
            {
                "alert": "slow_queries",
                "message": "Consultas con media mayor a 1 s",
                "value": slow["count"],
                "threshold": 0,
            }
        )
    tuples = report["sunat_jobs_tuples"]
    if tuples["dead"] > 10_000 and tuples["dead"] > tuples["live"]:
        found.append(
            {
                "alert": "sunat_jobs_bloat",
                "message": "sunat_jobs con más tuplas muertas que vivas",
                "value": tuples["dead"],
                "threshold": 10_000,
            }
        )
    return found


class Command(BaseCommand):
    help = "Diagnóstico de la base de datos y de la cola SUNAT; sale con 1 si una alerta se dispara."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="Un solo objeto JSON con una lista 'alerts'.")

    def handle(self, *args, **options) -> None:
        try:
            report = collect()
        except Exception as exc:
            raise CommandError(
                f"No se pudo leer la base de datos: {type(exc).__name__}: {exc}".splitlines()[0], returncode=2
            ) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report, default=str, ensure_ascii=False))
        else:
            self._print(report)
        if report["alerts"]:
            sys.exit(1)

    def _print(self, r: dict[str, Any]) -> None:
        w = self.stdout.write
        c = r["connections"]
        w(f"Conexiones: {c['connections']} de {c['max_connections']} ({c['usage_percent']} %), activas {c['active']}")
        s = r["slow_queries"]
        w(f"Consultas lentas (>1 s): {s['count']}" if s["available"] else f"Consultas lentas: {s['note']}")
        for q in s["top"]:
            w(f"  {q['mean_ms']} ms × {q['calls']}: {q['query'][:100]}")
        w("Tablas más grandes:")
        for t in r["tables"]:
            w(f"  {t['table']:<40} {t['pretty']}")
        t = r["sunat_jobs_tuples"]
        w(f"sunat_jobs: {t['live']} vivas, {t['dead']} muertas, último autovacuum {t['last_autovacuum']}")
        q = r["sunat_queue"]
        w(
            f"Cola SUNAT: {q['pending']} pendientes (más antiguo {q['oldest_pending_seconds']} s), {q['running']} en curso, "
            f"{q['dead']} agotados, {q['failed']} por corregir, {q['paused_companies']} empresas pausadas, "
            f"{q['unsent_after_24h']} sin enviar > 24 h, {q['facturas_near_limit']} facturas cerca del plazo"
        )
        live = r["worker"].get("live_workers", 0)
        w(
            f"Workers vivos: {live} (latido en los últimos {r['worker'].get('stale_after_seconds')} s), "
            f"{len(r['workers']) - live} sin latido reciente"
        )
        if r["alerts"]:
            for a in r["alerts"]:
                w(
                    self.style.ERROR(
                        f"ALERTA {a['alert']}: {a['message']} (valor {a['value']}, umbral {a['threshold']})"
                    )
                )
        else:
            w(self.style.SUCCESS("Sin alertas."))

"""``manage.py sunat_worker [--concurrency N] [--poll-interval S] [--burst]`` — drain sunat_jobs.

Exit codes: 0 after a clean stop (SIGTERM/SIGINT) or a drained ``--burst`` (dead, failed or
paused jobs are outcomes, not failures); 1 with one readable line when it cannot work (no
database, tables missing, bad options); a second signal exits at once with 1.
"""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from django.utils.module_loading import import_string

from worker.listen import default_connection_params
from worker.runner import Runner, RunnerConfig


def size_pool(*, concurrency: int) -> None:
    """Size this process's pool to concurrency + 2 before its first connection opens.

    One connection per slot thread, one for the main loop (claim, heartbeat, reaper) and one
    spare. The LISTEN connection is separate and direct.
    """
    db = settings.DATABASES["default"]
    pool = db.get("OPTIONS", {}).get("pool")
    if not pool:
        return
    pool = dict(pool) if isinstance(pool, dict) else {}
    pool["max_size"] = concurrency + 2
    pool["min_size"] = min(int(pool.get("min_size", 1) or 1), concurrency + 2)
    db["OPTIONS"]["pool"] = pool
    conn = connections["default"]
    if "default" in getattr(type(conn), "_connection_pools", {}):
        conn.close()
        conn.close_pool()  # opened too early by something: recreate with the new size


def preflight() -> None:
    """One direct connection, before the pool exists: fail fast with one line, not pool retries."""
    params = default_connection_params()
    params["connect_timeout"] = min(int(params.get("connect_timeout") or 10), 10)
    try:
        with psycopg.connect(**params) as conn:
            found = conn.execute("SELECT to_regclass('sunat_jobs') IS NOT NULL").fetchone()[0]
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CommandError(f"sin acceso a la base de datos: {first}") from None
    if not found:
        raise CommandError("la tabla sunat_jobs no existe: ejecute manage.py migrate")


class Command(BaseCommand):
    help = "Envía a SUNAT los trabajos pendientes de la cola sunat_jobs."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--concurrency", type=int, default=None, help="trabajos simultáneos (SUNAT_MAX_CONCURRENT_JOBS, 3)"
        )
        parser.add_argument(
            "--poll-interval", type=float, default=None, help="segundos entre sondeos (SUNAT_POLL_INTERVAL, 10)"
        )
        parser.add_argument("--burst", action="store_true", help="procesa lo pendiente y termina")
        parser.add_argument(
            "--grace", type=float, default=20.0, help="segundos para terminar envíos en curso al detenerse (20)"
        )
        parser.add_argument("--no-listen", action="store_true", help="solo sondeo, sin LISTEN/NOTIFY")
        # Tests and benchmarks: a dotted path to another perform(job=...) -> JobOutcome.
        parser.add_argument("--perform", default="", help=argparse_suppress())

    def handle(self, *args, **options) -> None:
        concurrency = (
            options["concurrency"] if options["concurrency"] is not None else settings.SUNAT_MAX_CONCURRENT_JOBS
        )
        poll = options["poll_interval"] if options["poll_interval"] is not None else settings.SUNAT_POLL_INTERVAL
        if concurrency < 1 or concurrency > 200:
            raise CommandError("--concurrency debe estar entre 1 y 200")
        if poll <= 0:
            raise CommandError("--poll-interval debe ser mayor que cero")
        if options["grace"] < 0:
            raise CommandError("--grace no puede ser negativo")
        if not settings.DATABASES.get("default"):
            raise CommandError("no hay base de datos configurada (DATABASE_URL)")
        perform = None
        if options["perform"]:
            try:
                perform = import_string(options["perform"])
            except ImportError as exc:
                raise CommandError(f"--perform: {exc}") from None
        else:
            try:
                from sunat.services import sunat_job_perform as perform
            except ImportError:
                raise CommandError("sunat.services.sunat_job_perform no existe todavía") from None
        soap = float(getattr(settings, "SUNAT_CONNECT_TIMEOUT", 0)) + float(getattr(settings, "SUNAT_READ_TIMEOUT", 0))
        if soap >= settings.SUNAT_LEASE_SECONDS:
            # Leases are extended every lease/3 s while the process lives; a short lease only
            # shortens how long a dead worker's jobs wait. Still worth saying.
            self.stderr.write(
                f"aviso: SUNAT_LEASE_SECONDS={settings.SUNAT_LEASE_SECONDS} no supera los tiempos de espera SOAP "
                f"({soap:g} s)"
            )
        preflight()
        size_pool(concurrency=concurrency)
        config = RunnerConfig.from_settings(
            concurrency=concurrency,
            poll_interval=float(poll),
            burst=options["burst"],
            grace=options["grace"],
            listen=not options["no_listen"],
        )
        runner = Runner(config=config, perform=perform)
        runner.install_signal_handlers()
        try:
            code = runner.run()
        except DatabaseError as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CommandError(f"sin acceso a la base de datos: {first}") from None
        if code:
            raise SystemExit(code)


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS

"""Queue benchmark: BodegaPOS's sunat_jobs queue beside procrastinate, and end to end vs fake_sunat.

Usage (from the project root; uses the embedded PostgreSQL unless --database-url is given)::

    .venv/bin/python bench/queue_bench.py noop [--jobs 5000] [--concurrency 1,3] [--processes 1,2]
    .venv/bin/python bench/queue_bench.py e2e  [--docs 150] [--concurrency 3,10] [--latency-ms 0,300]

``noop``: N no-op jobs drained by 1 and 2 worker processes, each with the same concurrency, with
our claim/finish SQL (``worker.runner.Runner`` in burst mode, ``perform=worker.testing.noop``)
and with procrastinate (``run_worker(wait=False)``, an async no-op task, LISTEN off) on the same
server, in separate databases (``bench_queue``, ``bench_procrastinate``). Each process starts,
connects and warms up first; the clock runs from a common start signal until the last process
has drained the queue and exited its loop. Logging is at WARNING for both.

``e2e``: documents/s of the real path (sign, zip, SOAP sendBill, CDR, store) through
``manage.py sunat_worker --burst`` against ``manage.py fake_sunat --latency-ms L``; the clock runs
from the worker's first heartbeat to the last job's ``finished_at`` (database clock), so process
start-up is not counted. The target at latency L and concurrency C is 0.8 × C ÷ L.

Prints one table per mode; docs/performance.md records the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUEUE_DB = "bench_queue"
PROCRASTINATE_DB = "bench_procrastinate"


# --------------------------------------------------------------------------- databases


def base_url(arg: str | None) -> str:
    if arg:
        return arg
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    from bodegapos.embedded_db import embedded_database_url

    return embedded_database_url()


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def libpq_url(url: str) -> str:
    """Drop the project's seed parameters (connection_limit, …) that libpq does not know."""
    from urllib.parse import parse_qsl, urlencode

    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("connection_limit", "pool_timeout", "pgbouncer")]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def recreate_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(libpq_url(with_db(url, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bodegapos.settings.dev",
        DATABASE_URL=url,
        LOG_LEVEL="WARNING",
        LOG_FORMAT="console",
        DEBUG="false",
    )
    env.pop("DIRECT_URL", None)
    return env


def django_setup(url: str) -> None:
    os.environ.update(django_env(url))
    import django

    django.setup()


# --------------------------------------------------------------------------- ours: no-op


def _seed_noop_jobs(n: int) -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("TRUNCATE sunat_jobs, sunat_sunatdocument, worker_workerheartbeat CASCADE")
        c.execute("SELECT id FROM stores_company LIMIT 1")
        row = c.fetchone()
        if row is None:
            from stores.models import Company

            row = (Company.objects.create(ruc="20000000001", legal_name="BENCH", address="X", ubigeo="150101").pk,)
        company_id = row[0]
        c.execute(
            "INSERT INTO sunat_sunatdocument (company_id, document_type, series, number, issued_at, snapshot, status, "
            "total, xml_hash, response_code, response_description, observations, ticket, created_at, updated_at) "
            "SELECT %s, '03', 'B001', g, now(), '{}', 'pending', 0, '', '', '', '[]', '', now(), now() "
            "FROM generate_series(1, %s) g",
            [company_id, n],
        )
        c.execute(
            "INSERT INTO sunat_jobs (company_id, document_id, kind, status, attempts, run_at, lease_owner, "
            "last_error, errors, request_id, created_at, updated_at) "
            "SELECT company_id, id, 'send', 'pending', 0, now(), '', '', '[]', '', now(), now() "
            "FROM sunat_sunatdocument ORDER BY id",
        )
        c.execute("ANALYZE sunat_jobs")


def _ours_child(url: str, concurrency: int, ready, start) -> None:
    django_setup(url)
    from django.db import connection

    from worker.management.commands.sunat_worker import size_pool
    from worker.runner import Runner, RunnerConfig
    from worker.testing import noop

    size_pool(concurrency=concurrency)
    connection.ensure_connection()
    runner = Runner(config=RunnerConfig.from_settings(concurrency=concurrency, burst=True, listen=False), perform=noop)
    ready.put(os.getpid())
    start.wait()
    runner.run()


def _drain(target, args, processes: int) -> float:
    ctx = mp.get_context("spawn")
    ready, start = ctx.Queue(), ctx.Event()
    children = [ctx.Process(target=target, args=(*args, ready, start)) for _ in range(processes)]
    for p in children:
        p.start()
    for _ in children:
        ready.get(timeout=120)
    t0 = time.perf_counter()
    start.set()
    for p in children:
        p.join()
    elapsed = time.perf_counter() - t0
    bad = [p.exitcode for p in children if p.exitcode]
    if bad:
        raise RuntimeError(f"a benchmark process failed: exit codes {bad}")
    return elapsed


def bench_ours(url: str, *, jobs: int, concurrency: int, processes: int) -> float:
    from django.db import connection

    _seed_noop_jobs(jobs)
    connection.close()
    elapsed = _drain(_ours_child, (url, concurrency), processes)
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM sunat_jobs WHERE status = 'done'")
        done = c.fetchone()[0]
    connection.close()
    if done != jobs:
        raise RuntimeError(f"ours: {done} of {jobs} jobs done")
    return jobs / elapsed


# --------------------------------------------------------------------------- procrastinate


def _procrastinate_app(url: str):
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(url)))

    @app.task(name="noop")
    async def noop() -> None:
        return None

    return app


def _procrastinate_child(url: str, concurrency: int, ready, start) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    app = _procrastinate_app(url)

    async def run() -> None:
        async with app.open_async():
            await app.check_connection_async()
            ready.put(os.getpid())
            await asyncio.get_running_loop().run_in_executor(None, start.wait)
            await app.run_worker_async(
                concurrency=concurrency, wait=False, listen_notify=False, install_signal_handlers=False
            )

    asyncio.run(run())


def bench_procrastinate(url: str, *, jobs: int, concurrency: int, processes: int) -> float:
    import psycopg

    app = _procrastinate_app(url)

    async def seed() -> None:
        async with app.open_async():
            async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
                await conn.execute("TRUNCATE procrastinate_jobs CASCADE")
            task = app.tasks["noop"]
            for start in range(0, jobs, 1000):
                await task.batch_defer_async(*[{} for _ in range(min(1000, jobs - start))])

    asyncio.run(seed())
    elapsed = _drain(_procrastinate_child, (url, concurrency), processes)
    with psycopg.connect(libpq_url(url)) as conn:
        done = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'").fetchone()[0]
    if done != jobs:
        raise RuntimeError(f"procrastinate: {done} of {jobs} jobs succeeded")
    return jobs / elapsed


def setup_procrastinate(url: str) -> None:
    app = _procrastinate_app(url)

    async def apply() -> None:
        async with app.open_async():
            await app.schema_manager.apply_schema_async()

    asyncio.run(apply())


# --------------------------------------------------------------------------- end to end


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed_documents(n: int) -> None:
    import dataclasses

    from django.db import connection, transaction

    from stores.models import Company
    from sunat.services import sunat_document_issue
    from sunat.tests.scenarios import SUPPLIER, scenario, supplier_company_create

    with connection.cursor() as c:
        c.execute("TRUNCATE sunat_jobs, sunat_sunatdocument, worker_workerheartbeat CASCADE")
    company = Company.objects.filter(ruc=SUPPLIER.ruc).first() or supplier_company_create()
    base = scenario("boleta-mixta")
    with transaction.atomic():
        for i in range(n):
            sunat_document_issue(company=company, store=None, snapshot=dataclasses.replace(base, number=i + 1))
    connection.close()


def bench_e2e(url: str, *, docs: int, concurrency: int, latency_ms: int, sfs: bool) -> float:
    from django.db import connection

    _seed_documents(docs)
    port = _free_port()
    env = django_env(url)
    fake_args = [sys.executable, "manage.py", "fake_sunat", "--port", str(port), "--latency-ms", str(latency_ms)]
    if not sfs:
        fake_args.append("--no-sfs")
    fake = subprocess.Popen(fake_args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_registry", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        wenv = dict(
            env,
            SUNAT_ENV="fake",
            SUNAT_ENDPOINT=f"http://127.0.0.1:{port}/ol-ti-itcpfegem/billService",
            SUNAT_CONSULT_ENDPOINT=f"http://127.0.0.1:{port}/ol-it-wsconscpegem/billConsultService",
        )
        subprocess.run(
            [sys.executable, "manage.py", "sunat_worker", "--burst", "--concurrency", str(concurrency)],
            cwd=ROOT,
            env=wenv,
            check=True,
        )
        registry = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/_registry", timeout=5).read())
    finally:
        fake.terminate()
        fake.wait(10)
    with connection.cursor() as c:
        c.execute(
            "SELECT count(*) FILTER (WHERE status = 'done'), "
            "EXTRACT(EPOCH FROM max(finished_at) - (SELECT min(started_at) FROM worker_workerheartbeat)) "
            "FROM sunat_jobs"
        )
        done, seconds = c.fetchone()
    connection.close()
    if done != docs or len(registry["documents"]) != docs:
        raise RuntimeError(f"e2e: {done} jobs done, {len(registry['documents'])} registered of {docs}")
    return docs / float(seconds)


# --------------------------------------------------------------------------- main


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["noop", "e2e"])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--docs", type=int, default=150)
    parser.add_argument("--concurrency", default=None)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--latency-ms", default="0,300")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the best is reported")
    parser.add_argument("--sfs", action="store_true", help="e2e: let fake_sunat run SUNAT's XSL rules too")
    args = parser.parse_args()

    root = base_url(args.database_url)
    queue_url = with_db(root, QUEUE_DB)
    recreate_database(root, QUEUE_DB)
    django_setup(queue_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    if args.mode == "noop":
        concurrencies = _ints(args.concurrency or "1,3")
        processes = _ints(args.processes)
        procr_url = with_db(root, PROCRASTINATE_DB)
        recreate_database(root, PROCRASTINATE_DB)
        setup_procrastinate(procr_url)
        print(f"no-op queue throughput, {args.jobs} jobs, best of {args.repeat} (jobs/s)")
        print(f"{'processes':>9} {'concurrency':>11} {'sunat_jobs':>11} {'procrastinate':>14} {'ratio':>6}")
        for conc in concurrencies:
            for procs in processes:
                ours = max(
                    bench_ours(queue_url, jobs=args.jobs, concurrency=conc, processes=procs) for _ in range(args.repeat)
                )
                theirs = max(
                    bench_procrastinate(procr_url, jobs=args.jobs, concurrency=conc, processes=procs)
                    for _ in range(args.repeat)
                )
                print(f"{procs:>9} {conc:>11} {ours:>11.0f} {theirs:>14.0f} {ours / theirs:>5.1f}x", flush=True)
    else:
        concurrencies = _ints(args.concurrency or "3,10")
        print(f"end to end vs fake_sunat, {args.docs} boletas, 1 worker process (documents/s)")
        print(f"{'latency_ms':>10} {'concurrency':>11} {'docs/s':>8} {'target':>8}")
        for latency in _ints(args.latency_ms):
            for conc in concurrencies:
                rate = max(
                    bench_e2e(queue_url, docs=args.docs, concurrency=conc, latency_ms=latency, sfs=args.sfs)
                    for _ in range(args.repeat)
                )
                target = f"{0.8 * conc / (latency / 1000):.1f}" if latency else "-"
                print(f"{latency:>10} {conc:>11} {rate:>8.1f} {target:>8}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What one /metrics scrape (and the deep health's queue check) costs on a year of data.

Usage (from the project root; the machine's PostgreSQL unless --database-url is given)::

    .venv/bin/python bench/metrics_bench.py [--documents 3000000] [--stores 20] [--scrapes 30]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--skip-generate] [--out FILE]

It (re)creates the database ``bench_metrics``, migrates it and fills it with set-based SQL
(``generate_series``, no Python loop) with a year of a 20-store chain: ``--documents`` SUNAT
documents spread evenly over 365 days (85 % boletas, 15 % facturas, a series per store and type;
97.4 % accepted, 2 % observed, 0.5 % rejected, 0.1 % error, the last minutes' still pending), one
sendBill exchange per document plus two retries (a timeout and a getStatusCdr) for 5 % of them,
the finished jobs of the last 30 days (what ``SUNAT_JOB_RETENTION_DAYS`` keeps), a few dead and
failed jobs, two worker heartbeats; then VACUUM ANALYZE.

Then, for the reads of the scrape before this change (GROUP BY over every job, document and
attempt) and after it (``ops.selectors``: live rows and a one-hour window, each on an index), it
prints each statement's ``EXPLAIN (ANALYZE, BUFFERS)`` and the median / p95 of ``--scrapes``
whole scrapes (``metrics_snapshot()`` and the rendered ``metrics_payload()``), warm cache.

While it runs it holds ``/tmp/bench/BUSY`` (other helpers' tests wait), after waiting for
another benchmark's to go. docs/performance.md records the output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB = "bench_metrics"
BUSY = Path("/tmp/bench/BUSY")

# The scrape's reads before this change (ops/selectors.py at 3484115, as the ORM wrote them).
BEFORE = {
    "jobs by status": "SELECT status, COUNT(id) FROM sunat_jobs GROUP BY status",
    "oldest due pending": "SELECT MIN(created_at) FROM sunat_jobs WHERE status = 'pending' AND run_at <= now()",
    "documents by status, code": "SELECT status, response_code, COUNT(id) FROM sunat_sunatdocument GROUP BY 1, 2",
    "sends by operation, outcome, code": (
        "SELECT operation, category, code, COUNT(id) FROM sunat_sunatattempt GROUP BY 1, 2, 3"
    ),
}
# The deep health's queue check before this change (its document counts, as the ORM wrote them).
BEFORE_HEALTH = {
    "unsent after 24 h": (
        "SELECT COUNT(*) FROM sunat_sunatdocument WHERE status = 'pending' AND issued_at < now() - interval '24 hours'"
    ),
    "facturas near the limit": (
        "SELECT COUNT(*) FROM sunat_sunatdocument WHERE document_type = '01' AND status IN ('pending', 'error') "
        "AND issued_at < now() - interval '2 days' AND issued_at >= now() - interval '3 days'"
    ),
}


def libpq(url: str, database: str) -> str:
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("connection_limit", "pool_timeout", "pgbouncer")]
    return urlunsplit(parts._replace(path=f"/{database}", query=urlencode(kept)))


@contextmanager
def busy():
    BUSY.parent.mkdir(parents=True, exist_ok=True)
    while BUSY.exists():
        print("waiting for /tmp/bench/BUSY (another benchmark) …", file=sys.stderr)
        time.sleep(30)
    BUSY.write_text(f"bench/metrics_bench.py pid {os.getpid()}\n")
    try:
        yield
    finally:
        BUSY.unlink(missing_ok=True)


def generate(url: str, *, documents: int, stores: int) -> dict:
    import psycopg

    with psycopg.connect(libpq(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIRECT_URL", "DJANGO_"))}
    env.update(DATABASE_URL=libpq(url, DB), DEBUG="False", LOG_LEVEL="WARNING")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0", "--settings=bodegapos.settings.dev"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    timings = {}
    with psycopg.connect(libpq(url, DB), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("ALTER TABLE sunat_jobs DISABLE TRIGGER sunat_jobs_notify")  # no listener; not measured
        company_id = _company(conn)
        _stores(conn, company_id=company_id, stores=stores)
        t = time.perf_counter()
        # One row per document, numbered per (store, type) series; issue times spread over 365
        # days up to now (the newest ~minutes still pending, as a worker would leave them).
        conn.execute(
            """
            INSERT INTO sunat_sunatdocument
                (company_id, store_id, document_type, series, number, issued_at, snapshot, status, total, xml_hash,
                 signed_xml, signed_at, cdr_zip, response_code, response_description, observations, ticket,
                 unconfirmed_send_at, created_at, updated_at)
            SELECT %(company)s, s.id, d.type, d.series, d.number, d.issued, d.snapshot, d.status, d.total,
                   md5(d.n::text), NULL, d.issued, NULL,
                   CASE d.status WHEN 'accepted' THEN '0' WHEN 'observed' THEN '0' WHEN 'rejected' THEN '2800'
                                 ELSE '' END,
                   CASE d.status WHEN 'rejected' THEN 'El dato ingresado en el tipo de documento de identidad del receptor no esta permitido.'
                                 WHEN 'pending' THEN '' ELSE 'La Boleta numero ha sido aceptada' END,
                   CASE d.status WHEN 'observed' THEN '[{"code": "4332", "message": "observación"}]'::jsonb ELSE '[]'::jsonb END,
                   '', NULL, d.issued, d.issued
            FROM (
                SELECT n,
                       CASE WHEN n %% 20 < 3 THEN '01' ELSE '03' END AS type,
                       (CASE WHEN n %% 20 < 3 THEN 'F' ELSE 'B' END) || lpad(((n / 20) %% %(stores)s + 1)::text, 3, '0') AS series,
                       CASE WHEN n %% 20 < 3 THEN (n / 20 / %(stores)s) * 3 + n %% 20
                            ELSE (n / 20 / %(stores)s) * 17 + n %% 20 - 3 END + 1 AS number,
                       (n / 20) %% %(stores)s AS store_index,
                       now() - interval '365 days' * (1 - n::float8 / %(docs)s) AS issued,
                       CASE WHEN n > %(docs)s - 40 THEN 'pending'
                            WHEN n %% 1000 = 7 THEN 'error'
                            WHEN n %% 200 = 3 THEN 'rejected'
                            WHEN n %% 50 = 11 THEN 'observed'
                            ELSE 'accepted' END AS status,
                       round((1 + (n %% 997) / 10.0)::numeric, 2) AS total,
                       jsonb_build_object(
                           'document_type', CASE WHEN n %% 20 < 3 THEN '01' ELSE '03' END,
                           'customer', jsonb_build_object('doc_type', '1', 'doc_number', lpad((n %% 99999999)::text, 8, '0'),
                                                          'name', 'CLIENTE ' || n),
                           'lines', jsonb_build_array(
                               jsonb_build_object('code', 'SKU' || (n %% 500), 'description', 'GASEOSA 500ML', 'quantity', '2',
                                                  'unit_price', '3.50', 'affectation', '10', 'igv', '1.07'),
                               jsonb_build_object('code', 'SKU' || (n %% 300), 'description', 'GALLETAS SODA', 'quantity', '1',
                                                  'unit_price', '1.20', 'affectation', '10', 'igv', '0.18')),
                           'totals', jsonb_build_object('gravadas', '6.95', 'igv', '1.25', 'total', '8.20')) AS snapshot
                FROM generate_series(1, %(docs)s) AS n
            ) d JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS idx FROM stores_store) s ON s.idx = d.store_index
            """,
            {"company": company_id, "stores": stores, "docs": documents},
        )
        timings["documents"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute(
            """
            INSERT INTO sunat_sunatattempt (company_id, document_id, job_id, operation, started_at, duration_ms, code,
                                            description, category)
            SELECT company_id, id, NULL::bigint, 'sendBill', issued_at + interval '1 second', 180 + id %% 400,
                   CASE status WHEN 'rejected' THEN '2800' WHEN 'error' THEN 'read-timeout' ELSE '0' END, '',
                   CASE status WHEN 'error' THEN 'retry' ELSE status END
            FROM sunat_sunatdocument WHERE status <> 'pending'
            UNION ALL
            SELECT company_id, id, NULL::bigint, op.operation, issued_at + op.delay, 30000, op.code, '', op.category
            FROM sunat_sunatdocument
            CROSS JOIN (VALUES ('sendBill', interval '0 seconds', 'read-timeout', 'retry'),
                               ('getStatusCdr', interval '61 seconds', '0', 'accepted')) AS op(operation, delay, code, category)
            WHERE status = 'accepted' AND id %% 20 = 1
            """,
            {},
        )
        timings["attempts"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute(
            """
            INSERT INTO sunat_jobs (company_id, document_id, kind, status, attempts, run_at, lease_owner, lease_expires_at,
                                    last_error, errors, request_id, created_at, updated_at, finished_at)
            SELECT company_id, id, 'send',
                   CASE WHEN status = 'pending' THEN 'pending' WHEN status = 'error' THEN 'dead'
                        WHEN status = 'rejected' THEN 'failed' ELSE 'done' END,
                   1, issued_at, '', NULL, '', '[]'::jsonb, md5(id::text), issued_at, issued_at,
                   CASE WHEN status = 'pending' THEN NULL ELSE issued_at + interval '2 seconds' END
            FROM sunat_sunatdocument
            WHERE issued_at >= now() - interval '30 days' OR status = 'error'
            """
        )
        timings["jobs"] = time.perf_counter() - t
        conn.execute(
            "INSERT INTO worker_workerheartbeat (name, host, pid, concurrency, listening, started_at, beat_at, stopped_at,"
            " jobs_done, jobs_retried, jobs_failed, jobs_reaped, rss_bytes) VALUES"
            " ('bench-1', 'bench', 1, 3, true, now(), now(), NULL, 0, 0, 0, 0, 90000000),"
            " ('bench-2', 'bench', 2, 3, true, now(), now(), NULL, 0, 0, 0, 0, 90000000)"
        )
        conn.execute("ALTER TABLE sunat_jobs ENABLE TRIGGER sunat_jobs_notify")
        t = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        timings["vacuum analyze"] = time.perf_counter() - t
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("sunat_sunatdocument", "sunat_sunatattempt", "sunat_jobs")
        }
        sizes = {
            table: conn.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [table]).fetchone()[0]
            for table in counts
        }
        jobs = dict(conn.execute("SELECT status, count(*) FROM sunat_jobs GROUP BY 1").fetchall())
    return {"rows": counts, "sizes": sizes, "jobs": jobs, "seconds": {k: round(v, 1) for k, v in timings.items()}}


def _company(conn) -> int:
    """A company through Django's own columns (whatever NOT NULL fields it has), via the ORM."""
    del conn
    from stores.models import Company

    company, _ = Company.objects.get_or_create(
        ruc="20000000001",
        defaults={"legal_name": "BODEGAS DEL BENCH S.A.C.", "address": "AV. LIMA 1", "ubigeo": "150101"},
    )
    return company.pk


def _stores(conn, *, company_id: int, stores: int) -> list[int]:
    del conn
    from stores.models import Store

    return [
        Store.objects.get_or_create(
            company_id=company_id,
            code=f"{n:04d}",
            defaults={"name": f"Tienda {n + 1}", "address": "x", "ubigeo": "150101"},
        )[0].pk
        for n in range(stores)
    ]


def explain(statement: str, params=None) -> tuple[str, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        for _ in range(2):  # warm the cache
            cursor.execute(statement, params)
            cursor.fetchall()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params)
        lines = [row[0] for row in cursor.fetchall()]
    execution = next((float(line.split()[-2]) for line in lines if line.startswith("Execution Time")), 0.0)
    return "\n".join(lines), execution


def timed(fn, n: int) -> dict:
    fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (n - 1))], 2)}


def measure(*, scrapes: int) -> dict:
    from django.db import connection

    from ops import selectors
    from ops.metrics import metrics_payload

    after = {
        "live jobs by status": (selectors.LIVE_JOBS_SQL, None),
        "oldest due pending": (selectors.OLDEST_DUE_SQL, None),
        "unsettled documents (health and metrics)": (
            selectors.UNSETTLED_DOCUMENTS_SQL,
            {"unsent": selectors.UNSENT_AFTER, "warn": selectors.FACTURA_WARN_AFTER, "limit": selectors.FACTURA_LIMIT},
        ),
        "exchanges of the last hour": (selectors.RECENT_EXCHANGES_SQL, {"window": selectors.METRICS_WINDOW}),
    }
    plans = {"before": {}, "after": {}}

    def scrape_before() -> None:
        with connection.cursor() as cursor:
            for statement in BEFORE.values():
                cursor.execute(statement)
                cursor.fetchall()

    # "Before" runs on the schema before this change: ops migration 0002's indexes dropped inside
    # a transaction that is rolled back afterwards.
    from importlib import import_module

    from django.db import transaction

    new_indexes = [name for name, _definition in import_module("ops.migrations.0002_read_indexes").INDEXES]
    with transaction.atomic():
        with connection.cursor() as cursor:
            for name in new_indexes:
                cursor.execute(f"DROP INDEX {name}")
        for name, statement in {**BEFORE, **BEFORE_HEALTH}.items():
            plans["before"][name] = explain(statement)
        before = timed(scrape_before, max(3, scrapes // 5))
        transaction.set_rollback(True)
    for name, (statement, params) in after.items():
        plans["after"][name] = explain(statement, params)

    results = {
        "before: the four GROUP BY reads": before,
        "after: metrics_snapshot()": timed(selectors.metrics_snapshot, scrapes),
        "after: metrics_payload() (rendered text)": timed(metrics_payload, scrapes),
        "after: sunat_queue_summary() (deep health)": timed(selectors.sunat_queue_summary, scrapes),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
    return {"plans": plans, "scrapes": results, "server": version}


def report(generated: dict | None, measured: dict) -> str:
    out = []
    if generated:
        out.append(f"rows: {generated['rows']}  sizes: {generated['sizes']}  jobs: {generated['jobs']}")
        out.append(f"generation seconds: {generated['seconds']}")
    out.append(f"server: {measured['server']}")
    out.append("")
    out.append("| scrape | median | p95 |")
    out.append("|---|---:|---:|")
    for name, r in measured["scrapes"].items():
        out.append(f"| {name} | {r['median_ms']} ms | {r['p95_ms']} ms |")
    for side in ("before", "after"):
        out.append("")
        out.append(f"## {side}")
        for name, (plan, ms) in measured["plans"][side].items():
            out.append(f"### {name} — {ms:.3f} ms")
            out.append("```")
            out.append(plan)
            out.append("```")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--documents", type=int, default=3_000_000)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--scrapes", type=int, default=30)
    parser.add_argument("--skip-generate", action="store_true", help="measure the existing bench_metrics database")
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args()

    os.environ.update(
        DATABASE_URL=libpq(args.database_url, DB),
        DEBUG="False",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="bodegapos.settings.dev",
    )
    os.environ.pop("DIRECT_URL", None)
    with busy():
        import django

        django.setup()  # connects lazily: generate() migrates the database before the first query
        generated = (
            None if args.skip_generate else generate(args.database_url, documents=args.documents, stores=args.stores)
        )
        measured = measure(scrapes=args.scrapes)
    print(report(generated, measured))
    if args.out:
        Path(args.out).write_text(json.dumps({"generated": generated, **measured}, indent=2, default=str))


if __name__ == "__main__":
    main()

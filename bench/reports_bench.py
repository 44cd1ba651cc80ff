"""The owner's reports on a year of a 20-store chain: the daily report, the 30-day cashier report
and a month's sales register export.

Usage (from the project root; the machine's PostgreSQL unless --database-url is given)::

    .venv/bin/python bench/reports_bench.py [--stores 20] [--days 365] [--sales-per-day 137]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--skip-generate] [--runs 20]

It (re)creates the database ``bench_reports``, migrates it, runs ``seed_demo`` for the chain
(company, stores, registers and series, products, users) and fills a year with set-based SQL
(``generate_series`` into temporary tables, then one ``INSERT … SELECT`` per table; no Python
loop over rows): two closed cash sessions a day per register (07–15 h and 15–23 h, the second
worked by the store's manager, small cash differences, one store always short), about
``--sales-per-day`` sales a day per store (15 % facturas) of three lines each and a plastic bag
on one in ten (≈ 3.1 million lines for the defaults), their payments (cash rounded down to
S/ 0.10, card, Yape, Plin), a SUNAT document each (99.4 % accepted, the rest observed, rejected
or in error, the last hour's pending), returns of 1 % of the sales (credit notes, refunds,
returned quantities) and voids of 0.2 % (RC documents, refunds); then VACUUM ANALYZE.

Then it measures, warm, through Django's test client as a superuser (the whole chain) and as
one store's manager: ``GET /api/v1/reports/daily`` for yesterday; the 30-day cashier report
(:func:`sales.selectors.reports.cashier_report`); ``/reports/`` whole; and the previous full
month's ``/reports/sales.xlsx`` and ``.csv`` streamed to the end (time to the first rows: the
first worksheet bytes after the zip's fixed parts; time to the last byte). Median and worst of
``--runs`` (exports: 3 runs). It prints the plans of the daily report's statements.

While it measures it holds ``/tmp/bench/BUSY`` (other helpers' tests wait), after waiting for
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.metrics_bench import libpq  # noqa: E402 - after the sys.path set-up above

DB = "bench_reports"
BUSY = Path("/tmp/bench/BUSY")
BUSY_TAG = "h3 bench/reports_bench.py"


@contextmanager
def busy():
    """Hold /tmp/bench/BUSY while measuring (after waiting for anyone else's); remove it only
    if it is still ours."""
    BUSY.parent.mkdir(parents=True, exist_ok=True)
    while BUSY.exists():
        print("waiting for /tmp/bench/BUSY (another benchmark) …", file=sys.stderr)
        time.sleep(30)
    BUSY.write_text(f"{BUSY_TAG} pid {os.getpid()}\n")
    try:
        yield
    finally:
        if BUSY.exists() and BUSY.read_text().startswith(BUSY_TAG):
            BUSY.unlink()


DOCUMENT_COLUMNS = """(id, document_type, series, number, issued_at, snapshot, status, total, xml_hash, signed_xml, signed_at,
    cdr_zip, response_code, response_description, observations, ticket, created_at, updated_at, company_id, store_id,
    unconfirmed_send_at, original_id, is_demo)"""

GENERATE = [
    (
        "sessions",
        """
        CREATE TEMP TABLE g_sessions AS
        SELECT nextval(pg_get_serial_sequence('sales_cashsession', 'id')) AS id, st.id AS store_id, r.id AS register_id,
               st.company_id, st.idx, d.day, sh.shift,
               (d.day::date + time '07:00' + sh.shift * interval '8 hours') AT TIME ZONE 'America/Lima' AS opened_at,
               CASE sh.shift WHEN 0 THEN cu.id ELSE mu.id END AS user_id
        FROM (SELECT s.*, row_number() OVER (ORDER BY s.code) AS idx FROM stores_store s) st
        JOIN stores_register r ON r.store_id = st.id
        JOIN auth_user cu ON cu.username = 'cajero' || st.idx
        JOIN auth_user mu ON mu.username = 'gerente' || st.idx
        CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d(day)
        CROSS JOIN (VALUES (0), (1)) AS sh(shift);
        INSERT INTO sales_cashsession (id, public_id, status, opened_at, opening_float, closed_at, z_number, denominations, note,
                                       z_report, cash_difference, close_approved_by_id, closed_by_id, company_id, opened_by_id,
                                       register_id, store_id)
        SELECT id, gen_random_uuid(), 'closed', opened_at, 150.00, opened_at + interval '8 hours',
               row_number() OVER (PARTITION BY register_id ORDER BY opened_at), NULL, '', '{}'::jsonb,
               CASE WHEN idx = 3 THEN -((id %% 7) + 1) * 0.50 ELSE ((id %% 11) - 5) * 0.10 END,
               NULL, user_id, company_id, user_id, register_id, store_id
        FROM g_sessions;
        """,
    ),
    (
        "sales (temporary)",
        """
        CREATE TEMP TABLE g_sales AS
        SELECT x.*, abs(hashtext(x.id::text)::bigint) AS h FROM (
        SELECT nextval(pg_get_serial_sequence('sales_sale', 'id')) AS id,
               nextval(pg_get_serial_sequence('sunat_sunatdocument', 'id')) AS doc_id,
               s.id AS session_id, s.store_id, s.register_id, s.company_id, s.idx, s.user_id AS cashier_id,
               s.opened_at + (g.n * interval '8 hours' / (%(per_session)s + 1)) + ((s.id * 7919 + g.n * 104729) %% 60) * interval '1 second' AS issued_at,
               CASE WHEN (s.id + g.n) %% 20 < 3 THEN '01' ELSE '03' END AS document_type
        FROM g_sessions s CROSS JOIN generate_series(1, %(per_session)s) AS g(n)) x;
        ALTER TABLE g_sales ADD COLUMN series text, ADD COLUMN series_id bigint, ADD COLUMN number int;
        UPDATE g_sales g SET series = ds.series, series_id = ds.id
        FROM stores_documentseries ds WHERE ds.register_id = g.register_id AND ds.document_type = g.document_type;
        UPDATE g_sales g SET number = x.number
        FROM (SELECT id, row_number() OVER (PARTITION BY series_id ORDER BY issued_at, id) AS number FROM g_sales) x
        WHERE x.id = g.id;
        CREATE INDEX ON g_sales (id);
        ANALYZE g_sales;
        """,
    ),
    (
        "lines (temporary)",
        """
        CREATE TEMP TABLE g_products AS
        SELECT sp.id AS store_product_id, sp.store_id, p.id AS product_id, p.sku, p.barcode, p.name, p.unit_code,
               p.affectation, p.is_plastic_bag, sp.price,
               row_number() OVER (PARTITION BY sp.store_id ORDER BY p.id) - 1 AS k
        FROM sales_storeproduct sp JOIN sales_product p ON p.id = sp.product_id
        WHERE NOT p.is_plastic_bag AND p.unit_code <> 'KGM';
        CREATE TEMP TABLE g_bags AS
        SELECT sp.id AS store_product_id, sp.store_id, p.id AS product_id, p.sku, p.barcode, p.name, p.unit_code, p.affectation, sp.price
        FROM sales_storeproduct sp JOIN sales_product p ON p.id = sp.product_id WHERE p.is_plastic_bag;
        CREATE INDEX ON g_products (store_id, k);
        ANALYZE g_products;
        CREATE TEMP TABLE g_lines AS
        SELECT x.*, CASE WHEN x.affectation = '10' THEN round(x.amount / 1.18, 2) ELSE x.amount END AS base
        FROM (
            SELECT s.id AS sale_id, s.store_id, s.company_id, l.n AS line_no, p.store_product_id, p.product_id, p.sku,
                   coalesce(p.barcode, '') AS barcode, p.name, p.unit_code, p.affectation, p.price,
                   (1 + (s.id + l.n) %% 3)::numeric AS quantity, round(p.price * (1 + (s.id + l.n) %% 3), 2) AS amount,
                   0.00::numeric AS icbper, 0.00::numeric AS icbper_rate
            FROM g_sales s CROSS JOIN generate_series(1, 3) AS l(n)
            JOIN g_products p ON p.store_id = s.store_id
             AND p.k = floor(%(hot)s * power(((s.h + l.n * 7919) %% 10007) / 10007.0, 2))::int  -- a few products sell most
            UNION ALL
            SELECT s.id, s.store_id, s.company_id, 4, b.store_product_id, b.product_id, b.sku, coalesce(b.barcode, ''), b.name,
                   b.unit_code, b.affectation, b.price, 1, b.price, 0.50, 0.50
            FROM g_sales s JOIN g_bags b ON b.store_id = s.store_id WHERE s.h %% 10 = 0
        ) x;
        CREATE TEMP TABLE g_totals AS
        SELECT sale_id,
               sum(base) FILTER (WHERE affectation = '10') AS gravadas, sum(base) FILTER (WHERE affectation = '20') AS exoneradas,
               sum(base) FILTER (WHERE affectation = '30') AS inafectas, sum(amount - base) AS igv, sum(icbper) AS icbper,
               sum(amount + icbper) AS total
        FROM g_lines GROUP BY sale_id;
        CREATE INDEX ON g_totals (sale_id);
        ANALYZE g_totals;
        """,
    ),
    (
        "documents",
        """
        INSERT INTO sunat_sunatdocument {DOCUMENT_COLUMNS}
        SELECT s.doc_id, s.document_type, s.series, s.number, s.issued_at, '{}'::jsonb,
               CASE WHEN s.issued_at > now() - interval '1 hour' THEN 'pending' WHEN s.h %% 1000 = 7 THEN 'error'
                    WHEN s.h %% 500 = 3 THEN 'rejected' WHEN s.h %% 100 = 11 THEN 'observed' ELSE 'accepted' END,
               t.total, md5(s.id::text), NULL, s.issued_at, NULL, '0', '', '[]'::jsonb, '', s.issued_at, s.issued_at,
               s.company_id, s.store_id, NULL, NULL, false
        FROM g_sales s JOIN g_totals t ON t.sale_id = s.id;
        """,
    ),
    (
        "sales",
        """
        INSERT INTO sales_sale (id, public_id, document_type, series, number, idempotency_key, fingerprint, customer_doc_type,
                                customer_doc_number, customer_name, customer_address, gravadas, exoneradas, inafectas, igv, icbper,
                                total, cash_rounding, change, issued_at, request_id, cashier_id, company_id, customer_id,
                                document_series_id, register_id, store_id, sunat_document_id, session_id)
        SELECT s.id, gen_random_uuid(), s.document_type, s.series, s.number, gen_random_uuid(), '',
               CASE s.document_type WHEN '01' THEN '6' ELSE '0' END,
               CASE s.document_type WHEN '01' THEN '20100066603' ELSE '-' END,
               CASE s.document_type WHEN '01' THEN 'DISTRIBUIDORA EL SOL S.A.C.' ELSE 'CLIENTES VARIOS' END, '',
               coalesce(t.gravadas, 0), coalesce(t.exoneradas, 0), coalesce(t.inafectas, 0), t.igv, t.icbper, t.total,
               CASE WHEN s.h %% 20 < 12 THEN t.total - trunc(t.total, 1) ELSE 0 END,
               CASE WHEN s.h %% 20 < 12 THEN ceil(trunc(t.total, 1)) - trunc(t.total, 1) ELSE 0 END,
               s.issued_at, '', s.cashier_id, s.company_id, NULL, s.series_id, s.register_id, s.store_id, s.doc_id, s.session_id
        FROM g_sales s JOIN g_totals t ON t.sale_id = s.id;
        """,
    ),
    (
        "sale lines",
        """
        INSERT INTO sales_saleline (line_no, sku, barcode, description, unit_code, quantity, unit_price, unit_value, base, igv, icbper,
                                    icbper_rate, amount, affectation, company_id, product_id, sale_id, store_id, store_product_id,
                                    returned_quantity)
        SELECT line_no, sku, barcode, name, unit_code, quantity, price,
               CASE WHEN affectation = '10' THEN round(price / 1.18, 10) ELSE price END, base, amount - base, icbper, icbper_rate,
               amount, affectation, company_id, product_id, sale_id, store_id, store_product_id, 0
        FROM g_lines;
        """,
    ),
    (
        "payments",
        """
        INSERT INTO sales_payment (method, amount, tendered, change, rounding, company_id, store_id, sale_id)
        SELECT CASE WHEN h %% 20 < 12 THEN 'cash' WHEN h %% 20 < 16 THEN 'card' WHEN h %% 20 < 19 THEN 'yape' ELSE 'plin' END,
               total, CASE WHEN h %% 20 < 12 THEN ceil(total - cash_rounding) END, change, cash_rounding, company_id, store_id, id
        FROM (SELECT *, abs(hashtext(id::text)::bigint) AS h FROM sales_sale) s;
        """,
    ),
    (
        "returns",
        """
        CREATE TEMP TABLE g_returns AS
        SELECT nextval(pg_get_serial_sequence('sales_salereturn', 'id')) AS id,
               nextval(pg_get_serial_sequence('sunat_sunatdocument', 'id')) AS doc_id,
               s.id AS sale_id, s.store_id, s.company_id, s.register_id, s.session_id, s.cashier_id, s.sunat_document_id AS original_id,
               s.issued_at + interval '20 minutes' AS issued_at, l.id AS line_id, l.quantity, l.amount, l.base, l.igv, l.icbper,
               l.affectation, ds.id AS series_id, ds.series, p.method, p.amount - p.rounding AS kept
        FROM sales_sale s
        JOIN sales_saleline l ON l.sale_id = s.id AND l.line_no = 1
        JOIN sales_payment p ON p.sale_id = s.id
        JOIN stores_documentseries ds ON ds.register_id = s.register_id AND ds.document_type = '07'
         AND left(ds.series, 1) = left(s.series, 1)
        WHERE abs(hashtext(s.id::text)::bigint) %% 100 = 37;
        ALTER TABLE g_returns ADD COLUMN number int;
        UPDATE g_returns g SET number = x.number
        FROM (SELECT id, row_number() OVER (PARTITION BY series_id ORDER BY issued_at, id) AS number FROM g_returns) x WHERE x.id = g.id;
        INSERT INTO sunat_sunatdocument {DOCUMENT_COLUMNS}
        SELECT doc_id, '07', series, number, issued_at, '{}'::jsonb, 'accepted', amount + icbper, md5(id::text), NULL, issued_at, NULL,
               '0', '', '[]'::jsonb, '', issued_at, issued_at, company_id, store_id, NULL, original_id, false
        FROM g_returns;
        INSERT INTO sales_salereturn (id, public_id, reason_code, reason, series, number, gravadas, exoneradas, inafectas, igv, icbper,
                                      total, issued_at, request_id, approved_by_id, cashier_id, company_id, document_series_id,
                                      register_id, sale_id, session_id, store_id, sunat_document_id)
        SELECT id, gen_random_uuid(), '07', 'Producto vencido', series, number,
               CASE affectation WHEN '10' THEN base ELSE 0 END, CASE affectation WHEN '20' THEN base ELSE 0 END,
               CASE affectation WHEN '30' THEN base ELSE 0 END, igv, icbper, amount + icbper, issued_at, '', cashier_id, cashier_id,
               company_id, series_id, register_id, sale_id, session_id, store_id, doc_id
        FROM g_returns;
        INSERT INTO sales_salereturnline (line_no, quantity, restock, base, igv, icbper, amount, company_id, sale_line_id, sale_return_id,
                                          store_id)
        SELECT 1, quantity, true, base, igv, icbper, amount, company_id, line_id, id, store_id FROM g_returns;
        UPDATE sales_saleline l SET returned_quantity = g.quantity FROM g_returns g WHERE l.id = g.line_id;
        INSERT INTO sales_refund (kind, method, amount, handed, company_id, sale_id, session_id, store_id, sale_return_id, sale_void_id)
        SELECT 'return', method, amount + icbper,
               CASE method WHEN 'cash' THEN least(ceil((amount + icbper) * 10) / 10, kept) ELSE amount + icbper END,
               company_id, sale_id, session_id, store_id, id, NULL
        FROM g_returns;
        """,
    ),
    (
        "voids",
        """
        CREATE TEMP TABLE g_voids AS
        SELECT nextval(pg_get_serial_sequence('sales_salevoid', 'id')) AS id,
               nextval(pg_get_serial_sequence('sunat_sunatdocument', 'id')) AS doc_id,
               s.id AS sale_id, s.store_id, s.company_id, s.register_id, s.session_id, s.cashier_id, s.sunat_document_id AS original_id,
               s.issued_at + interval '5 minutes' AS requested_at, s.total
        FROM sales_sale s WHERE abs(hashtext(s.id::text)::bigint) %% 500 = 123 AND abs(hashtext(s.id::text)::bigint) %% 100 <> 37;
        INSERT INTO sunat_sunatdocument {DOCUMENT_COLUMNS}
        SELECT doc_id, 'RC', 'RC-' || to_char(requested_at AT TIME ZONE 'America/Lima', 'YYYYMMDD'),
               row_number() OVER (PARTITION BY (requested_at AT TIME ZONE 'America/Lima')::date ORDER BY requested_at, id),
               requested_at, '{}'::jsonb, 'accepted', 0, md5(id::text), NULL, requested_at, NULL, '0', '', '[]'::jsonb, '',
               requested_at, requested_at, company_id, store_id, NULL, original_id, false
        FROM g_voids;
        INSERT INTO sales_salevoid (id, public_id, reason, requested_at, request_id, approved_by_id, company_id, register_id,
                                    requested_by_id, sale_id, session_id, store_id, sunat_document_id)
        SELECT id, gen_random_uuid(), 'Venta duplicada', requested_at, '', cashier_id, company_id, register_id, cashier_id, sale_id,
               session_id, store_id, doc_id
        FROM g_voids;
        INSERT INTO sales_refund (kind, method, amount, handed, company_id, sale_id, session_id, store_id, sale_return_id, sale_void_id)
        SELECT 'void', p.method, p.amount, p.amount - p.rounding, v.company_id, v.sale_id, v.session_id, v.store_id, NULL, v.id
        FROM g_voids v JOIN sales_payment p ON p.sale_id = v.sale_id;
        """,
    ),
    (
        "series counters",
        """
        UPDATE stores_documentseries ds SET last_number = x.last
        FROM (SELECT document_series_id, max(number) AS last FROM sales_sale GROUP BY 1
              UNION ALL SELECT document_series_id, max(number) FROM sales_salereturn GROUP BY 1) x
        WHERE x.document_series_id = ds.id;
        """,
    ),
]


def generate(url: str, *, stores: int, days: int, sales_per_day: int) -> dict:
    import psycopg

    with psycopg.connect(libpq(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIRECT_URL", "DJANGO_", "REPORTS_"))}
    env.update(DATABASE_URL=libpq(url, DB), DEBUG="False", LOG_LEVEL="WARNING")
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v0", "--settings=bodegapos.settings.dev"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [
            *manage,
            "seed_demo",
            f"--stores={stores}",
            "--products=300",
            "--password=bench-reports",
            "--settings=bodegapos.settings.dev",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    timings = {}
    with psycopg.connect(libpq(url, DB), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("ALTER TABLE sunat_jobs DISABLE TRIGGER sunat_jobs_notify")
        (today,) = conn.execute("SELECT (now() AT TIME ZONE 'America/Lima')::date").fetchone()
        params = {
            "first": today.fromordinal(today.toordinal() - days),
            "last": today.fromordinal(today.toordinal() - 1),
            "per_session": sales_per_day // 2 + sales_per_day % 2,
            "hot": 150,
        }
        with conn.transaction():
            for name, sql in GENERATE:
                t = time.perf_counter()
                for statement in [
                    s for s in sql.replace("{DOCUMENT_COLUMNS}", DOCUMENT_COLUMNS).split(";\n") if s.strip()
                ]:
                    conn.execute(statement, params)
                timings[name] = round(time.perf_counter() - t, 1)
                print(f"  {name}: {timings[name]} s", file=sys.stderr)
        conn.execute("ALTER TABLE sunat_jobs ENABLE TRIGGER sunat_jobs_notify")
        t = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        timings["vacuum analyze"] = round(time.perf_counter() - t, 1)
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "sales_sale",
                "sales_saleline",
                "sales_payment",
                "sales_salereturn",
                "sales_salevoid",
                "sales_cashsession",
                "sunat_sunatdocument",
            )
        }
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    return {"timings_s": timings, "rows": counts, "database_size": size}


def _stats(samples: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
        "runs": len(samples),
    }


def measure(*, runs: int) -> dict:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from sales.reports_db import reports_reading
    from sales.selectors.reports import cashier_report, report_scope

    User = get_user_model()
    admin = User.objects.get(username="admin")
    manager = User.objects.get(username="gerente1")
    yesterday = timezone.localdate() - timedelta(days=1)
    month_end = timezone.localdate().replace(day=1) - timedelta(days=1)
    month_start = month_end.replace(day=1)
    results: dict = {"day": yesterday.isoformat(), "month": f"{month_start} … {month_end}"}

    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def timed(fn, n: int) -> dict:
        for _ in range(3):
            fn()
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return _stats(samples)

    chain, one = client_for(admin), client_for(manager)

    def daily(client, query=""):
        response = client.get(f"/api/v1/reports/daily?date={yesterday}{query}", HTTP_HOST="localhost")
        assert response.status_code == 200, response.content
        return response.json()

    body = daily(chain)
    results["daily report, the chain (API)"] = timed(lambda: daily(chain), runs)
    results["daily report, one store (API)"] = timed(lambda: daily(one), runs)
    results["daily figures"] = {
        "sales": body["sales"],
        "returns": body["returns"],
        "voids": body["voids"],
        "net_total": body["net_total"],
    }

    def cashiers():
        with reports_reading():
            return cashier_report(scope=report_scope(user=admin, store_code=None), end=yesterday)

    results["30-day cashier report, the chain"] = timed(cashiers, runs)
    results["cashiers"] = len(cashiers())

    def page():
        response = chain.get(f"/reports/?date={yesterday}", HTTP_HOST="localhost")
        assert response.status_code == 200

    results["/reports/ page, the chain"] = timed(page, max(5, runs // 4))

    def export(extension: str) -> tuple[float, float, int]:
        t = time.perf_counter()
        response = chain.get(f"/reports/sales.{extension}?from={month_start}&to={month_end}", HTTP_HOST="localhost")
        assert response.status_code == 200
        first = None
        size = 0
        chunks = iter(response.streaming_content)
        head = next(chunks)  # the zip's fixed parts (xlsx) or the first lines (csv)
        size += len(head)
        if extension == "csv":
            first = time.perf_counter() - t
        for chunk in chunks:
            if chunk and first is None:
                first = time.perf_counter() - t
            size += len(chunk)
        return first, time.perf_counter() - t, size

    for extension in ("xlsx", "csv"):
        samples = [export(extension) for _ in range(3)]
        results[f"month export .{extension}"] = {
            "first_rows_ms": round(statistics.median(s[0] for s in samples) * 1000),
            "done_ms": round(statistics.median(s[1] for s in samples) * 1000),
            "bytes": samples[0][2],
        }
    import resource

    results["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    plans = {}
    from sales.selectors import reports as r

    scope = report_scope(user=admin, store_code=None)
    with connection.execute_wrapper(_explainer(plans)):
        r.daily_report(scope=scope, day=yesterday)
    results["plans"] = plans
    return results


def _explainer(plans: dict):
    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT") and not sql.lstrip().upper().startswith("SELECT 1"):
            cursor = context["cursor"]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            plans[f"{len(plans) + 1}. {sql[:90]}…"] = plan
        return execute(sql, params, many, context)

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sales-per-day", type=int, default=137)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    generated = None
    if not args.skip_generate:
        generated = generate(args.database_url, stores=args.stores, days=args.days, sales_per_day=args.sales_per_day)
        print(json.dumps(generated, indent=2, default=str), file=sys.stderr)
    os.environ.update(
        DATABASE_URL=libpq(args.database_url, DB),
        DJANGO_SETTINGS_MODULE="bodegapos.settings.dev",
        LOG_LEVEL="WARNING",
        DEBUG="False",
    )
    os.environ.pop("REPORTS_DATABASE_URL", None)
    import django

    django.setup()
    from django.test.utils import override_settings

    # Hashed static names need collectstatic's manifest; the page's CSS link is not what is measured.
    plain = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with busy(), override_settings(STORAGES=plain):
        measured = measure(runs=args.runs)
    out = {"generated": generated, "measured": measured}
    text = json.dumps(out, indent=2, default=str, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()

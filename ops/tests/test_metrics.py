from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ops import metrics
from sunat.models import SunatAttempt, SunatDocument, SunatJob
from worker.models import WorkerHeartbeat


@pytest.mark.django_db
def test_metrics_text_has_the_families(client, chain):
    company = chain["company"]
    doc = SunatDocument.objects.create(
        company=company,
        document_type="03",
        series="B001",
        number=1,
        issued_at=timezone.now(),
        snapshot={},
        status="accepted",
        response_code="0",
    )
    SunatDocument.objects.create(
        company=company,
        document_type="03",
        series="B001",
        number=2,
        issued_at=timezone.now() - timedelta(days=2),
        snapshot={},
        status="pending",
    )
    SunatJob.objects.create(company=company, document=doc)
    SunatJob.objects.create(company=company, document=doc, status="done")  # history: not a gauge
    for _ in range(2):  # two exchanges written by a worker process: counted from the database
        SunatAttempt.objects.create(
            company=company,
            document=doc,
            operation="sendBill",
            started_at=timezone.now(),
            code="0",
            category="accepted",
        )
    SunatAttempt.objects.create(  # older than the window
        company=company,
        document=doc,
        operation="sendBill",
        started_at=timezone.now() - timedelta(hours=2),
        code="0",
        category="accepted",
    )
    WorkerHeartbeat.objects.create(name="w1@host", host="host", pid=4321, rss_bytes=93 * 2**20, jobs_lost=2)
    client.get("/health")
    body = client.get("/metrics").content.decode()
    for name in (
        "bodegapos_http_request_duration_seconds_bucket",
        "bodegapos_checkout_duration_seconds",
        "bodegapos_http_errors",
        "bodegapos_db_pool_in_use",
        "bodegapos_db_pool_waiting",
        'bodegapos_sunat_jobs{status="pending"} 1.0',
        "bodegapos_sunat_oldest_pending_seconds",
        'bodegapos_sunat_documents_unsettled{status="pending"} 1.0',
        'bodegapos_sunat_documents_unsettled{status="error"} 0.0',
        "bodegapos_sunat_documents_unsent_after_24h 1.0",
        'bodegapos_sunat_exchanges_last_hour{code="0",operation="sendBill",outcome="accepted"} 2.0',
        'bodegapos_worker_heartbeat_age_seconds{worker="w1@host"}',
        "bodegapos_process_resident_memory_bytes",  # this (web) process sets its own
        'bodegapos_worker_resident_memory_bytes{worker="w1@host"} 9.7517568e+07',  # the worker's, from its heartbeat
        'bodegapos_worker_jobs_lost{worker="w1@host"} 2.0',
        "bodegapos_db_max_connections",
        "bodegapos_sunat_voids_rejected 0.0",
        "bodegapos_cash_sessions_open_over_24h 0.0",
    ):
        assert name in body, name
    assert 'status="done"' not in body


@pytest.mark.django_db
def test_metrics_token(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_production_refuses_metrics_without_a_token(client, settings):
    settings.METRICS_TOKEN_REQUIRED = True  # production settings
    settings.METRICS_TOKEN = ""
    refused = client.get("/metrics")
    assert refused.status_code == 403 and "METRICS_TOKEN" in refused.json()["detail"]
    assert b"bodegapos_" not in refused.content
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_production_settings_require_the_metrics_token():
    import subprocess
    import sys
    from pathlib import Path

    from ops.tests.test_deploy import PROD_ENV, _clean_env

    code = "import django;django.setup();from django.conf import settings as s;print(s.METRICS_TOKEN_REQUIRED)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**_clean_env(**PROD_ENV), "DJANGO_SETTINGS_MODULE": "bodegapos.settings.prod"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_route_label_is_low_cardinality(rf):
    request = rf.post("/api/v1/checkout")
    assert metrics.route_label(request) == "checkout"
    assert metrics.route_label(rf.get("/pos/receipts/123/")) == "unmatched"


def test_multiprocess_mode_aggregates_across_processes(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR (gunicorn with several workers), counters written by two
    processes are summed in one scrape."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = (
        "import os;os.environ['DJANGO_SETTINGS_MODULE']='bodegapos.settings.test';import django;django.setup();"
        "from ops import metrics;metrics.request_observed(method='GET',route='health',status=200,seconds=0.01);"
        "import sys\n"
        "if sys.argv[1]=='scrape':\n"
        "    from django.test import Client;print(Client(HTTP_HOST='127.0.0.1').get('/metrics').content.decode())"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    first = subprocess.run(
        [sys.executable, "-c", script, "count"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        [sys.executable, "-c", script, "scrape"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 0, second.stderr
    assert 'bodegapos_http_requests_total{route="health",status="2xx"} 2.0' in second.stdout
    assert "bodegapos_process_resident_memory_bytes" in second.stdout


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "params", "table", "indexes"),
    [
        ("LIVE_JOBS_SQL", None, "sunat_jobs", ["sunat_jobs_live_status_idx"]),
        # both hold live rows only
        ("OLDEST_DUE_SQL", None, "sunat_jobs", ["sunat_jobs_claim_idx", "sunat_jobs_live_status_idx"]),
        ("UNSETTLED_DOCUMENTS_SQL", "unsettled", "sunat_sunatdocument", ["sunat_doc_unsettled_idx"]),
        ("RECENT_EXCHANGES_SQL", "window", "sunat_sunatattempt", ["sunat_attempt_started_idx"]),
        ("VOIDS_REJECTED_SQL", None, "sunat_sunatdocument", ["sunat_doc_voids_rejected_idx"]),
        (
            "SESSIONS_OPEN_LONG_SQL",
            "sessions",
            "sales_cashsession",
            ["cash_session_one_open_per_register", "cash_session_store_idx"],
        ),
    ],
)
def test_each_scrape_read_can_use_its_index(sql, params, table, indexes):
    """A scrape's cost must not grow with history: each read's WHERE clause matches an index (a
    partial index's predicate exactly), so it never has to scan the documents or attempts.
    docs/performance.md shows the plans and times on a year of data.

    On a test database's few rows the planner may prefer any index (a foreign key's, with a join
    filter), so inside a rolled-back transaction the table keeps only its constraint indexes and
    the ones named here: a partial index whose predicate the WHERE clause does not match can then
    not be chosen, and the plan falls back to a scan of the whole table, which fails the test."""
    from django.db import connection, transaction

    from ops import selectors

    values = {
        None: None,
        "unsettled": {
            "unsent": selectors.UNSENT_AFTER,
            "warn": selectors.FACTURA_WARN_AFTER,
            "limit": selectors.FACTURA_LIMIT,
        },
        "window": {"window": selectors.METRICS_WINDOW},
        "sessions": {"after": selectors.SESSION_OPEN_ALERT},
    }[params]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = %s::regclass AND i.relname <> ALL(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
            [table, indexes],
        )
        for (other,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{other}"')  # rolled back with the transaction
        cursor.execute("SET LOCAL enable_seqscan = off")  # empty tables: only an index can win now
        cursor.execute("EXPLAIN " + getattr(selectors, sql), values)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    assert any(index in plan for index in indexes), plan


@pytest.mark.django_db
def test_live_workers_follow_the_deep_healths_rule(client, settings):
    settings.SUNAT_POLL_INTERVAL = 100  # stale after 300 s
    WorkerHeartbeat.objects.create(name="w1@host", host="host", pid=1)
    WorkerHeartbeat.objects.filter(name="w1@host").update(beat_at=timezone.now() - timedelta(seconds=200))
    WorkerHeartbeat.objects.create(name="w2@host", host="host", pid=2)
    WorkerHeartbeat.objects.filter(name="w2@host").update(beat_at=timezone.now() - timedelta(seconds=400))
    body = client.get("/metrics").content.decode()
    assert "bodegapos_workers_live 1.0" in body
    assert client.get("/health?deep=true").json()["checks"]["worker"]["live_workers"] == 1

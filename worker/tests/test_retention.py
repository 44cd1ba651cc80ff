"""Retention run by the worker: SUNAT exchange history (each document keeps its latest) and the
rate-limit counter's ended windows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from structlog.testing import capture_logs

from ops.models import RateLimitCounter
from sunat.models import SunatAttempt, SunatDocument
from sunat.retention import sunat_attempts_purge
from worker.runner import Runner, RunnerConfig
from worker.testing import noop

from .factories import documents_issue


def _attempts(document, *ages_days: float) -> None:
    now = timezone.now()
    for n, age in enumerate(ages_days):
        SunatAttempt.objects.create(
            company=document.company,
            document=document,
            operation="sendBill",
            started_at=now - timedelta(days=age, seconds=n),
            code="0109",
            category="retry",
        )


def _ages(document) -> list[int]:
    now = timezone.now()
    return sorted(
        round((now - a.started_at).total_seconds() / 86400) for a in SunatAttempt.objects.filter(document=document)
    )


@pytest.mark.django_db
def test_old_exchanges_go_but_each_document_keeps_its_latest(company, store):
    storm, short, fresh, mixed = documents_issue(company, store, 4)
    _attempts(storm, 95, 95, 95, 95, 94, 93)  # an old outage: six exchanges, all past retention
    _attempts(short, 95, 92)  # an old document that needed two
    _attempts(fresh, 10, 10, 10, 10, 10)  # within retention: all stay
    _attempts(mixed, 95, 95, 1, 1)
    assert sunat_attempts_purge(older_than=timedelta(days=90), batch=2) == 3 + 0 + 0 + 1
    assert _ages(storm) == [93, 94, 95]  # the three newest
    assert _ages(short) == [92, 95]
    assert _ages(fresh) == [10] * 5
    assert _ages(mixed) == [1, 1, 95]
    # Documents, their signed XML and status are never touched.
    assert SunatDocument.objects.count() == 4
    assert sunat_attempts_purge(older_than=timedelta(days=90)) == 0  # nothing left to do


@pytest.mark.django_db
def test_a_pass_looks_only_at_its_lookback_span(company, store):
    (document,) = documents_issue(company, store, 1)
    _attempts(document, 400, 400, 400, 400, 400, 1, 1, 1)
    assert sunat_attempts_purge(older_than=timedelta(days=90)) == 0  # 400 days is past the 7-day span
    assert sunat_attempts_purge(older_than=timedelta(days=90), lookback=None) == 5


def _window_row(*, ended_hours_ago: float, seconds: int = 300) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ops_ratelimit (key, window_start, window_seconds, hits) "
            "VALUES (md5(random()::text), extract(epoch FROM now())::bigint - %s - %s, %s, 3)",
            [int(ended_hours_ago * 3600), seconds, seconds],
        )


@pytest.mark.django_db(transaction=True)
def test_the_workers_retention_loop_prunes_exchanges_and_rate_limit_windows(company, store, settings):
    settings.SUNAT_ATTEMPT_RETENTION_DAYS = 90
    settings.RATELIMIT_RETENTION_HOURS = 2
    (document,) = documents_issue(company, store, 1)
    _attempts(document, 95, 95, 95, 95, 1)
    _window_row(ended_hours_ago=3)  # ended 3 h ago: goes
    _window_row(ended_hours_ago=1)  # ended 1 h ago: kept (retention 2 h)
    _window_row(ended_hours_ago=-0.01)  # still running: kept
    runner = Runner(config=RunnerConfig.from_settings(concurrency=1, burst=True, listen=False, grace=5), perform=noop)
    with capture_logs() as logs:
        assert runner.run() == 0
    assert _ages(document) == [1, 95, 95]
    assert RateLimitCounter.objects.count() == 2
    # ops' prune runs from WORKER_RETENTION_TASKS, and the log line counts what it removed.
    (purged,) = [entry for entry in logs if entry["event"] == "worker.purged"]
    assert purged["attempts"] == 2 and purged["ratelimit_windows"] == 1
    assert SunatDocument.objects.count() == 1

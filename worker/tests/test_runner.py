"""The runner in-process: slots, outcome application, pool sizing and where it LISTENs."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from sunat.models import SunatJob
from sunat.outcomes import JobOutcome, NextStep
from worker.listen import listen_conninfo
from worker.runner import Runner, RunnerConfig

from .factories import documents_issue

pytestmark = pytest.mark.django_db(transaction=True)


def test_burst_runner_applies_outcomes_and_counts(company, store):
    documents_issue(company, store, 12)
    seen: list[int] = []
    threads: set[str] = set()
    lock = threading.Lock()

    def perform(*, job: SunatJob) -> JobOutcome:
        assert not connection.in_atomic_block  # the SUNAT call happens outside any transaction
        with lock:
            seen.append(job.pk)
            threads.add(threading.current_thread().name)
        if job.pk % 3 == 0:
            raise RuntimeError("boom")
        return JobOutcome(step=NextStep.DONE)

    runner = Runner(config=RunnerConfig(concurrency=3, burst=True, listen=False, grace=5), perform=perform)
    assert runner.run() == 0
    assert len(seen) == len(set(seen)) == 12
    assert threads <= {"sunat-slot-0", "sunat-slot-1", "sunat-slot-2"}
    crashed = SunatJob.objects.filter(status="pending")
    assert crashed.count() == sum(1 for pk in seen if pk % 3 == 0)
    assert all(j.kind == "verify" and j.errors[0]["code"] == "exception" for j in crashed)
    assert runner.counters.done == 12 - crashed.count()
    assert runner.counters.retried == crashed.count()


def test_listen_uses_direct_url_and_never_pgbouncer(settings):
    settings.DIRECT_URL = "postgresql://u:p@db:5432/app?connection_limit=5&sslmode=require"
    assert listen_conninfo() == "postgresql://u:p@db:5432/app?sslmode=require"
    settings.DIRECT_URL = ""
    settings.DATABASES["default"]["PGBOUNCER"] = True
    try:
        assert listen_conninfo() is None
    finally:
        settings.DATABASES["default"]["PGBOUNCER"] = False
    params = listen_conninfo()
    assert isinstance(params, dict) and "pool" not in params and params.get("dbname")


def test_pool_is_sized_concurrency_plus_two(settings):
    from worker.management.commands.sunat_worker import size_pool

    pool = settings.DATABASES["default"]["OPTIONS"]["pool"]
    saved = dict(pool)
    try:
        size_pool(concurrency=7)
        assert settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"] == 9
    finally:
        settings.DATABASES["default"]["OPTIONS"]["pool"] = saved
        connection.close()
        connection.close_pool()


def test_a_crashing_job_reaches_sentry_with_the_jobs_context(company, store):
    """Worker exceptions are reported with the job they happened in (never another slot's)."""
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.transport import Transport

    events: list[dict] = []

    class Capture(Transport):
        def capture_envelope(self, envelope):
            events.extend(item.payload.json for item in envelope.items if item.type == "event")

    documents_issue(company, store, 2)

    def perform(*, job: SunatJob) -> JobOutcome:
        raise RuntimeError(f"boom {job.pk}")

    sentry_sdk.init(
        dsn="https://public@127.0.0.1:9/1",
        transport=Capture,
        default_integrations=False,
        integrations=[LoggingIntegration(event_level="ERROR")],
    )
    try:
        Runner(config=RunnerConfig(concurrency=2, burst=True, listen=False, grace=5), perform=perform).run()
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    crashed = [e for e in events if e.get("contexts", {}).get("sunat_job")]
    assert len(crashed) >= 2
    for event in crashed:
        job = event["contexts"]["sunat_job"]
        assert event["tags"]["job_kind"] == "send"
        assert f"boom {job['job_id']}" in str(event)


def test_an_exception_escaping_a_job_gives_its_slot_back_and_leaves_the_job_to_the_reaper(company, store, monkeypatch):
    """One slot; finishing the first job raises (a bug past perform's own net). The slot thread
    survives and runs the other jobs, the burst ends, the crashed job counts as lost (reported with
    the heartbeat) and its lease is no longer extended: the reaper recovers it on the verify path."""
    from worker import queue
    from worker.models import WorkerHeartbeat

    docs = documents_issue(company, store, 3)
    first = SunatJob.objects.filter(document__in=docs).order_by("run_at", "id").first().pk
    real_finish = queue.job_finish

    def job_finish(*, job_id: int, **kwargs):
        if job_id == first:
            raise RuntimeError("a bug while finishing")
        return real_finish(job_id=job_id, **kwargs)

    monkeypatch.setattr(queue, "job_finish", job_finish)
    threads: dict[int, str] = {}

    def perform(*, job: SunatJob) -> JobOutcome:
        threads[job.pk] = threading.current_thread().name
        # The first one takes the finish of its own (not the finish-and-claim path), which raises.
        return JobOutcome(step=NextStep.FIX, code="x") if job.pk == first else JobOutcome(step=NextStep.DONE)

    runner = Runner(config=RunnerConfig(concurrency=1, burst=True, listen=False, grace=5, lease=2), perform=perform)
    exit_codes: list[int] = []
    thread = threading.Thread(target=lambda: exit_codes.append(runner.run()), daemon=True)
    thread.start()
    thread.join(30)
    hung = thread.is_alive()  # the slot was never given back: the burst waits for it forever
    if hung:
        runner.stop()
        thread.join(30)
    assert not hung and exit_codes == [0], "the burst did not end on its own"
    assert set(threads.values()) == {"sunat-slot-0"} and len(threads) == 3  # the one slot went on
    assert (runner.counters.done, runner.counters.lost) == (2, 1)
    assert WorkerHeartbeat.objects.get(name=runner.name).jobs_lost == 1
    crashed = SunatJob.objects.get(pk=first)
    assert (crashed.status, crashed.lease_owner) == ("running", runner.name)  # not abandoned, not extended
    time.sleep(max(0.0, (crashed.lease_expires_at - timezone.now()).total_seconds()) + 0.2)
    assert queue.jobs_reap() == [first]
    crashed.refresh_from_db()
    assert (crashed.status, crashed.kind) == ("pending", "verify")

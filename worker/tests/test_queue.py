"""The queue's SQL on real PostgreSQL: claim, fencing, retries on the DB clock, pause, reaper."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction

from sunat.models import JobKind, JobStatus, SunatAccount, SunatJob
from sunat.outcomes import JobOutcome, NextStep
from worker import queue

from .factories import company_create, documents_issue, store_create

pytestmark = pytest.mark.django_db(transaction=True)

DEFAULT_DELAYS = [60.0, 300.0, 900.0, 3600.0]


def _sql(query: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall() if cursor.description else None


def _make_due(job_id: int) -> None:
    """Move the database clock past the job's run_at (by moving run_at into the past)."""
    _sql("UPDATE sunat_jobs SET run_at = now() - interval '1 second' WHERE id = %s", [job_id])


def _seconds_until_run(job_id: int) -> float:
    return float(_sql("SELECT EXTRACT(EPOCH FROM run_at - now()) FROM sunat_jobs WHERE id = %s", [job_id])[0][0])


def test_claim_plan_uses_partial_index_without_sort(company, store):
    docs = documents_issue(company, store, 40)
    # Mostly finished rows, as in a real queue: the partial index keeps them out of the scan.
    _sql(
        "INSERT INTO sunat_jobs (company_id, document_id, kind, status, attempts, run_at, lease_owner, last_error, "
        "errors, request_id, created_at, updated_at, finished_at) "
        "SELECT %s, %s, 'send', 'done', 1, now() - g * interval '1 second', '', '', '[]', '', now(), now(), now() "
        "FROM generate_series(1, 5000) g",
        [company.id, docs[0].id],
    )
    _sql("ANALYZE sunat_jobs")
    _sql("ANALYZE sunat_accounts")
    _sql("ANALYZE sunat_sunatdocument")
    claim = queue.CLAIM_SQL.replace("%(limit)s", "3").replace("%(owner)s", "'x'").replace("%(lease)s", "60")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(queue.CLAIM_PLAN_SETTINGS)
        cursor.execute("EXPLAIN " + claim)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    assert "sunat_jobs_claim_idx" in plan, plan
    assert "Sort" not in plan, plan
    assert "LockRows" in plan, plan


def test_claim_sets_lease_and_attempt_from_db_clock(company, store):
    documents_issue(company, store, 2)
    jobs = queue.jobs_claim(owner="w1", limit=5, lease=30)
    assert len(jobs) == 2
    rows = _sql(
        "SELECT status, lease_owner, attempts, EXTRACT(EPOCH FROM lease_expires_at - now()) FROM sunat_jobs ORDER BY id"
    )
    for status, owner, attempts, left in rows:
        assert (status, owner, attempts) == ("running", "w1", 1)
        assert 25 < float(left) <= 30
    assert queue.jobs_claim(owner="w2", limit=5) == []


def test_claim_respects_limit_and_run_at_order(company, store):
    docs = documents_issue(company, store, 5)
    ids = list(SunatJob.objects.filter(document__in=docs).order_by("id").values_list("id", flat=True))
    _sql("UPDATE sunat_jobs SET run_at = now() + interval '1 hour' WHERE id = %s", [ids[0]])
    first = queue.jobs_claim(owner="w", limit=2)
    assert [j.id for j in first] == ids[1:3]


def test_threads_never_claim_the_same_job(company, store):
    documents_issue(company, store, 300)
    n = 8
    barrier = threading.Barrier(n)
    got: list[list[int]] = [[] for _ in range(n)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            while True:
                jobs = queue.jobs_claim(owner=f"t{i}", limit=3)
                if not jobs:
                    return
                got[i].extend(j.id for j in jobs)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    claimed = [j for part in got for j in part]
    assert len(claimed) == len(set(claimed)) == 300
    assert sum(1 for part in got if part) > 1  # the race really happened across threads
    owners = dict(_sql("SELECT lease_owner, count(*) FROM sunat_jobs GROUP BY lease_owner"))
    assert sum(owners.values()) == 300 and all(owners[f"t{i}"] == len(got[i]) for i in range(n) if got[i])


def test_late_finish_after_reaper_requeued_changes_nothing(company, store):
    documents_issue(company, store, 1)
    (job,) = queue.jobs_claim(owner="slow", limit=1)
    _sql("UPDATE sunat_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = %s", [job.id])
    assert queue.jobs_reap() == [job.id]
    (again,) = queue.jobs_claim(owner="fast", limit=1)
    assert again.id == job.id and again.kind == JobKind.VERIFY and again.attempts == 2
    late = queue.job_finish(job_id=job.id, owner="slow", outcome=JobOutcome(step=NextStep.DONE))
    assert late.applied is False
    assert _sql("SELECT status, lease_owner FROM sunat_jobs WHERE id = %s", [job.id]) == [("running", "fast")]
    assert queue.job_finish(job_id=job.id, owner="fast", outcome=JobOutcome(step=NextStep.DONE)).applied
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.finished_at is not None
    assert [e["code"] for e in job.errors] == ["lease-expired"]


def test_retry_schedule_follows_delays_with_jitter_and_fifth_failure_is_dead(company, store, settings):
    settings.SUNAT_RETRY_DELAYS = DEFAULT_DELAYS
    documents_issue(company, store, 1)
    job_id = SunatJob.objects.get().id
    fail = JobOutcome(step=NextStep.RETRY, code="http-503", message="Servicio no disponible")
    for attempt, delay in enumerate(DEFAULT_DELAYS, start=1):
        (job,) = queue.jobs_claim(owner="w", limit=1)
        assert job.attempts == attempt
        result = queue.job_finish(job_id=job_id, owner="w", outcome=fail)
        assert result == queue.FinishResult(applied=True, status="pending")
        waited = _seconds_until_run(job_id)
        assert delay * 0.9 - 1 <= waited <= delay * 1.1, (attempt, waited)
        assert queue.jobs_claim(owner="w", limit=1) == []  # not due before its time
        _make_due(job_id)
    (job,) = queue.jobs_claim(owner="w", limit=1)
    assert job.attempts == 5
    assert queue.job_finish(job_id=job_id, owner="w", outcome=fail).status == "dead"
    job.refresh_from_db()
    assert job.status == JobStatus.DEAD and job.finished_at is not None
    assert [e["attempt"] for e in job.errors] == [1, 2, 3, 4, 5]
    assert all(e["code"] == "http-503" and e["at"] for e in job.errors)
    assert job.last_error == "http-503: Servicio no disponible"


def test_jitter_spreads_retries(company, store, settings):
    settings.SUNAT_RETRY_DELAYS = [100.0]
    documents_issue(company, store, 40)
    jobs = queue.jobs_claim(owner="w", limit=40)
    for job in jobs:
        queue.job_finish(job_id=job.id, owner="w", outcome=JobOutcome(step=NextStep.RETRY))
    waits = [float(r[0]) for r in _sql("SELECT EXTRACT(EPOCH FROM run_at - now()) FROM sunat_jobs")]
    assert all(89 <= w <= 110 for w in waits)
    assert max(waits) - min(waits) > 5  # ±10 %: not all at the same second


def test_verify_next_makes_the_next_attempt_a_verify(company, store):
    documents_issue(company, store, 1)
    (job,) = queue.jobs_claim(owner="w", limit=1)
    queue.job_finish(
        job_id=job.id, owner="w", outcome=JobOutcome(step=NextStep.RETRY, code="timeout", verify_next=True)
    )
    job.refresh_from_db()
    assert job.kind == JobKind.VERIFY
    _make_due(job.id)
    (again,) = queue.jobs_claim(owner="w", limit=1)
    # A verify attempt that fails without reaching SUNAT stays a verify: the first send may be there.
    queue.job_finish(job_id=again.id, owner="w", outcome=JobOutcome(step=NextStep.RETRY, code="conn-refused"))
    again.refresh_from_db()
    assert again.kind == JobKind.VERIFY


def test_snooze_does_not_spend_an_attempt(company, store):
    documents_issue(company, store, 1)
    for _ in range(6):  # more than the retry budget
        (job,) = queue.jobs_claim(owner="w", limit=1)
        assert job.attempts == 1
        queue.job_finish(job_id=job.id, owner="w", outcome=JobOutcome(step=NextStep.SNOOZE, delay_seconds=5))
        assert 4 <= _seconds_until_run(job.id) <= 5
        _make_due(job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.attempts == 0 and job.errors == []


def test_fix_fails_without_retry(company, store):
    documents_issue(company, store, 1)
    (job,) = queue.jobs_claim(owner="w", limit=1)
    assert (
        queue.job_finish(
            job_id=job.id, owner="w", outcome=JobOutcome(step=NextStep.FIX, code="2017", message="RUC inválido")
        ).status
        == "failed"
    )
    _sql("UPDATE sunat_jobs SET run_at = now() - interval '1 day'")
    assert queue.jobs_claim(owner="w", limit=1) == []


def test_pause_company_pauses_its_jobs_and_resume_releases_them(company, store):
    other = company_create()
    other_store = store_create(other)
    documents_issue(company, store, 3)
    documents_issue(other, other_store, 1)
    (job,) = queue.jobs_claim(owner="w", limit=1)
    result = queue.job_finish(
        job_id=job.id,
        owner="w",
        outcome=JobOutcome(step=NextStep.PAUSE_COMPANY, code="0111", message="clave SOL errada"),
    )
    assert result.status == "paused"
    account = SunatAccount.objects.get(company=company)  # created paused: the company had none
    assert account.paused_at is not None and "clave SOL" in account.pause_reason
    assert not SunatAccount.objects.filter(company=other).exists()
    statuses = dict(_sql("SELECT status, count(*) FROM sunat_jobs WHERE company_id = %s GROUP BY status", [company.id]))
    assert statuses == {"paused": 3}
    # A sale made while paused is queued but not claimed; the other company keeps working.
    documents_issue(company, store, 1)
    claimed = queue.jobs_claim(owner="w", limit=10)
    assert [j.company_id for j in claimed] == [other.id]
    assert queue.company_resume(company_id=company.id) == 3
    assert SunatAccount.objects.get(company=company).paused_at is None
    assert len(queue.jobs_claim(owner="w", limit=10)) == 4
    paused_job = SunatJob.objects.get(pk=job.id)
    assert paused_job.attempts == 1  # the paused attempt was not counted; this claim is the first


def test_give_back_returns_unstarted_jobs_without_spending_attempts(company, store):
    documents_issue(company, store, 2)
    jobs = queue.jobs_claim(owner="w", limit=2)
    assert queue.jobs_give_back(owner="other", job_ids=[j.id for j in jobs]) == 0
    assert queue.jobs_give_back(owner="w", job_ids=[j.id for j in jobs]) == 2
    assert _sql("SELECT DISTINCT status, attempts, lease_owner FROM sunat_jobs") == [("pending", 0, "")]


def test_concurrent_reapers_take_each_expired_job_once(company, store):
    documents_issue(company, store, 200)
    queue.jobs_claim(owner="dead-worker", limit=200)
    _sql("UPDATE sunat_jobs SET lease_expires_at = now() - interval '1 second'")
    n = 4
    barrier = threading.Barrier(n)
    results: list[list[int]] = []
    lock = threading.Lock()

    def reap() -> None:
        try:
            barrier.wait()
            while got := queue.jobs_reap(batch=20):
                with lock:
                    results.append(got)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reap) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reaped = [j for part in results for j in part]
    assert len(reaped) == len(set(reaped)) == 200
    assert _sql("SELECT DISTINCT status, kind FROM sunat_jobs") == [("pending", "verify")]
    counts = _sql("SELECT DISTINCT jsonb_array_length(errors) FROM sunat_jobs")
    assert counts == [(1,)]


def test_reaper_kills_a_job_that_exhausted_its_attempts(company, store, settings):
    settings.SUNAT_RETRY_DELAYS = [1.0]
    documents_issue(company, store, 1)
    for _ in range(2):
        queue.jobs_claim(owner="w", limit=1)
        _sql("UPDATE sunat_jobs SET lease_expires_at = now() - interval '1 second'")
        queue.jobs_reap()
    assert _sql("SELECT status, attempts FROM sunat_jobs") == [("dead", 2)]


def test_ordered_kinds_run_one_at_a_time_per_series(company, store):
    docs = documents_issue(company, store, 3, series="RC-20261127")
    other = documents_issue(company, store, 1, series="RC-20261128")
    SunatJob.objects.filter(document__in=docs + other).update(kind=JobKind.SEND_SUMMARY)
    first = queue.jobs_claim(owner="w", limit=10)
    assert sorted(j.document_id for j in first) == sorted([docs[0].id, other[0].id])
    assert queue.jobs_claim(owner="w", limit=10) == []
    running = next(j for j in first if j.document_id == docs[0].id)
    queue.job_finish(job_id=running.id, owner="w", outcome=JobOutcome(step=NextStep.DONE))
    (second,) = queue.jobs_claim(owner="w", limit=10)
    assert second.document_id == docs[1].id


def test_purge_deletes_old_done_jobs_in_batches_only(company, store):
    documents_issue(company, store, 25)
    _sql(
        "UPDATE sunat_jobs SET status = 'done', finished_at = now() - interval '40 days' WHERE id IN "
        "(SELECT id FROM sunat_jobs ORDER BY id LIMIT 20)"
    )
    _sql(
        "UPDATE sunat_jobs SET status = 'dead', finished_at = now() - interval '40 days' WHERE id IN "
        "(SELECT id FROM sunat_jobs WHERE status = 'pending' ORDER BY id LIMIT 2)"
    )
    _sql(
        "UPDATE sunat_jobs SET status = 'done', finished_at = now() - interval '1 day' WHERE status = 'pending' "
        "AND id = (SELECT min(id) FROM sunat_jobs WHERE status = 'pending')"
    )
    assert queue.jobs_purge(older_than=timedelta(days=30), batch=7) == 20
    assert dict(_sql("SELECT status, count(*) FROM sunat_jobs GROUP BY status")) == {"dead": 2, "done": 1, "pending": 2}
    from sunat.models import SunatDocument

    assert SunatDocument.objects.count() == 25


def test_admin_operations(company, store):
    documents_issue(company, store, 3)
    jobs = queue.jobs_claim(owner="w", limit=3)
    for job in jobs:
        queue.job_finish(job_id=job.id, owner="w", outcome=JobOutcome(step=NextStep.FIX, code="x"))
    ids = [j.id for j in jobs]
    assert queue.jobs_retry_now(job_ids=ids[:1]) == 1
    assert queue.jobs_verify(job_ids=ids[1:2]) == 1
    with pytest.raises(ValueError):
        queue.jobs_discard(job_ids=ids[2:], reason="  ")
    assert queue.jobs_discard(job_ids=ids[2:], reason="anulado por nota de crédito") == 1
    rows = {r[0]: r[1:] for r in _sql("SELECT id, status, kind, attempts, last_error FROM sunat_jobs")}
    assert rows[ids[0]][:3] == ("pending", "send", 0)
    assert rows[ids[1]][:3] == ("pending", "verify", 0)
    assert rows[ids[2]][0] == "discarded" and "anulado" in rows[ids[2]][3]


def test_claim_function_matches_code():
    """The function the migrations installed runs exactly the claim in worker.queue."""
    src = _sql("SELECT prosrc FROM pg_proc WHERE proname = %s", [queue.CLAIM_FUNCTION])[0][0]
    expected = queue.CLAIM_FUNCTION_SQL.split("$claim$")[1]
    assert src.strip() == expected.strip()
    config = _sql("SELECT proconfig FROM pg_proc WHERE proname = %s", [queue.CLAIM_FUNCTION])[0][0]
    assert sorted(config) == ["enable_bitmapscan=off", "enable_sort=off"]
    src = _sql("SELECT prosrc FROM pg_proc WHERE proname = %s", [queue.FINISH_AND_CLAIM_FUNCTION])[0][0]
    assert src.strip() == queue.FINISH_AND_CLAIM_FUNCTION_SQL.split("$finish$")[1].strip()


def test_done_and_claim_is_guarded_and_claims_in_the_same_commit(company, store):
    documents_issue(company, store, 3)
    (first,) = queue.jobs_claim(owner="w", limit=1)
    result, claimed = queue.job_done_and_claim(job_id=first.id, owner="w", limit=1)
    assert result == queue.FinishResult(applied=True, status="done")
    assert len(claimed) == 1 and claimed[0].id != first.id and claimed[0].lease_owner == "w"
    # Lease lost (reaped and taken by another worker): the finish does nothing, the claim happens.
    _sql("UPDATE sunat_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = %s", [claimed[0].id])
    queue.jobs_reap()
    assert len(queue.jobs_claim(owner="other", limit=5)) == 2  # the reaped job and the third one
    result, more = queue.job_done_and_claim(job_id=claimed[0].id, owner="w", limit=5)
    assert result.applied is False and more == []
    assert _sql("SELECT status, lease_owner FROM sunat_jobs WHERE id = %s", [claimed[0].id]) == [("running", "other")]
    assert dict(_sql("SELECT status, count(*) FROM sunat_jobs GROUP BY status")) == {"done": 1, "running": 2}


def test_ordered_kinds_never_run_two_of_one_series_even_when_workers_race(company, store):
    docs = documents_issue(company, store, 6, series="RA-20261127")
    SunatJob.objects.filter(document__in=docs).update(kind=JobKind.SEND_SUMMARY)
    n = 6
    barrier = threading.Barrier(n)
    got: list[int] = []
    lock = threading.Lock()

    def claim(i: int) -> None:
        try:
            barrier.wait()
            jobs = queue.jobs_claim(owner=f"t{i}", limit=3)
            with lock:
                got.extend(j.document_id for j in jobs)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [docs[0].id]  # only the oldest of the series, by exactly one worker
    assert _sql("SELECT count(*) FROM sunat_jobs WHERE status = 'running'") == [(1,)]

"""The whole path as processes: ``sunat_worker`` (real ``sunat_job_perform``: sign, SOAP, CDR)
against ``manage.py fake_sunat`` over HTTP, on the test database.

Exactly once is checked on the double's own registry (``GET /_registry``) and on the
receptions it counted per file name; "never on two workers at once" on the attempt log
(the check table of ``worker.testing.checked_sunat_perform``).
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from django.db import transaction

from stores.models import Company
from sunat.models import SunatDocument
from sunat.services import document_file_name, sunat_document_issue
from worker.testing import simulation_tables_create
from worker.tests.procs import rows, scalar, stop, wait_for, worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("needs_sunat")]


def issue_many(company: Company, n: int, *, kinds: tuple[str, ...] = ("boleta-mixta", "factura-contado")) -> list:
    from sunat.tests.scenarios import scenario

    docs = []
    with transaction.atomic():
        for i in range(n):
            base = scenario(kinds[i % len(kinds)])
            snap = dataclasses.replace(base, number=1000 + i)
            docs.append(sunat_document_issue(company=company, store=None, snapshot=snap, request_id=f"sale-{i}"))
    return docs


def assert_registered_exactly_once(fake, docs: list) -> None:
    registry = fake.registry()
    names = {document_file_name(d) for d in docs}
    assert names <= set(registry["documents"]), sorted(names - set(registry["documents"]))[:5]
    assert len(registry["documents"]) == len(docs)
    statuses = dict(rows("SELECT status, count(*) FROM sunat_sunatdocument GROUP BY status"))
    assert statuses == {"accepted": len(docs)}, statuses


def assert_no_job_ran_twice_at_once() -> None:
    """The check table of ``worker.testing.checked_sunat_perform``: a second concurrent run of a
    job would have found its ``wt_inflight`` row and been logged in ``wt_overlap``."""
    assert scalar("SELECT count(*) FROM wt_overlap") == 0, rows("SELECT * FROM wt_overlap")
    assert scalar("SELECT count(*) FROM wt_attempts") > 0


@pytest.mark.slow
def test_500_sales_two_workers_fault_rate_30_percent_all_accepted_each_once(sunat_company, procs, fake_sunat_process):
    company = sunat_company
    fake = fake_sunat_process("--fault-rate", "0.3", "--seed", "7", "--timeout-sleep", "1.5")
    simulation_tables_create()
    docs = issue_many(company, 500)
    # Short delays, and enough of them that no document exhausts its retries by chance: after a
    # timeout every attempt is a verify (getStatusCdr, then sendBill for a factura: two requests,
    # each failing 30 % of the time, ≈ 0.5 per attempt). 20 attempts: ≈ 1e-6 per document
    # (with 10, one run in a few lost a document to "dead" by pure chance).
    # The double sleeps 1.5 s on a simulated timeout: the worker gives up after 1 s.
    env = fake.env(SUNAT_RETRY_DELAYS=",".join(["0.2"] * 20), SUNAT_LEASE_SECONDS="60", SUNAT_READ_TIMEOUT="1")
    workers = [
        worker("--concurrency", "3", "--poll-interval", "0.5", perform="worker.testing.checked_sunat_perform", env=env)
        for _ in range(2)
    ]
    procs.extend(workers)
    assert wait_for(
        lambda: scalar("SELECT count(*) FROM sunat_jobs WHERE status IN ('done', 'dead', 'failed', 'paused')") == 500,
        timeout=600,
        interval=1.0,
    ), dict(rows("SELECT status, count(*) FROM sunat_jobs GROUP BY status"))
    for p in workers:
        assert stop(p) == 0
    assert dict(rows("SELECT status, count(*) FROM sunat_jobs GROUP BY status")) == {"done": 500}, rows(
        "SELECT j.id, j.kind, j.attempts, j.errors, d.document_type, d.status, d.response_code "
        "FROM sunat_jobs j JOIN sunat_sunatdocument d ON d.id = j.document_id WHERE j.status <> 'done'"
    )
    assert_registered_exactly_once(fake, docs)
    assert_no_job_ran_twice_at_once()
    assert scalar("SELECT count(*) FROM sunat_jobs WHERE jsonb_array_length(errors) > 0") > 50  # faults happened
    assert scalar("SELECT count(*) FROM sunat_jobs WHERE errors::text LIKE '%%read-timeout%%'") > 0  # timeouts too
    assert scalar("SELECT count(DISTINCT owner) FROM wt_attempts") == 2
    beats = rows("SELECT jobs_done FROM worker_workerheartbeat")
    assert len(beats) == 2 and all(done > 0 for (done,) in beats)  # both workers did work


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["request_in_flight", "after_send_before_finish"])
def test_kill_9_mid_send_then_another_worker_registers_nothing_twice(sunat_company, procs, fake_sunat_process, mode):
    company = sunat_company
    if mode == "request_in_flight":
        # The double answers after 3 s; the worker dies while its request is being handled.
        fake = fake_sunat_process("--latency-ms", "3000", "--timeout-sleep", "30")
    else:
        fake = fake_sunat_process("--timeout-sleep", "30")
        fake.force(*["timeout-after-register"] * 4)  # registered, then the answer never comes
    docs = issue_many(company, 4)
    a = worker("--concurrency", "4", perform="", env=fake.env(SUNAT_READ_TIMEOUT="60", SUNAT_LEASE_SECONDS="2"))
    procs.append(a)
    if mode == "request_in_flight":
        assert wait_for(lambda: fake.registry()["requests"] >= 4, timeout=30)
    else:
        assert wait_for(lambda: len(fake.registry()["documents"]) == 4, timeout=30)
    a.kill()
    a.wait(10)
    time.sleep(3.5)  # the double finishes what it was doing; the dead worker's leases expire
    assert scalar("SELECT count(*) FROM sunat_jobs WHERE status = 'running'") == 4
    b = worker("--burst", "--concurrency", "2", perform="", env=fake.env(SUNAT_LEASE_SECONDS="30"))
    procs.append(b)
    _, err = b.communicate(timeout=180)
    assert b.returncode == 0, err
    assert dict(rows("SELECT status, count(*) FROM sunat_jobs GROUP BY status")) == {"done": 4}
    assert_registered_exactly_once(fake, docs)
    registry = fake.registry()
    for doc in docs:
        if doc.document_type == "01":  # facturas: the verify asked getStatusCdr instead of re-sending
            assert registry["receptions"].get(document_file_name(doc), 0) == 1, registry["receptions"]
    assert SunatDocument.objects.filter(cdr_zip__isnull=True, document_type="01").count() == 0

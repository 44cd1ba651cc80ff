"""What a worker whose lease was reaped keeps of SUNAT's answer: the ticket or the CDR SUNAT
handed over is stored (a fact), the document's status is not (the job's new owner decides it).

Each test claims the job as worker "slow", makes SUNAT answer while the lease expires and the
reaper requeues the job, then lets worker "fast" claim and perform it.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from stores.models import Company
from sunat.models import DocumentStatus, SunatDocument, SunatJob
from sunat.outcomes import NextStep
from sunat.services import document_file_name, sunat_document_issue, sunat_job_perform, sunat_summary_issue
from sunat.soap import SunatClient, SunatFault
from sunat.tests.scenarios import referenced_names, scenario
from sunat.tests.test_perform import _schemas, company, reload  # noqa: F401 - fixtures
from worker import queue

pytestmark = pytest.mark.django_db(transaction=True)


class Hung(Exception):
    """The worker stops answering (its process hangs) before it stores what SUNAT said."""


def reap(job: SunatJob) -> None:
    """The lease of ``job`` expires and a reaper requeues it (as kind verify)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sunat_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = %s", [job.pk])
    assert job.pk in queue.jobs_reap()


def reaped_during(monkeypatch, method: str, job: SunatJob) -> None:
    """``SunatClient.<method>`` gets SUNAT's answer, but the call outlives the lease of ``job``."""
    real = getattr(SunatClient, method)

    def slow(self, **kwargs):
        answer = real(self, **kwargs)
        reap(job)
        return answer

    monkeypatch.setattr(SunatClient, method, slow)


def void_issue(company: Company, fake_sunat) -> SunatDocument:
    snapshot = scenario("ra-facturas")
    for held in referenced_names(snapshot):
        fake_sunat.fake.hold(held)
    with transaction.atomic():
        return sunat_summary_issue(company=company, snapshot=snapshot)


def test_a_ticket_received_after_the_lease_was_reaped_is_stored_and_the_new_owner_polls_it(
    fake_sunat, company, monkeypatch
):
    void = void_issue(company, fake_sunat)
    (job,) = queue.jobs_claim(owner="slow", limit=1)
    with monkeypatch.context() as patch:
        reaped_during(patch, "send_summary", job)
        sunat_job_perform(job=job)
    void = reload(void)
    assert void.ticket, "SUNAT's ticket is kept although the lease was lost"
    assert void.status == DocumentStatus.PENDING and not void.response_code  # the status is not slow's to decide

    (job,) = queue.jobs_claim(owner="fast", limit=1)
    outcomes = [sunat_job_perform(job=job) for _ in range(2)]  # 98, then the CDR
    assert [o.step for o in outcomes] == [NextStep.SNOOZE, NextStep.DONE]
    void = reload(void)
    assert (void.status, void.response_code) == (DocumentStatus.ACCEPTED, "0")
    registry = fake_sunat.fake.registry_json()
    assert registry["receptions"][document_file_name(void)] == 1  # polled, never re-sent (no 0402)
    assert set(registry["voided"]) == set(referenced_names(scenario("ra-facturas")))


def test_a_summary_already_presented_polls_the_ticket_another_worker_stored_meanwhile(fake_sunat, company, monkeypatch):
    """The reaped worker's ticket lands while the new owner's own sendSummary is answered 0402."""
    void = void_issue(company, fake_sunat)
    (job,) = queue.jobs_claim(owner="slow", limit=1)
    with monkeypatch.context() as patch:
        answers: list[str] = []
        real = SunatClient.send_summary

        def lost(self, **kwargs):  # SUNAT registers the RA; slow has not stored the ticket yet
            answers.append(real(self, **kwargs))
            reap(job)
            raise Hung  # slow hangs from here on

        patch.setattr(SunatClient, "send_summary", lost)
        with pytest.raises(Hung):
            sunat_job_perform(job=job)

        def presented(self, **kwargs):
            try:
                return real(self, **kwargs)
            except SunatFault:
                SunatDocument.objects.filter(pk=void.pk).update(ticket=answers[0])  # slow's settle lands
                raise

        patch.setattr(SunatClient, "send_summary", presented)
        (job,) = queue.jobs_claim(owner="fast", limit=1)
        first = sunat_job_perform(job=job)
    assert first.step is NextStep.SNOOZE, first
    assert sunat_job_perform(job=job).step is NextStep.DONE
    void = reload(void)
    assert (void.status, void.response_code) == (DocumentStatus.ACCEPTED, "0")
    assert void.attempts.filter(operation="sendSummary", code="0402").exists()


def test_a_cdr_received_after_the_lease_was_reaped_is_stored_and_decides_the_document(fake_sunat, company, monkeypatch):
    """A boleta (no getStatusCdr for 03): without the stored CDR the new owner could only re-send
    and be told 1033, keeping no CDR at all."""
    with transaction.atomic():
        boleta = sunat_document_issue(company=company, store=None, snapshot=scenario("boleta-gravado"))
    (job,) = queue.jobs_claim(owner="slow", limit=1)
    with monkeypatch.context() as patch:
        reaped_during(patch, "send_bill", job)
        sunat_job_perform(job=job)
    boleta = reload(boleta)
    assert boleta.cdr_zip
    assert boleta.status == DocumentStatus.PENDING and not boleta.response_code

    (job,) = queue.jobs_claim(owner="fast", limit=1)
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code) == (NextStep.DONE, "0")
    boleta = reload(boleta)
    assert (boleta.status, boleta.response_code) == (DocumentStatus.ACCEPTED, "0")
    assert boleta.unconfirmed_send_at is None
    assert fake_sunat.fake.registry_json()["receptions"][document_file_name(boleta)] == 1
    assert boleta.attempts.filter(operation="storedCdr", code="0").exists()


def exception_cdr() -> tuple[bytes, object]:
    """SUNAT's sample CDR with exception code 0109 ("no pudo procesar"): retry, it settles nothing."""
    from pathlib import Path

    from django.conf import settings

    from sunat.cdr import cdr_parse

    raw = (Path(settings.SUNAT_SCHEMA_DIR) / "samples" / "cdr" / "cdr-rechazo.zip").read_bytes()
    return raw, cdr_parse(raw)


def answered_first_with(monkeypatch, answer: tuple[bytes, object], *, reaping: SunatJob | None = None) -> None:
    """The first ``send_bill`` gets ``answer`` (after reaping ``reaping``'s lease, if given); the
    later ones reach the fake."""
    real, calls = SunatClient.send_bill, []

    def first_then_real(self, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            return real(self, **kwargs)
        if reaping is not None:
            reap(reaping)
        return answer

    monkeypatch.setattr(SunatClient, "send_bill", first_then_real)


@pytest.mark.parametrize("reaped", [False, True], ids=["lease held", "lease reaped"])
def test_a_cdr_with_an_exception_code_settles_nothing_and_the_next_run_sends_again(
    fake_sunat, company, monkeypatch, reaped
):
    from sunat.cdr import cdr_parse

    with transaction.atomic():
        boleta = sunat_document_issue(company=company, store=None, snapshot=scenario("boleta-gravado"))
    (job,) = queue.jobs_claim(owner="slow", limit=1)
    answered_first_with(monkeypatch, exception_cdr(), reaping=job if reaped else None)
    assert sunat_job_perform(job=job).step is NextStep.RETRY
    assert reload(boleta).status == DocumentStatus.PENDING
    if reaped:
        (job,) = queue.jobs_claim(owner="fast", limit=1)
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code) == (NextStep.DONE, "0")
    boleta = reload(boleta)
    assert (boleta.status, boleta.response_code) == (DocumentStatus.ACCEPTED, "0")
    assert cdr_parse(bytes(boleta.cdr_zip)).response_code == "0"  # the CDR kept is the one that settled it
    assert list(boleta.attempts.order_by("id").values_list("operation", "code")) == [
        ("sendBill", "0109"),
        ("sendBill", "0"),
    ]

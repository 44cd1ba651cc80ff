"""Notes and voids on the SUNAT side, in process: issue, wait for the original, void rules,
correlatives, selectors. Jobs run the way a worker runs them (``worker.queue.jobs_claim`` →
``sunat_job_perform`` → ``worker.queue.job_finish``) against fake_sunat over HTTP.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from sunat.models import DocumentStatus, JobKind, JobStatus, SummarySequence, SunatDocument, SunatJob
from sunat.outcomes import NextStep
from sunat.selectors import (
    sunat_document_hash,
    sunat_document_statuses,
    sunat_receipt_get,
    sunat_void_state,
)
from sunat.services import (
    VoidRefused,
    document_file_name,
    sunat_document_issue,
    sunat_job_perform,
    sunat_void_issue,
    sunat_void_refusal,
)
from sunat.snapshot import DocumentSnapshot, SummarySnapshot, VoidedSnapshot
from sunat.tests.scenarios import (
    note_first_partial,
    schemas_missing_reason,
    signed_bytes_sunat_rejects,
    sold_boleta,
    sold_factura,
    supplier_company_create,
)
from worker import queue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(schemas_missing_reason() is not None, reason=str(schemas_missing_reason())),
]

OWNER = "test-worker"
LIMA = ZoneInfo("America/Lima")


@pytest.fixture
def company():
    return supplier_company_create()


def issue(company, snapshot: DocumentSnapshot, *, original: SunatDocument | None = None) -> SunatDocument:
    with transaction.atomic():
        return sunat_document_issue(company=company, store=None, snapshot=snapshot, original=original)


def void(company, original: SunatDocument, reason: str = "ERROR EN LA VENTA") -> SunatDocument:
    with transaction.atomic():
        return sunat_void_issue(company=company, store=None, original=original, reason=reason, request_id="void-1")


def reload(document: SunatDocument) -> SunatDocument:
    return SunatDocument.objects.get(pk=document.pk)


def job_of(document: SunatDocument) -> SunatJob:
    return SunatJob.objects.get(document=document)


def run_due(limit: int = 10) -> list[tuple[SunatJob, object]]:
    """One worker pass: claim what is due, perform each job, apply its outcome (lease-guarded)."""
    done = []
    for job in queue.jobs_claim(owner=OWNER, limit=limit):
        outcome = sunat_job_perform(job=job)
        assert queue.job_finish(job_id=job.pk, owner=OWNER, outcome=outcome).applied
        done.append((job, outcome))
    return done


def run_until_settled(document: SunatDocument, *, passes: int = 6) -> SunatDocument:
    for _ in range(passes):
        run_due()
        if not SunatJob.objects.filter(document=document, status__in=("pending", "running")).exists():
            break
    return reload(document)


def postpone(document: SunatDocument, seconds: float) -> None:
    """The document's job is not due for ``seconds`` (as after a retry)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sunat_jobs SET run_at = now() + make_interval(secs => %s) WHERE document_id = %s",
            [seconds, document.pk],
        )


def seconds_until_due(document: SunatDocument) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXTRACT(EPOCH FROM run_at - now())::float8 FROM sunat_jobs WHERE document_id = %s", [document.pk]
        )
        return cursor.fetchone()[0]


# ------------------------------------------------------------------ a note waits for its original


def test_a_note_waits_for_its_pending_original_then_goes_right_after_it(fake_sunat, company, settings):
    settings.SUNAT_WAIT_FOR_ORIGINAL_SECONDS = 5
    factura = issue(company, sold_factura())
    note = issue(company, note_first_partial(sold_factura()), original=factura)
    postpone(factura, 3600)  # the factura is waiting for a retry

    [(job, outcome)] = run_due()
    assert job.document_id == note.pk
    assert (outcome.step, outcome.code) == (NextStep.SNOOZE, "original")
    assert "F001-22" in outcome.message
    assert fake_sunat.fake.registry_json()["requests"] == 0  # nothing went to SUNAT
    assert reload(note).xml_hash and reload(note).status == DocumentStatus.PENDING  # signed: the receipt has its hash
    waiting = job_of(note)
    assert waiting.status == JobStatus.PENDING and waiting.attempts == 0 and waiting.errors == []  # not an attempt
    assert 3590 < seconds_until_due(note) <= 3600  # until the factura's job is due, not every 5 s

    postpone(factura, 0)
    [(job, outcome)] = run_due()  # the factura; settling it makes the note due at once
    assert job.document_id == factura.pk and outcome.step is NextStep.DONE
    assert seconds_until_due(note) <= 0
    [(job, outcome)] = run_due()
    assert job.document_id == note.pk and outcome.step is NextStep.DONE
    assert reload(note).status == DocumentStatus.ACCEPTED
    registry = fake_sunat.fake.registry_json()["documents"]
    first, second = registry[document_file_name(reload(factura))], registry[document_file_name(reload(note))]
    assert first["registered_at"] < second["registered_at"]


def test_a_waiting_note_snoozes_the_short_delay_while_its_original_is_running(fake_sunat, company, settings):
    settings.SUNAT_WAIT_FOR_ORIGINAL_SECONDS = 7
    factura = issue(company, sold_factura())
    note = issue(company, note_first_partial(sold_factura()), original=factura)
    SunatJob.objects.filter(document=factura).update(status=JobStatus.RUNNING, lease_owner="other")
    outcome = sunat_job_perform(job=job_of(note))
    assert (outcome.step, outcome.delay_seconds) == (NextStep.SNOOZE, 7.0)


def test_settling_the_original_notifies_the_workers_when_it_wakes_a_note(fake_sunat, company, settings):
    settings.SUNAT_WAIT_FOR_ORIGINAL_SECONDS = 600
    factura = issue(company, sold_factura())
    note = issue(company, note_first_partial(sold_factura()), original=factura)
    postpone(factura, 3600)
    run_due()  # the note snoozes
    postpone(factura, 0)
    from worker.listen import listen_conninfo

    info = listen_conninfo()
    with psycopg.connect(**info) if isinstance(info, dict) else psycopg.connect(info, autocommit=True) as listener:
        listener.autocommit = True
        listener.execute("LISTEN sunat_jobs")
        run_due()  # the factura is accepted
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.payload for n in notes] == [str(company.pk)]
    assert seconds_until_due(note) <= 0


def test_a_note_of_an_original_sunat_rejected_stops_for_a_person(fake_sunat, company):
    factura = issue(company, sold_factura())
    note = issue(company, note_first_partial(sold_factura()), original=factura)
    postpone(note, 3600)
    SunatDocument.objects.filter(pk=factura.pk).update(
        status=DocumentStatus.REJECTED, response_code="2800", response_description="El dato ingresado no cumple"
    )
    SunatJob.objects.filter(document=factura).update(status=JobStatus.DONE)
    postpone(note, 0)
    [(job, outcome)] = run_due()
    assert (outcome.step, outcome.code) == (NextStep.FIX, "original")
    note = reload(note)
    assert note.status == DocumentStatus.ERROR and note.response_code == "original"
    assert "rechazó la factura F001-22 (2800" in note.response_description
    assert job_of(note).status == JobStatus.FAILED
    assert fake_sunat.fake.registry_json()["requests"] == 0


def test_a_note_of_an_original_that_ended_in_error_stops_and_one_being_retried_waits(fake_sunat, company):
    factura = issue(company, sold_factura())
    note = issue(company, note_first_partial(sold_factura()), original=factura)
    SunatDocument.objects.filter(pk=factura.pk).update(status=DocumentStatus.ERROR, response_code="2335")
    SunatJob.objects.filter(document=factura).update(status=JobStatus.FAILED)
    outcome = sunat_job_perform(job=job_of(note))
    assert outcome.step is NextStep.FIX and "no llegó a SUNAT (2335" in outcome.message
    # A person retries the factura: a new note of it waits again.
    second = issue(company, dataclasses.replace(note_first_partial(sold_factura()), number=99), original=factura)
    queue.jobs_retry_now(job_ids=[job_of(factura).pk])
    assert sunat_job_perform(job=job_of(second)).step is NextStep.SNOOZE


def test_the_rejection_of_an_original_wakes_its_waiting_note_which_then_stops(fake_sunat, company):
    factura = issue(company, sold_factura())
    note = issue(company, note_first_partial(sold_factura()), original=factura)
    signed_bytes_sunat_rejects(factura)
    postpone(factura, 3600)
    run_due()  # the note snoozes for an hour
    assert seconds_until_due(note) > 3500
    postpone(factura, 0)
    [(job, outcome)] = run_due()
    assert job.document_id == factura.pk and reload(factura).status == DocumentStatus.REJECTED
    assert seconds_until_due(note) <= 0  # woken by the rejection
    [(job, outcome)] = run_due()
    assert job.document_id == note.pk and outcome.step is NextStep.FIX
    assert "SUNAT rechazó la factura F001-22 (2800" in outcome.message
    assert document_file_name(reload(note)) not in fake_sunat.fake.registry_json()["documents"]


def test_note_original_must_match_the_reference(company):
    factura = issue(company, sold_factura())
    other = issue(company, dataclasses.replace(sold_factura(), number=23))
    with pytest.raises(ValueError, match="F001-22"), transaction.atomic():
        sunat_document_issue(company=company, store=None, snapshot=note_first_partial(sold_factura()), original=other)
    with pytest.raises(ValueError, match="nota"), transaction.atomic():
        sunat_document_issue(company=company, store=None, snapshot=sold_boleta(), original=factura)
    assert SunatDocument.objects.count() == 2


# ------------------------------------------------------------------------------------- voids


def test_voiding_a_factura_is_an_ra_and_a_boleta_an_rc_condition_3(company):
    factura = issue(company, sold_factura())
    boleta = issue(company, sold_boleta())
    ra = void(company, factura, reason="ERROR EN EL RUC\nDEL CLIENTE")
    rc = void(company, boleta)
    today = timezone.localdate(timezone.now(), LIMA)
    assert (ra.document_type, ra.series, ra.number, ra.original_id) == ("RA", f"RA-{today:%Y%m%d}", 1, factura.pk)
    assert (rc.document_type, rc.series, rc.number, rc.original_id) == ("RC", f"RC-{today:%Y%m%d}", 1, boleta.pk)
    ra_snapshot = VoidedSnapshot.from_json(ra.snapshot)
    assert (
        ra_snapshot.issue_date == today
        and ra_snapshot.reference_date == timezone.localtime(factura.issued_at, LIMA).date()
    )
    [line] = ra_snapshot.lines
    assert (line.document_type, line.series, line.number, line.reason) == (
        "01",
        "F001",
        22,
        "ERROR EN EL RUC DEL CLIENTE",
    )
    [summary_line] = SummarySnapshot.from_json(rc.snapshot).lines
    boleta_snapshot = DocumentSnapshot.from_json(boleta.snapshot)
    assert (summary_line.document_type, summary_line.number, summary_line.condition) == ("03", "B001-21", "3")
    assert summary_line.total == boleta_snapshot.totals.total and summary_line.igv == boleta_snapshot.totals.igv
    assert summary_line.customer_doc_number == boleta_snapshot.customer.doc_number
    for document in (ra, rc):
        job = job_of(document)
        assert (job.kind, job.status, job.request_id) == (JobKind.SEND_SUMMARY, JobStatus.PENDING, "void-1")


def test_a_note_of_a_boleta_is_voided_by_rc_with_its_reference_and_of_a_factura_by_ra(company):
    boleta = issue(company, sold_boleta())
    factura = issue(company, sold_factura())
    boleta_note = issue(company, note_first_partial(sold_boleta()), original=boleta)
    factura_note = issue(company, note_first_partial(sold_factura()), original=factura)
    [line] = SummarySnapshot.from_json(void(company, boleta_note).snapshot).lines
    assert (line.document_type, line.number, line.reference_type, line.reference_number) == (
        "07",
        "BC01-12",
        "03",
        "B001-21",
    )
    [line] = VoidedSnapshot.from_json(void(company, factura_note).snapshot).lines
    assert (line.document_type, line.series, line.number) == ("07", "FC01", 12)


def test_two_voids_the_same_day_get_correlatives_1_and_2_per_kind(company):
    facturas = [issue(company, dataclasses.replace(sold_factura(), number=n)) for n in (31, 32)]
    boleta = issue(company, sold_boleta())
    first, second = (void(company, f) for f in facturas)
    assert (first.number, second.number) == (1, 2) and first.series == second.series
    assert void(company, boleta).number == 1  # RC counts apart from RA
    assert {(s.kind, s.last) for s in SummarySequence.objects.all()} == {("RA", 2), ("RC", 1)}


def test_a_refused_void_raises_and_writes_nothing(company):
    factura = issue(company, sold_factura())
    void(company, factura)
    with pytest.raises(VoidRefused) as refused, transaction.atomic():
        sunat_void_issue(company=company, store=None, original=factura, reason="OTRA VEZ")
    assert refused.value.code == "voiding" and "anulación en curso" in refused.value.message
    assert SunatDocument.objects.filter(document_type="RA").count() == 1
    assert SummarySequence.objects.get().last == 1


def test_concurrent_voids_in_threads_get_distinct_gap_free_correlatives(company):
    """Four requests void four facturas at once; one of them rolls back after taking its number.
    The three that commit hold 1, 2, 3: the rolled-back number was handed to the next one."""
    facturas = [issue(company, dataclasses.replace(sold_factura(), number=40 + i)) for i in range(4)]
    barrier = threading.Barrier(4)
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    class Rollback(Exception):
        pass

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                document = sunat_void_issue(company=company, store=None, original=facturas[index], reason="X")
                if index == 1:
                    raise Rollback
                results[index] = document.number
        except Rollback:
            pass
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results.values()) == [1, 2, 3]
    assert sorted(SunatDocument.objects.filter(document_type="RA").values_list("number", flat=True)) == [1, 2, 3]
    assert SummarySequence.objects.get(kind="RA").last == 3


def test_the_database_refuses_an_original_of_another_company(company):
    from django.db import IntegrityError

    from stores.models import Company

    other = Company.objects.create(ruc="20100066603", legal_name="OTRA S.A.C.", address="JR. X 1", ubigeo="150101")
    theirs = issue(
        other, dataclasses.replace(sold_factura(), supplier=dataclasses.replace(sold_factura().supplier, ruc=other.ruc))
    )
    note = issue(company, note_first_partial(sold_factura()), original=issue(company, sold_factura()))
    with pytest.raises(IntegrityError, match="sunat_document_original_same_company"), transaction.atomic():
        SunatDocument.objects.filter(pk=note.pk).update(original=theirs)  # only through the single-column FK
    with pytest.raises(ValueError, match="otra empresa"), transaction.atomic():
        sunat_void_issue(company=company, store=None, original=theirs, reason="X")
    # Correlatives are per company: the other company's first void of the day is 1 too.
    assert void(company, reload(note)).number == 1 and void(other, theirs).number == 1


def _document_issued_at(company, when: datetime) -> SunatDocument:
    return issue(company, dataclasses.replace(sold_factura(), issued_at=when))


def test_void_refusal_at_the_window_edge_uses_lima_dates(company, settings):
    settings.SUNAT_VOID_WINDOW_DAYS = 7
    # 23:30 in Lima on 2026-11-20 is already the 21st in UTC.
    original = _document_issued_at(company, datetime(2026, 11, 21, 4, 30, tzinfo=UTC))
    assert sunat_void_refusal(original=original, on=date(2026, 11, 20)) is None
    assert sunat_void_refusal(original=original, on=date(2026, 11, 27)) is None  # 7 days: still allowed
    refusal = sunat_void_refusal(original=original, on=date(2026, 11, 28))  # 8 days
    assert refusal is not None and "20/11/2026" in refusal and "8 días" in refusal
    assert "nota de crédito con motivo 01" in refusal
    settings.SUNAT_VOID_WINDOW_DAYS = 8
    assert sunat_void_refusal(original=original, on=date(2026, 11, 28)) is None


def test_sunat_void_issue_refuses_past_the_window_with_today_in_lima(company, settings):
    settings.SUNAT_VOID_WINDOW_DAYS = 7
    old = _document_issued_at(company, timezone.now() - timedelta(days=8, hours=1))
    with pytest.raises(VoidRefused) as refused, transaction.atomic():
        sunat_void_issue(company=company, store=None, original=old, reason="X")
    assert refused.value.code == "window"
    assert not SunatDocument.objects.filter(document_type="RA").exists()


def test_void_refusal_for_rejected_documents_and_existing_voids(company):
    today = timezone.localdate(timezone.now(), LIMA)
    rejected = issue(company, dataclasses.replace(sold_factura(), number=51))
    SunatDocument.objects.filter(pk=rejected.pk).update(status=DocumentStatus.REJECTED)
    assert "rechazó" in sunat_void_refusal(original=reload(rejected), on=today)

    factura = issue(company, dataclasses.replace(sold_factura(), number=52))
    ra = void(company, factura)
    assert "en curso" in sunat_void_refusal(original=factura, on=today)
    SunatDocument.objects.filter(pk=ra.pk).update(status=DocumentStatus.ERROR)
    assert "en curso" in sunat_void_refusal(original=factura, on=today)  # a person must act on it
    SunatDocument.objects.filter(pk=ra.pk).update(status=DocumentStatus.ACCEPTED)
    assert "ya fue anulado" in sunat_void_refusal(original=factura, on=today)
    SunatDocument.objects.filter(pk=ra.pk).update(status=DocumentStatus.REJECTED)
    assert sunat_void_refusal(original=factura, on=today) is None  # SUNAT refused that void: try again
    assert "Solo se anulan" in sunat_void_refusal(original=reload(ra), on=today)


def test_void_state_selector(company):
    factura = issue(company, sold_factura())
    assert sunat_void_state(original_id=factura.pk) is None
    ra = void(company, factura)
    for status, state in (
        (DocumentStatus.PENDING, "voiding"),
        (DocumentStatus.ERROR, "voiding"),
        (DocumentStatus.REJECTED, "voiding"),
        (DocumentStatus.ACCEPTED, "voided"),
        (DocumentStatus.OBSERVED, "voided"),
    ):
        SunatDocument.objects.filter(pk=ra.pk).update(status=status)
        assert sunat_void_state(original_id=factura.pk) == state, status
    assert sunat_void_state(original_id=factura.pk, company_id=company.pk + 1) is None


def test_statuses_in_one_query_and_the_receipt_of_a_note(company, django_assert_num_queries):
    factura = issue(company, sold_factura())
    note = issue(company, note_first_partial(sold_factura()), original=factura)
    with django_assert_num_queries(1):
        statuses = sunat_document_statuses(document_ids=[factura.pk, note.pk, 10**9])
    assert statuses == {factura.pk: "pending", note.pk: "pending"}
    assert sunat_document_hash(document_id=note.pk) == ""
    receipt = sunat_receipt_get(document_id=note.pk)
    assert (receipt.document_type, receipt.number, receipt.status_label) == ("07", "FC01-12", "Pendiente")
    assert (receipt.reference_type, receipt.reference_number, receipt.reason_code) == ("01", "F001-22", "07")
    assert receipt.qr_payload.startswith("20000000001|07|FC01|12|") and receipt.qr_payload.endswith("||")
    assert sunat_receipt_get(document_id=note.pk, company_id=company.pk + 1) is None


# --------------------------------------------------------------- voids through fake_sunat


def test_a_factura_void_waits_for_the_factura_then_sunat_accepts_it(fake_sunat, company):
    factura = issue(company, sold_factura())
    ra = void(company, factura)
    postpone(factura, 3600)
    [(job, outcome)] = run_due()
    assert job.document_id == ra.pk and outcome.step is NextStep.SNOOZE and not reload(ra).ticket
    postpone(factura, 0)
    ra = run_until_settled(ra)
    assert ra.status == DocumentStatus.ACCEPTED and ra.cdr_zip and ra.ticket
    assert sunat_void_state(original_id=factura.pk) == "voided"
    registry = fake_sunat.fake.registry_json()
    assert registry["voided"] == {document_file_name(reload(factura)): document_file_name(ra)}


def test_a_boleta_void_is_accepted_and_a_note_of_the_voided_boleta_is_rejected(fake_sunat, company):
    boleta = issue(company, sold_boleta())
    rc = void(company, boleta)
    rc = run_until_settled(rc)
    assert rc.status == DocumentStatus.ACCEPTED and sunat_void_state(original_id=boleta.pk) == "voided"
    note = issue(company, note_first_partial(sold_boleta()), original=boleta)
    note = run_until_settled(note)
    assert (note.status, note.response_code) == (DocumentStatus.REJECTED, "2120")


def test_a_void_sunat_rejects_ends_rejected_with_sunats_message(fake_sunat, company):
    factura = run_until_settled(issue(company, sold_factura()))
    assert factura.status == DocumentStatus.ACCEPTED
    # Someone voided it in SUNAT SOL meanwhile: SUNAT refuses our RA (2106).
    fake_sunat.fake.voided[document_file_name(factura)] = "SOL"
    ra = run_until_settled(void(company, factura))
    assert (ra.status, ra.response_code) == (DocumentStatus.REJECTED, "2106")
    assert ra.response_description == "Factura a dar de baja ya se encuentra en estado de baja"
    assert job_of(ra).status == JobStatus.DONE
    assert sunat_void_state(original_id=factura.pk) == "voiding"  # until a person acts
    assert sunat_void_refusal(original=factura, on=timezone.localdate(timezone.now(), LIMA)) is None


def test_notes_of_boletas_are_never_asked_with_getstatuscdr(fake_sunat, company, settings):
    settings.SUNAT_RETRY_DELAYS = [0.0] * 4
    boleta = run_until_settled(issue(company, sold_boleta()))
    note = issue(company, note_first_partial(sold_boleta()), original=boleta)
    fake_sunat.fake.force("timeout-after-register")
    run_due()  # sent, registered, answer lost: verify next
    note = run_until_settled(note)
    assert note.status == DocumentStatus.ACCEPTED and note.response_code == "1033"
    assert not note.attempts.filter(operation="getStatusCdr").exists()

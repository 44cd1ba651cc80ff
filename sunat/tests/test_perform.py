"""sunat_job_perform end to end: real builders, real signer, real client, fake_sunat over HTTP.

Each test issues a document the way checkout does (``sunat_document_issue`` in a transaction),
then performs its job as the worker would (autocommit, no transaction open), and checks what
SUNAT (the double) registered and what the document stored.
"""

from __future__ import annotations

import io
import socket
import zipfile

import pytest
from django.db import transaction

from stores.models import Company
from sunat.files import zip_bytes
from sunat.models import DocumentStatus, JobKind, SunatAccount, SunatAttempt, SunatDocument, SunatJob
from sunat.outcomes import NextStep
from sunat.services import document_file_name, sunat_document_issue, sunat_job_perform, sunat_summary_issue
from sunat.snapshot import DocumentSnapshot
from sunat.soap import SunatClient
from sunat.tests.scenarios import (
    referenced_names,
    scenario,
    schemas_missing_reason,
    signed_bytes_sunat_rejects,
    supplier_company_create,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _schemas():
    reason = schemas_missing_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def company() -> Company:
    return supplier_company_create()


def issue(company: Company, name: str):
    snapshot = scenario(name)
    with transaction.atomic():
        if isinstance(snapshot, DocumentSnapshot):
            document = sunat_document_issue(company=company, store=None, snapshot=snapshot)
        else:
            document = sunat_summary_issue(company=company, snapshot=snapshot)
    return document, document.jobs.get()


def reload(document: SunatDocument) -> SunatDocument:
    return SunatDocument.objects.select_related("company").get(pk=document.pk)


def stored_bytes(document: SunatDocument) -> bytes:
    return bytes(reload(document).signed_xml)


@pytest.mark.parametrize(
    ("name", "polls"),
    [
        ("factura-contado", 1),
        ("boleta-mixta", 1),
        ("nc-factura", 1),
        ("nd-factura", 1),
        ("rc-condiciones-1-2-3", 3),  # sendSummary → ticket, getStatus 98, getStatus 0
        ("ra-facturas", 3),
    ],
)
def test_round_trip_per_document_type_ends_with_a_stored_cdr(fake_sunat, company, name, polls):
    for held in referenced_names(scenario(name)):  # what a note or a void names, SUNAT has
        fake_sunat.fake.hold(held)
    document, job = issue(company, name)
    outcomes = [sunat_job_perform(job=job) for _ in range(polls)]
    assert [o.step for o in outcomes[:-1]] == [NextStep.SNOOZE] * (polls - 1)
    assert outcomes[-1].step is NextStep.DONE, outcomes[-1]
    document = reload(document)
    assert document.status == DocumentStatus.ACCEPTED, (document.response_code, document.response_description)
    assert document.response_code == "0"
    file_name = document_file_name(document)
    cdr = zipfile.ZipFile(io.BytesIO(bytes(document.cdr_zip)))
    assert cdr.namelist() == [f"R-{file_name}.xml"]
    assert len(document.xml_hash) == 28 and document.signed_at is not None
    registered = fake_sunat.fake.registry_json()["documents"][file_name]
    assert registered["digest"] == document.xml_hash  # SUNAT got exactly the stored bytes
    assert document.unconfirmed_send_at is None
    if polls > 1:
        assert document.ticket
    attempts = list(SunatAttempt.objects.filter(document=document).values_list("operation", flat=True))
    assert attempts == (["sendSummary", "getStatus"] if polls > 1 else ["sendBill"])


def test_signed_bytes_are_stored_before_the_first_send_and_resent_unchanged(fake_sunat, company):
    document, job = issue(company, "boleta-gravado")
    fake_sunat.fake.force("0109")
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code, outcome.verify_next) == (NextStep.RETRY, "0109", False)
    first = reload(document)
    assert first.signed_xml and first.status == DocumentStatus.PENDING
    assert first.unconfirmed_send_at is None  # SUNAT answered: nothing registered
    before = bytes(first.signed_xml)
    assert sunat_job_perform(job=job).step is NextStep.DONE
    after = reload(document)
    assert bytes(after.signed_xml) == before and after.xml_hash == first.xml_hash
    assert fake_sunat.fake.registry_json()["documents"][document_file_name(after)]["digest"] == after.xml_hash
    assert list(SunatAttempt.objects.filter(document=document).values_list("code", flat=True)) == ["0109", "0"]


def test_timeout_after_register_then_verify_asks_getstatuscdr_and_does_not_resend(fake_sunat, company):
    document, job = issue(company, "factura-contado")
    fake_sunat.fake.force("timeout-after-register")
    outcome = sunat_job_perform(job=job)
    assert outcome.step is NextStep.RETRY and outcome.verify_next and outcome.code == "read-timeout"
    assert reload(document).unconfirmed_send_at is not None
    job.kind = JobKind.VERIFY  # what the worker does with verify_next
    outcome = sunat_job_perform(job=job)
    assert outcome.step is NextStep.DONE
    document = reload(document)
    assert document.status == DocumentStatus.ACCEPTED and document.cdr_zip
    registry = fake_sunat.fake.registry_json()
    assert registry["receptions"][document_file_name(document)] == 1  # never sent twice
    operations = list(SunatAttempt.objects.filter(document=document).values_list("operation", flat=True))
    assert operations == ["sendBill", "getStatusCdr"]


def test_crashed_send_is_verified_even_when_the_job_kind_was_not_changed(fake_sunat, company):
    document, job = issue(company, "nc-factura")
    fake_sunat.fake.force("drop-after-register")
    outcome = sunat_job_perform(job=job)
    assert outcome.step is NextStep.RETRY and outcome.verify_next and outcome.code == "connection-dropped"
    assert job.kind == JobKind.SEND_DOCUMENT
    assert sunat_job_perform(job=job).step is NextStep.DONE
    assert fake_sunat.fake.registry_json()["receptions"][document_file_name(reload(document))] == 1


def test_boleta_timeout_after_register_resends_and_takes_1033_as_registered_without_cdr(fake_sunat, company):
    document, job = issue(company, "boleta-gravado")
    fake_sunat.fake.force("timeout-after-register")
    assert sunat_job_perform(job=job).verify_next
    job.kind = JobKind.VERIFY
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code) == (NextStep.DONE, "1033")
    document = reload(document)
    assert document.status == DocumentStatus.ACCEPTED
    assert document.response_code == "1033" and not document.cdr_zip
    assert "sin CDR" in document.response_description
    registry = fake_sunat.fake.registry_json()
    name = document_file_name(document)
    assert registry["receptions"][name] == 2 and list(registry["documents"]) == [name]


def test_verify_when_sunat_has_nothing_sends(fake_sunat, company):
    document, job = issue(company, "factura-contado")
    job.kind = JobKind.VERIFY
    assert sunat_job_perform(job=job).step is NextStep.DONE
    operations = list(SunatAttempt.objects.filter(document=document).values_list("operation", "code"))
    assert operations == [("getStatusCdr", "0011"), ("sendBill", "0")]


def test_duplicate_factura_1033_fetches_the_cdr_with_getstatuscdr(fake_sunat, company):
    from sunat.services import sunat_document_sign

    document, job = issue(company, "factura-contado")
    document = sunat_document_sign(document=reload(document))
    name = document_file_name(document)
    SunatClient.for_company(company).send_bill(
        file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=bytes(document.signed_xml))
    )
    outcome = sunat_job_perform(job=job)
    assert outcome.step is NextStep.DONE
    document = reload(document)
    assert document.status == DocumentStatus.ACCEPTED and document.response_code == "0" and document.cdr_zip
    operations = list(SunatAttempt.objects.filter(document=document).values_list("operation", "code"))
    assert operations == [("sendBill", "1033"), ("getStatusCdr", "0")]


def test_one_changed_byte_in_the_stored_xml_is_2335_and_needs_a_fix(fake_sunat, company):
    from sunat.services import sunat_document_sign

    document, job = issue(company, "boleta-gravado")
    document = sunat_document_sign(document=reload(document))
    xml = bytes(document.signed_xml)
    index = xml.index(b"CLIENTES VARIOS")
    tampered = xml[:index] + b"K" + xml[index + 1 :]
    SunatDocument.objects.filter(pk=document.pk).update(signed_xml=tampered)
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code) == (NextStep.FIX, "2335")
    document = reload(document)
    assert document.status == DocumentStatus.ERROR and document.response_code == "2335"
    assert fake_sunat.fake.registry_json()["documents"] == {}


def test_rejection_inside_a_cdr_burns_the_number(fake_sunat, company):
    document, job = issue(company, "factura-contado")
    # A factura to a DNI (schemeID 1) instead of a RUC: SUNAT's rules reject it (2800) in a CDR.
    signed_bytes_sunat_rejects(document)
    outcome = sunat_job_perform(job=job)
    document = reload(document)
    assert outcome.step is NextStep.DONE, outcome
    assert document.status == DocumentStatus.REJECTED
    assert 2000 <= int(document.response_code) <= 3999 and document.cdr_zip
    assert document_file_name(document) in fake_sunat.fake.registry_json()["documents"]


def test_wrong_sol_password_pauses_the_company(fake_sunat, company):
    account = SunatAccount.objects.get(company=company)
    account.sol_password = "otra"
    account.save()
    document, job = issue(company, "boleta-gravado")
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code) == (NextStep.PAUSE_COMPANY, "0102")
    assert reload(document).status == DocumentStatus.PENDING


def test_missing_certificate_pauses_the_company_without_sending(fake_sunat, company):
    SunatAccount.objects.filter(company=company).update(certificate=None)
    document, job = issue(company, "boleta-gravado")
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code) == (NextStep.PAUSE_COMPANY, "certificate")
    assert not reload(document).signed_xml
    assert fake_sunat.fake.registry_json()["requests"] == 0


def test_http_503_and_read_timeout_retry_with_verification(fake_sunat, company):
    document, job = issue(company, "boleta-gravado")
    fake_sunat.fake.force("http-503")
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code, outcome.verify_next) == (NextStep.RETRY, "http-503", True)
    fake_sunat.fake.force("timeout")
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code, outcome.verify_next) == (NextStep.RETRY, "read-timeout", True)
    assert fake_sunat.fake.registry_json()["documents"] == {}


def test_unreachable_sunat_is_a_retry_without_verification(settings, company):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.SUNAT_ENV = "fake"
    settings.SUNAT_ENDPOINT = f"http://127.0.0.1:{port}/ol-ti-itcpfegem/billService"
    settings.SUNAT_CONSULT_ENDPOINT = f"http://127.0.0.1:{port}/ol-it-wsconscpegem/billConsultService"
    document, job = issue(company, "boleta-gravado")
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.code, outcome.verify_next) == (NextStep.RETRY, "connect-error", False)
    document = reload(document)
    assert document.unconfirmed_send_at is None and document.signed_xml


def test_no_transaction_may_be_open_during_perform(fake_sunat, company):
    _document, job = issue(company, "boleta-gravado")
    with pytest.raises(AssertionError), transaction.atomic():
        sunat_job_perform(job=job)


def test_a_resolved_document_is_not_sent_again(fake_sunat, company):
    document, job = issue(company, "boleta-gravado")
    assert sunat_job_perform(job=job).step is NextStep.DONE
    assert sunat_job_perform(job=job).step is NextStep.DONE
    assert fake_sunat.fake.registry_json()["receptions"][document_file_name(reload(document))] == 1


def test_summary_rejected_by_sunat_answers_99_with_a_rejection_cdr(fake_sunat, company):
    from sunat import xml as ubl
    from sunat.certificates import company_certificate_load
    from sunat.signing import document_sign
    from sunat.snapshot import SummarySnapshot

    document, job = issue(company, "rc-condiciones-1-2-3")
    unsigned = ubl.build(SummarySnapshot.from_json(reload(document).snapshot))
    line_type = b"<cbc:DocumentTypeCode>03</cbc:DocumentTypeCode>"
    assert line_type in unsigned
    broken = unsigned.replace(line_type, b"<cbc:DocumentTypeCode>01</cbc:DocumentTypeCode>", 1)  # a factura in an RC
    signed = document_sign(xml=broken, certificate=company_certificate_load(company=company))
    SunatDocument.objects.filter(pk=document.pk).update(signed_xml=signed.xml, xml_hash=signed.digest_value)
    steps = [sunat_job_perform(job=job).step for _ in range(3)]
    assert steps == [NextStep.SNOOZE, NextStep.SNOOZE, NextStep.DONE]
    document = reload(document)
    assert document.status == DocumentStatus.REJECTED and document.response_code == "2241" and document.cdr_zip
    assert document.ticket


def test_fault_without_a_sunat_code_retries_and_verifies(fake_sunat, company):
    document, job = issue(company, "factura-contado")
    fake_sunat.fake.force("internal-error")
    outcome = sunat_job_perform(job=job)
    assert (outcome.step, outcome.verify_next) == (NextStep.RETRY, True)
    assert "Internal Error" in outcome.message
    job.kind = JobKind.VERIFY
    assert sunat_job_perform(job=job).step is NextStep.DONE
    assert reload(document).status == DocumentStatus.ACCEPTED


def test_a_fault_on_getstatuscdr_keeps_the_send_unconfirmed(fake_sunat, company):
    document, job = issue(company, "factura-contado")
    fake_sunat.fake.force("timeout-after-register", "0102")
    assert sunat_job_perform(job=job).verify_next
    job.kind = JobKind.VERIFY
    outcome = sunat_job_perform(job=job)  # getStatusCdr answers 0102: pause, still unverified
    assert (outcome.step, outcome.code, outcome.verify_next) == (NextStep.PAUSE_COMPANY, "0102", True)
    assert reload(document).unconfirmed_send_at is not None
    assert reload(document).status == DocumentStatus.PENDING
    job.kind = JobKind.SEND_DOCUMENT  # even if the kind were lost, the flag makes it verify first
    assert sunat_job_perform(job=job).step is NextStep.DONE
    assert fake_sunat.fake.registry_json()["receptions"][document_file_name(reload(document))] == 1


@pytest.mark.parametrize("code", ["1033", "0402"])
def test_a_summary_sunat_already_holds_is_an_error_for_a_person_not_a_silent_done(fake_sunat, company, code):
    """The ticket was lost: SUNAT answers "already registered/presented" to the re-send."""
    document, job = issue(company, "rc-condiciones-1-2-3")
    fake_sunat.fake.force(code)
    outcome = sunat_job_perform(job=job)
    assert outcome.step is NextStep.FIX
    document = reload(document)
    assert document.status == DocumentStatus.ERROR and document.response_code == code
    assert "SUNAT SOL" in document.response_description
    assert document.attempts.filter(operation="sendSummary", code=code).exists()


def test_a_worker_that_lost_its_lease_keeps_the_cdr_but_never_decides_the_document(fake_sunat, company):
    """Reaped while its send was in flight: SUNAT's CDR is stored, the job's new owner decides the
    document from it (invariant 7)."""
    document, job = issue(company, "factura-contado")
    SunatJob.objects.filter(pk=job.pk).update(status="running", lease_owner="w1")
    job.refresh_from_db()
    SunatJob.objects.filter(pk=job.pk).update(status="pending", lease_owner="", kind=JobKind.VERIFY)  # the reaper
    sunat_job_perform(job=job)  # w1's late run
    document = reload(document)
    assert document.status == DocumentStatus.PENDING and not document.response_code and document.cdr_zip
    assert document.unconfirmed_send_at is not None and not document.observations
    assert document.attempts.filter(operation="sendBill").exists()
    # The owner of the lease does write, from the stored CDR.
    SunatJob.objects.filter(pk=job.pk).update(status="running", lease_owner="w2")
    job.refresh_from_db()
    sunat_job_perform(job=job)
    assert reload(document).status == DocumentStatus.ACCEPTED
    assert fake_sunat.fake.registry_json()["receptions"][document_file_name(document)] == 1

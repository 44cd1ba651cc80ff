"""Demo history (``seed_demo --history-days``) on the SUNAT side: issued settled as accepted with
no job, never sent, never exported; notes and voids of it are demo history too; a real note or
void of it is refused, saying why."""

from __future__ import annotations

import base64
import dataclasses
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from sunat.models import DocumentStatus, SunatAttempt, SunatDocument, SunatJob
from sunat.outcomes import NextStep
from sunat.selectors import sunat_document_is_demo, sunat_receipt_get, sunat_void_state
from sunat.services import (
    VoidRefused,
    sunat_document_issue,
    sunat_job_perform,
    sunat_void_issue,
    sunat_void_refusal,
)
from sunat.tests.scenarios import note_first_partial, sold_boleta, sold_factura, supplier_company_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return supplier_company_create()


def days_ago(snapshot, days: int):
    return dataclasses.replace(snapshot, issued_at=timezone.now() - timedelta(days=days))


def issue(company, snapshot, *, demo: bool, original: SunatDocument | None = None) -> SunatDocument:
    with transaction.atomic():
        return sunat_document_issue(company=company, store=None, snapshot=snapshot, original=original, demo=demo)


def test_a_demo_document_is_settled_as_accepted_with_no_job_and_a_hash(company):
    demo = issue(company, days_ago(sold_boleta(), 3), demo=True)
    real = issue(company, dataclasses.replace(sold_boleta(), number=99), demo=False)
    stored = SunatDocument.objects.get(pk=demo.pk)
    assert (stored.is_demo, stored.status, stored.response_code) == (True, DocumentStatus.ACCEPTED, "demo")
    assert not stored.signed_xml and not SunatJob.objects.filter(document=stored).exists()
    assert len(base64.b64decode(stored.xml_hash)) == 20  # the shape of a DigestValue: the QR prints at once
    assert sunat_document_is_demo(document_id=demo.pk) and not sunat_document_is_demo(document_id=real.pk)
    assert not sunat_document_is_demo(document_id=real.pk + 1000)
    receipt = sunat_receipt_get(document_id=demo.pk)
    assert receipt.is_demo and receipt.status == "accepted" and receipt.qr_payload.endswith(f"|{stored.xml_hash}|")
    assert SunatJob.objects.filter(document=real).count() == 1  # a real one is queued as ever


@pytest.mark.django_db(transaction=True)  # perform runs outside any transaction, as in the worker
def test_a_stray_job_of_a_demo_document_sends_nothing(company):
    """Settled documents are never sent again: a demo one is settled (accepted, code ``demo``)."""
    demo = issue(company, days_ago(sold_boleta(), 1), demo=True)
    stray = SunatJob.objects.create(company=company, document=demo)
    outcome = sunat_job_perform(job=stray)
    assert outcome.step is NextStep.DONE and outcome.code == "demo"
    assert (
        not SunatAttempt.objects.filter(document=demo).exists() and not SunatDocument.objects.get(pk=demo.pk).signed_xml
    )


def test_a_note_of_demo_history_is_demo_and_a_real_one_is_refused(company):
    original = issue(company, days_ago(sold_boleta(), 2), demo=True)
    note = note_first_partial(sold_boleta())
    with pytest.raises(ValueError, match="SUNAT nunca recibió"):
        issue(company, note, demo=False, original=original)
    demo_note = issue(company, days_ago(note, 1), demo=True, original=original)
    assert demo_note.is_demo and demo_note.status == DocumentStatus.ACCEPTED and not SunatJob.objects.exists()
    sold = dataclasses.replace(sold_boleta(), number=50)
    real = issue(company, sold, demo=False)
    with pytest.raises(ValueError, match="demostración"):
        issue(company, note_first_partial(sold, number=51), demo=True, original=real)


@pytest.mark.parametrize("sold, kind", [(sold_boleta, "RC"), (sold_factura, "RA")])
def test_a_demo_void_is_dated_in_the_past_and_settled_and_a_real_void_is_refused(company, sold, kind):
    original = issue(company, days_ago(sold(), 5), demo=True)
    refusal = sunat_void_refusal(original=original, on=timezone.localdate())
    assert refusal and "SUNAT nunca recibió" in refusal
    with pytest.raises(VoidRefused) as refused, transaction.atomic():
        sunat_void_issue(company=company, store=None, original=original, reason="ERROR")
    assert refused.value.code == "demo"
    with pytest.raises(ValueError, match="demostración"), transaction.atomic():
        sunat_void_issue(company=company, store=None, original=original, reason="ERROR", issued_at=timezone.now())
    assert sunat_void_state(original_id=original.pk) is None  # nothing recorded

    when = timezone.now() - timedelta(days=4)
    with transaction.atomic():
        void = sunat_void_issue(
            company=company, store=None, original=original, reason="ERROR", demo=True, issued_at=when
        )
    assert (void.document_type, void.is_demo, void.status) == (kind, True, DocumentStatus.ACCEPTED)
    assert void.issued_at == when and void.series == f"{kind}-{timezone.localdate(when):%Y%m%d}"
    assert not SunatJob.objects.exists()
    assert sunat_void_state(original_id=original.pk) == "voided"


def test_a_demo_void_of_a_real_document_is_a_programming_error(company):
    real = issue(company, sold_boleta(), demo=False)
    with pytest.raises(ValueError, match="demostración"), transaction.atomic():
        sunat_void_issue(company=company, store=None, original=real, reason="ERROR", demo=True)
    assert SunatDocument.objects.count() == 1

"""fake_sunat answers like SUNAT where our classification depends on it: a document sent again
is 1032 when SUNAT holds it as rejected or voided (the number is dead), 1033 when it holds it
accepted; an anonymous boleta (or B-series note) above the S/ 700.00 limit of ``sunat.rules`` is
rejected 2396 by SUNAT's server, not by its SFS stylesheets.
"""

from __future__ import annotations

import types

import pytest
from django.db import transaction
from lxml import etree

from sunat import rules
from sunat import xml as ubl
from sunat.codes import Category, Source, response_classify
from sunat.files import zip_bytes
from sunat.models import DocumentStatus, SunatDocument
from sunat.outcomes import NextStep
from sunat.services import document_file_name, sunat_document_issue, sunat_job_perform
from sunat.signing import document_sign
from sunat.soap import SunatClient, SunatFault
from sunat.tests.scenarios import (
    DNI_CUSTOMER,
    SUPPLIER,
    _boleta,
    dev_certificate,
    ra_void,
    return_note,
    scenario,
    schemas_missing_reason,
    sold_factura,
    spec,
    supplier_company_create,
)
from sunat.xml import invoice

pytestmark = pytest.mark.skipif(schemas_missing_reason() is not None, reason=str(schemas_missing_reason()))

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def client() -> SunatClient:
    return SunatClient(username=f"{SUPPLIER.ruc}MODDATOS", password="moddatos")


def send_bill(snapshot, *, buyer: tuple[str, str] | None = None):
    """sendBill of ``snapshot`` signed as built, or with its buyer's (schemeID, ID) replaced
    before signing (what the builder refuses to write); the CDR."""
    xml = ubl.build(snapshot)
    if buyer is not None:
        root = etree.fromstring(xml)
        identification = root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID", NS)
        identification.set("schemeID", buyer[0])
        identification.text = buyer[1]
        xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    signed = document_sign(xml=xml, certificate=dev_certificate()).xml
    name = ubl.file_name(snapshot)
    return client().send_bill(file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=signed))[1]


def send_summary(snapshot) -> tuple[str, str]:
    """sendSummary, then getStatus until SUNAT is done: (statusCode, the CDR's code)."""
    name = ubl.file_name(snapshot)
    signed = document_sign(xml=ubl.build(snapshot), certificate=dev_certificate()).xml
    ticket = client().send_summary(file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=signed))
    for _ in range(5):
        status = client().get_status(ticket=ticket)
        if status.status_code != "98":
            return status.status_code, status.cdr.response_code
    raise AssertionError("ticket still in process")


def fault_of(call) -> SunatFault:
    with pytest.raises(SunatFault) as caught:
        call()
    return caught.value


CASE = spec("CERVEZA PILSEN 630ML CAJA", "2.50", "400")


def big_boleta(number: int = 40):
    """A boleta of S/ 1 000.00 to a buyer with a DNI (which the builder requires above the limit)."""
    snapshot = _boleta(number, [CASE], customer=DNI_CUSTOMER)
    assert snapshot.totals.total > rules.BOLETA_ANONYMOUS_LIMIT
    return snapshot


# ------------------------------------------------------------------------------ 1032 / 1033


def test_a_document_sunat_holds_as_rejected_is_1032_on_a_resend(fake_sunat):
    factura = sold_factura()
    fake_sunat.fake.hold(ubl.file_name(factura), code="2800")
    fault = fault_of(lambda: send_bill(factura))
    assert fault.code == "1032"
    assert response_classify(source=Source.FAULT, code=fault.code).category is Category.REJECTED


def test_a_document_sunat_holds_as_voided_is_1032_and_an_accepted_one_1033(fake_sunat):
    factura = sold_factura()
    assert send_bill(factura).response_code == "0"
    assert fault_of(lambda: send_bill(factura)).code == "1033"
    void = ra_void(factura)
    assert send_summary(void) == ("0", "0")
    assert fake_sunat.fake.registry_json()["voided"] == {ubl.file_name(factura): ubl.file_name(void)}
    assert fault_of(lambda: send_bill(factura)).code == "1032"


@pytest.mark.django_db(transaction=True)
def test_a_boleta_whose_rejection_was_lost_ends_rejected_not_accepted(fake_sunat):
    """SUNAT registered it as rejected and the CDR never arrived: the re-send must not make it
    look accepted (1033 would)."""
    company = supplier_company_create()
    with transaction.atomic():
        document = sunat_document_issue(company=company, store=None, snapshot=scenario("boleta-gravado"))
    name = document_file_name(SunatDocument.objects.select_related("company").get(pk=document.pk))
    fake_sunat.fake.hold(name, code="2800")
    outcome = sunat_job_perform(job=document.jobs.get())
    document.refresh_from_db()
    assert (outcome.step, outcome.code) == (NextStep.DONE, "1032")
    assert (document.status, document.response_code) == (DocumentStatus.REJECTED, "1032")


# ------------------------------------------------------------------------------------ 2396


@pytest.mark.parametrize(
    "buyer", [("0", "-"), ("1", "-"), ("0", "45678912")], ids=["anonymous", "dni-without-number", "type-0"]
)
def test_a_boleta_above_the_limit_to_an_unidentified_buyer_is_rejected_2396(fake_sunat, buyer):
    boleta = big_boleta()
    cdr = send_bill(boleta, buyer=buyer)
    assert cdr.response_code == "2396", (cdr.response_code, cdr.description)
    assert "700.00" in cdr.description
    assert fake_sunat.fake.registry_json()["documents"][ubl.file_name(boleta)]["code"] == "2396"  # number burned


def test_a_boleta_above_the_limit_to_a_dni_and_an_anonymous_one_at_the_limit_are_accepted(fake_sunat):
    assert send_bill(big_boleta()).response_code == "0"
    at_limit = scenario("boleta-700-anonima")
    assert at_limit.totals.total == rules.BOLETA_ANONYMOUS_LIMIT
    assert send_bill(at_limit).response_code == "0"


def test_a_boleta_note_above_the_limit_to_an_anonymous_buyer_is_rejected_2396(fake_sunat):
    original = big_boleta()
    fake_sunat.fake.hold(ubl.file_name(original))
    note = return_note(
        original=original,
        series="BC01",
        number=41,
        reason_code="06",
        description="DEVOLUCIÓN TOTAL",
        returns=[(CASE, "0", "400")],
    )
    assert note.series.startswith("B") and note.totals.total > rules.BOLETA_ANONYMOUS_LIMIT
    assert send_bill(note, buyer=("0", "-")).response_code == "2396"


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_boleta_above_the_limit_the_builder_let_through_ends_rejected(fake_sunat, monkeypatch):
    """Only the builder's refusal is switched off (a builder regression): SUNAT still refuses."""
    builder_rules = types.SimpleNamespace(**{k: getattr(rules, k) for k in dir(rules) if not k.startswith("__")})
    builder_rules.boleta_buyer_refusal = lambda **kwargs: None
    monkeypatch.setattr(invoice, "rules", builder_rules)
    company = supplier_company_create()
    snapshot = _boleta(40, [spec("CERVEZA CAJA", "2.50", "400")])  # S/ 1 000.00, CLIENTES VARIOS
    with transaction.atomic():
        document = sunat_document_issue(company=company, store=None, snapshot=snapshot)
    outcome = sunat_job_perform(job=document.jobs.get())
    document.refresh_from_db()
    assert (outcome.step, outcome.code) == (NextStep.DONE, "2396")
    assert (document.status, document.response_code) == (DocumentStatus.REJECTED, "2396")

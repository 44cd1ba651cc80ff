"""fake_sunat enforces SUNAT's server-side rules on what notes and voids name, through the real
SOAP client: a note must modify a document SUNAT holds that is neither voided nor rejected; an
RA names registered, live facturas (never boletas); an RC ConditionCode 3 line names a boleta
SUNAT holds that is neither voided nor rejected. Each is a CDR rejection (the note or the
summary is registered as rejected), never a fault.
"""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from sunat import xml as ubl
from sunat.codes import Category, Source, response_classify
from sunat.files import zip_bytes
from sunat.signing import document_sign
from sunat.soap import SunatClient, SunatFault
from sunat.tests.scenarios import (
    SUPPLIER,
    dev_certificate,
    note_first_partial,
    ra_void,
    rc_void,
    scenario,
    schemas_missing_reason,
    signed,
    sold_boleta,
    sold_factura,
)

pytestmark = pytest.mark.skipif(schemas_missing_reason() is not None, reason=str(schemas_missing_reason()))

RUC = SUPPLIER.ruc


def client() -> SunatClient:
    return SunatClient(username=f"{RUC}MODDATOS", password="moddatos")


def name_of(snapshot) -> str:
    return ubl.file_name(snapshot)


def _signed_xml(snapshot_or_xml, name: str | None) -> tuple[bytes, str]:
    """(signed bytes, file name without extension) of a snapshot, or forced bytes and their name."""
    if isinstance(snapshot_or_xml, bytes):
        return snapshot_or_xml, name
    _s, document, _f = signed(snapshot_or_xml)
    return document.xml, name_of(snapshot_or_xml)


def send_bill(snapshot_or_xml, name: str | None = None):
    """sendBill through the real client; the CDR."""
    xml, name = _signed_xml(snapshot_or_xml, name)
    _zip, cdr = client().send_bill(file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=xml))
    return cdr


def send_summary(snapshot_or_xml, name: str | None = None):
    """sendSummary, then getStatus until SUNAT is done: (statusCode, CDR)."""
    xml, name = _signed_xml(snapshot_or_xml, name)
    c = client()
    ticket = c.send_summary(file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=xml))
    for _ in range(5):
        status = c.get_status(ticket=ticket)
        if status.status_code != "98":
            return status.status_code, status.cdr
    raise AssertionError("ticket still in process")


def second(snapshot):
    """The same summary with the day's next correlative."""
    return dataclasses.replace(snapshot, sequence=snapshot.sequence + 1)


def assert_rejected(fake_sunat, name: str, cdr, code: str) -> None:
    assert cdr.response_code == code, (cdr.response_code, cdr.description)
    assert response_classify(source=Source.CDR, code=cdr.response_code).category is Category.REJECTED
    registered = fake_sunat.fake.registry_json()["documents"][name]
    assert registered["code"] == code  # registered as rejected: the number is burned


# ------------------------------------------------------------------------------- notes


@pytest.mark.parametrize("sold", [sold_factura, sold_boleta], ids=["factura", "boleta"])
def test_a_note_of_a_document_sunat_does_not_hold_is_rejected_2119(fake_sunat, sold):
    note = note_first_partial(sold())
    cdr = send_bill(note)
    assert_rejected(fake_sunat, name_of(note), cdr, "2119")
    assert "no esta registrada" in cdr.description
    with pytest.raises(SunatFault) as again:  # the rejected note stays registered
        send_bill(note)
    assert again.value.code == "1032"  # held as rejected: the number is dead


@pytest.mark.parametrize("sold", [sold_factura, sold_boleta], ids=["factura", "boleta"])
def test_a_note_after_its_original_is_accepted(fake_sunat, sold):
    original = sold()
    assert send_bill(original).response_code == "0"
    note = note_first_partial(original)
    cdr = send_bill(note)
    assert cdr.response_code == "0" and not cdr.notes
    assert fake_sunat.fake.registry_json()["documents"][name_of(note)]["code"] == "0"


def test_a_note_of_a_voided_factura_is_rejected_2120(fake_sunat):
    factura = sold_factura()
    send_bill(factura)
    status, cdr = send_summary(ra_void(factura))
    assert (status, cdr.response_code) == ("0", "0")
    note = note_first_partial(factura)
    assert_rejected(fake_sunat, name_of(note), send_bill(note), "2120")


def test_a_note_of_a_voided_boleta_is_rejected_2120(fake_sunat):
    boleta = sold_boleta()
    send_bill(boleta)
    assert send_summary(rc_void(boleta))[0] == "0"
    note = note_first_partial(boleta)
    assert_rejected(fake_sunat, name_of(note), send_bill(note), "2120")


def test_a_note_of_a_rejected_document_is_rejected_2121(fake_sunat):
    factura = sold_factura()
    fake_sunat.fake.hold(name_of(factura), code="2800")  # SUNAT registered it as rejected
    note = note_first_partial(factura)
    assert_rejected(fake_sunat, name_of(note), send_bill(note), "2121")


def test_a_debit_note_of_a_document_sunat_does_not_hold_is_rejected_2209(fake_sunat):
    note = scenario("nd-factura")
    assert_rejected(fake_sunat, name_of(note), send_bill(note), "2209")


# ---------------------------------------------------------------------- Comunicación de Baja


def test_an_ra_of_a_factura_sunat_does_not_hold_is_rejected_2105(fake_sunat):
    void = ra_void(sold_factura())
    status, cdr = send_summary(void)
    assert status == "99"
    assert_rejected(fake_sunat, name_of(void), cdr, "2105")
    assert fake_sunat.fake.registry_json()["voided"] == {}


def test_an_ra_of_a_rejected_factura_is_rejected_2398(fake_sunat):
    factura = sold_factura()
    fake_sunat.fake.hold(name_of(factura), code="3105")
    void = ra_void(factura)
    assert_rejected(fake_sunat, name_of(void), send_summary(void)[1], "2398")


@pytest.mark.parametrize("sfs", [True, False], ids=["sfs-stylesheet", "server-rule"])
def test_an_ra_with_a_boleta_is_rejected_2308(fake_sunat, sfs):
    """The builder refuses boletas in an RA; the bytes are forced here to show SUNAT's answer.
    SUNAT's RA stylesheet says 2308 itself; without it, the double's server rule does."""
    fake_sunat.fake.config.validate_sfs = sfs
    boleta = sold_boleta()
    send_bill(boleta)
    void = ra_void(sold_factura())
    unsigned = ubl.build(void)
    root = etree.fromstring(unsigned)
    ns = {"cbc": ubl._common.CBC, "sac": ubl._common.SAC}
    line = root.find("sac:VoidedDocumentsLine", ns)
    line.find("cbc:DocumentTypeCode", ns).text = "03"
    line.find("sac:DocumentSerialID", ns).text = boleta.series
    line.find("sac:DocumentNumberID", ns).text = str(boleta.number)
    xml = document_sign(
        xml=etree.tostring(root, xml_declaration=True, encoding="UTF-8"), certificate=dev_certificate()
    ).xml
    status, cdr = send_summary(xml, name=name_of(void))
    assert status == "99"
    assert_rejected(fake_sunat, name_of(void), cdr, "2308")
    assert fake_sunat.fake.registry_json()["voided"] == {}


# ------------------------------------------------------------ Resumen Diario, ConditionCode 3


def test_an_rc_voiding_a_boleta_sunat_does_not_hold_is_rejected_2663(fake_sunat):
    void = rc_void(sold_boleta())
    status, cdr = send_summary(void)
    assert status == "99"
    assert_rejected(fake_sunat, name_of(void), cdr, "2663")


@pytest.mark.parametrize(
    ("sold", "void_of", "code", "text"),
    [
        (sold_factura, ra_void, "2106", "ya se encuentra en estado de baja"),
        (sold_boleta, rc_void, "2987", "anulado o rechazado"),
    ],
    ids=["ra-2106", "rc-2987"],
)
def test_a_void_annuls_the_document_and_its_note_and_a_second_void_is_rejected(fake_sunat, sold, void_of, code, text):
    original = sold()
    note = note_first_partial(original)
    send_bill(original)
    send_bill(note)
    void = void_of(original, note)
    status, cdr = send_summary(void)
    assert (status, cdr.response_code) == ("0", "0")
    assert fake_sunat.fake.registry_json()["voided"] == {name_of(original): name_of(void), name_of(note): name_of(void)}
    again = second(void_of(original))
    status, cdr = send_summary(again)
    assert status == "99"
    assert_rejected(fake_sunat, name_of(again), cdr, code)
    assert text in cdr.description


def test_an_rc_voiding_a_rejected_boleta_is_rejected_2987(fake_sunat):
    boleta = sold_boleta()
    fake_sunat.fake.hold(name_of(boleta), code="2800")
    void = rc_void(boleta)
    assert_rejected(fake_sunat, name_of(void), send_summary(void)[1], "2987")


def test_rc_lines_that_add_boletas_are_not_checked_and_count_as_informed(fake_sunat):
    """ConditionCode 1 informs a boleta (SUNAT holds it afterwards: its note is accepted)."""
    boleta = sold_boleta()
    void = rc_void(boleta)
    add = dataclasses.replace(void, lines=tuple(dataclasses.replace(line, condition="1") for line in void.lines))
    status, cdr = send_summary(add)
    assert (status, cdr.response_code) == ("0", "0")
    note = note_first_partial(boleta)
    assert send_bill(note).response_code == "0"

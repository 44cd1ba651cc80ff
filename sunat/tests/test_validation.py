"""Local validation: SUNAT's XSD and SFS rule stylesheets catch what SUNAT would reject."""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal

import pytest
from lxml import etree

from sunat import xml as ubl
from sunat.tests.scenarios import (
    SCENARIOS,
    _boleta,
    _factura,
    scenario,
    schemas_missing_reason,
    signed,
    spec,
)
from sunat.validation import SchemasNotFound, document_kind, schema_dir, validate_sfs, validate_xsd

pytestmark = pytest.mark.skipif(schemas_missing_reason() is not None, reason=str(schemas_missing_reason()))

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"


def test_document_kind():
    assert document_kind(ubl.build(scenario("factura-contado"))) == "01"
    assert document_kind(ubl.build(scenario("boleta-gravado"))) == "03"
    assert document_kind(ubl.build(scenario("nc-boleta"))) == "07"
    assert document_kind(ubl.build(scenario("nd-factura"))) == "08"
    assert document_kind(ubl.build(scenario("rc-anulacion"))) == "RC"
    assert document_kind(ubl.build(scenario("ra-facturas"))) == "RA"


def test_unsigned_document_fails_xsd():
    """An empty ExtensionContent is invalid by SUNAT's schema: validate after signing."""
    errors = validate_xsd(ubl.build(scenario("boleta-gravado")))
    assert errors and "ExtensionContent" in errors[0]


def test_element_out_of_order_fails_xsd():
    _s, document, _f = signed("boleta-gravado")
    root = etree.fromstring(document.xml)
    currency = root.find(f"{{{CBC}}}DocumentCurrencyCode")
    root.remove(currency)
    root.insert(2, currency)
    errors = validate_xsd(etree.tostring(root))
    assert errors and "DocumentCurrencyCode" in " ".join(errors)


def test_garbage_and_unknown_roots_are_errors_not_exceptions():
    assert validate_xsd(b"<Invoice")[0].startswith("XML mal formado")
    assert "desconocida" in validate_xsd(b"<foo/>")[0]
    result = validate_sfs(b"<foo/>", file_name="x.xml")
    assert result.error is not None and result.error.code == "0306"
    latin1_bytes_declared_utf8 = ubl.build(scenario("boleta-gravado")).replace(
        "COSTEÑO".encode(), "COSTEÑO".encode("latin-1")
    )
    assert validate_sfs(latin1_bytes_declared_utf8, file_name="20000000001-03-B001-1.xml").error.code == "0306"


def test_file_name_must_match_content():
    _s, document, file_name = signed("factura-contado")
    assert validate_sfs(document.xml, file_name=file_name).clean
    wrong_ruc = validate_sfs(document.xml, file_name="20000000002" + file_name[11:])
    assert wrong_ruc.error.code == "1034"
    assert "RUC" in wrong_ruc.error.message and "errorCode 1034" in wrong_ruc.error.detail
    wrong_number = validate_sfs(document.xml, file_name=file_name.replace("-11.xml", "-12.xml"))
    assert wrong_number.error.code == "1036"


def test_gravado_line_of_one_centimo_is_rejected_3111():
    """A gravado line under S/ 0.04 has IGV 0.00 after rounding; SUNAT rejects it (3111), so the
    builder refuses it with a readable message. Forcing it through shows SUNAT's rule."""
    snapshot = _boleta(30, [spec("CARAMELO", "0.01")])
    with pytest.raises(ValueError, match="3111"):
        ubl.build(snapshot)
    fine = _boleta(30, [spec("CARAMELO", "0.04")])
    root = etree.fromstring(ubl.build(fine))
    for path, value in (
        (f"{{{CAC}}}InvoiceLine/{{{CAC}}}TaxTotal/{{{CAC}}}TaxSubtotal/{{{CBC}}}TaxAmount", "0.00"),
        (f"{{{CAC}}}InvoiceLine/{{{CAC}}}TaxTotal/{{{CBC}}}TaxAmount", "0.00"),
    ):
        root.find(path).text = value
    result = validate_sfs(etree.tostring(root), file_name="20000000001-03-B001-30.xml")
    assert result.error.code == "3111"
    assert "IGV" in result.error.message


def test_note_line_with_quantity_zero_is_refused_2580():
    """A returned line with nothing returned: the builder refuses it; forced through, SUNAT's
    rule rejects it (2580)."""
    from sunat.tests.scenarios import note_first_partial, sold_boleta

    note = note_first_partial(sold_boleta())
    zero = dataclasses.replace(note, lines=(dataclasses.replace(note.lines[0], quantity=Decimal("0")), *note.lines[1:]))
    with pytest.raises(ValueError, match="2580"):
        ubl.build(zero)
    root = etree.fromstring(ubl.build(note))
    root.find(f"{{{CAC}}}CreditNoteLine/{{{CBC}}}CreditedQuantity").text = "0"
    result = validate_sfs(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8"), file_name=ubl.file_name(note) + ".xml"
    )
    assert result.error.code == "2580"


def test_weighed_and_partial_note_lines_raise_no_observation():
    """3-decimal quantities and a partial return (reason 07) of a boleta: SUNAT's NC rules say
    nothing (CreditedQuantity takes up to 10 decimals; the ±1 recomputations hold)."""
    from sunat.tests.scenarios import note_first_partial, sold_boleta

    note = note_first_partial(sold_boleta())
    quantities = {line.description: line.quantity for line in note.lines}
    assert quantities["QUESO FRESCO (KG)"] == Decimal("0.200") and quantities["HUEVOS (KG)"] == Decimal("1.075")
    _s, document, file_name = signed(note)
    root = etree.fromstring(document.xml)
    assert "1.075" in [q.text for q in root.iter(f"{{{CBC}}}CreditedQuantity")]
    assert validate_sfs(document.xml, file_name=file_name).clean


def test_wrong_igv_total_is_rejected_3291():
    snapshot = _factura(32, [spec("ARROZ", "4.20", "2")])
    bad = dataclasses.replace(snapshot, totals=dataclasses.replace(snapshot.totals, igv=Decimal("5.00")))
    _s, document, file_name = signed(bad)
    assert validate_sfs(document.xml, file_name=file_name).error.code == "3291"


def test_factura_to_a_dni_is_rejected_2800():
    snapshot = _factura(33, [spec("ARROZ", "4.20", "2")])
    root = etree.fromstring(ubl.build(snapshot))
    party_id = root.find(f"{{{CAC}}}AccountingCustomerParty/{{{CAC}}}Party/{{{CAC}}}PartyIdentification/{{{CBC}}}ID")
    party_id.set("schemeID", "1")
    party_id.text = "45678912"
    result = validate_sfs(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8"), file_name="20000000001-01-F001-33.xml"
    )
    assert result.error.code == "2800"


def test_summary_line_over_700_without_buyer_is_rejected_2514():
    snapshot = scenario("rc-anulacion")
    line = dataclasses.replace(
        snapshot.lines[0], total=Decimal("700.01"), gravadas=Decimal("593.23"), igv=Decimal("106.78")
    )
    root = etree.fromstring(
        ubl.build(
            dataclasses.replace(
                snapshot, lines=(dataclasses.replace(line, customer_doc_number="12345678", customer_doc_type="1"),)
            )
        )
    )
    ns_sac = "urn:sunat:names:specification:ubl:peru:schema:xsd:SunatAggregateComponents-1"
    summary_line = root.find(f"{{{ns_sac}}}SummaryDocumentsLine")
    summary_line.remove(summary_line.find(f"{{{CAC}}}AccountingCustomerParty"))
    result = validate_sfs(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8"), file_name=ubl.file_name(snapshot) + ".xml"
    )
    assert result.error.code == "2514"


def test_sfs_observation_3249_is_kept_when_credito_has_no_cuotas():
    """The SFS copy flags every Credito (bug); we re-check with SUNAT's production rule."""
    root = etree.fromstring(ubl.build(scenario("factura-credito-2-cuotas")))
    for terms in root.findall(f"{{{CAC}}}PaymentTerms"):
        if terms.findtext(f"{{{CBC}}}PaymentMeansID").startswith("Cuota"):
            root.remove(terms)
    result = validate_sfs(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8"), file_name="20000000001-01-F001-12.xml"
    )
    assert [o.code for o in result.observations] == ["3249"]


def test_observations_are_reported_with_codes():
    """Optional catalog attributes with wrong values are SUNAT observations (42xx), not errors."""
    root = etree.fromstring(ubl.build(scenario("factura-contado")))
    type_code = root.find(f"{{{CBC}}}InvoiceTypeCode")
    type_code.set("listName", "SUNAT:Identificador de Tipo de Documento")
    result = validate_sfs(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8"), file_name="20000000001-01-F001-11.xml"
    )
    assert result.error is None
    assert [o.code for o in result.observations] == ["4252"]
    assert "listName" in result.observations[0].message


def test_concurrent_validation_from_threads():
    """fake_sunat may validate from several threads: results stay right and nothing crashes."""
    documents = [signed(name) for name in ("boleta-mixta", "factura-contado", "nc-boleta", "rc-condiciones-1-2-3")]
    failures: list = []

    def work(offset: int) -> None:
        for k in range(4):
            _s, document, file_name = documents[(offset + k) % len(documents)]
            result = validate_sfs(document.xml, file_name=file_name)
            if not result.clean:
                failures.append((file_name, result))
            errors = validate_xsd(document.xml)
            if errors:
                failures.append((file_name, errors))
            if not validate_xsd(document.xml.replace(b"<cbc:UBLVersionID>", b"<cbc:Foo/><cbc:UBLVersionID>")):
                failures.append((file_name, "invalid document passed the XSD"))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_missing_schema_dir_is_a_clear_error(settings, tmp_path):
    settings.SUNAT_SCHEMA_DIR = str(tmp_path / "nowhere")
    with pytest.raises(SchemasNotFound, match="SUNAT schemas not found at .*nowhere"):
        schema_dir()
    with pytest.raises(SchemasNotFound):
        validate_xsd(b"<x/>")


def test_every_scenario_kind_has_a_stylesheet():
    kinds = {document_kind(ubl.build(SCENARIOS[name]())) for name in SCENARIOS}
    assert kinds == {"01", "03", "07", "08", "RC", "RA"}

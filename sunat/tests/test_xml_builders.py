"""Builder details SUNAT cares about, checked on the unsigned XML."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree

from sunat import xml as ubl
from sunat.snapshot import DocumentSnapshot, SummarySnapshot, VoidedLine, VoidedSnapshot
from sunat.tests.scenarios import ANONYMOUS, DNI_CUSTOMER, SUPPLIER, _boleta, scenario, spec

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "dn": "urn:oasis:names:specification:ubl:schema:xsd:DebitNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "sac": "urn:sunat:names:specification:ubl:peru:schema:xsd:SunatAggregateComponents-1",
}


def parse(snapshot) -> etree._Element:
    return etree.fromstring(ubl.build(snapshot))


def text(root, path: str) -> str | None:
    return root.findtext(path, namespaces=NS)


def test_issue_date_and_time_are_lima_time():
    # 03:15 UTC on the 28th is 22:15 on the 27th in Lima (UTC-5).
    snapshot = dataclasses.replace(scenario("boleta-gravado"), issued_at=datetime(2026, 11, 28, 3, 15, 9, tzinfo=UTC))
    root = parse(snapshot)
    assert text(root, "cbc:IssueDate") == "2026-11-27"
    assert text(root, "cbc:IssueTime") == "22:15:09"


def test_naive_issue_time_is_refused():
    naive = datetime(2026, 11, 28, 3, 15)  # noqa: DTZ001 - the naive time under test
    snapshot = dataclasses.replace(scenario("boleta-gravado"), issued_at=naive)
    with pytest.raises(ValueError, match="zona horaria"):
        ubl.build(snapshot)


def test_invoice_header():
    root = parse(scenario("boleta-gravado"))
    assert text(root, "cbc:UBLVersionID") == "2.1"
    assert text(root, "cbc:CustomizationID") == "2.0"
    assert text(root, "cbc:ID") == "B001-1"
    type_code = root.find("cbc:InvoiceTypeCode", NS)
    assert type_code.text == "03" and type_code.get("listID") == "0101"
    assert text(root, "cbc:DocumentCurrencyCode") == "PEN"
    assert root.find("cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID", NS).get("schemeID") == "6"
    address = "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cac:RegistrationAddress"
    assert text(root, f"{address}/cbc:AddressTypeCode") == SUPPLIER.establishment_code == "0001"
    assert text(root, f"{address}/cbc:ID") == "150101"


def test_legend_1000_is_the_total_in_words_and_1002_only_with_free_items():
    root = parse(scenario("boleta-gravado"))
    notes = {n.get("languageLocaleID"): n.text for n in root.findall("cbc:Note", NS)}
    # 2 × 4.20 + 3 × 2.50 = 15.90
    assert notes == {"1000": "QUINCE CON 90/100 SOLES"}
    free = parse(scenario("boleta-gratuito"))
    codes = [n.get("languageLocaleID") for n in free.findall("cbc:Note", NS)]
    assert codes == ["1000", "1002"]


def test_free_lines_have_referential_price_and_gra_scheme():
    root = parse(scenario("boleta-gratuito"))
    free_lines = [
        line
        for line in root.findall("cac:InvoiceLine", NS)
        if text(line, "cac:PricingReference/cac:AlternativeConditionPrice/cbc:PriceTypeCode") == "02"
    ]
    assert len(free_lines) == 3
    for line in free_lines:
        assert text(line, "cac:Price/cbc:PriceAmount") == "0.00"
        assert text(line, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:ID") == "9996"
        assert text(line, "cac:TaxTotal/cbc:TaxAmount") == "0.00"
    header = {
        text(s, "cac:TaxCategory/cac:TaxScheme/cbc:ID"): s for s in root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    }
    # 2 × 1.00 (11, IGV 0.36) + 1 × 3.00 (21) + 4 × 0.50 (31)
    assert text(header["9996"], "cbc:TaxableAmount") == "7.00"
    assert text(header["9996"], "cbc:TaxAmount") == "0.36"


def test_boleta_anonymous_customer_and_no_payment_terms():
    root = parse(scenario("boleta-700-anonima"))
    party_id = root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID", NS)
    assert (party_id.get("schemeID"), party_id.text) == ("0", "-")
    assert root.find("cac:PaymentTerms", NS) is None
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "700.00"


def test_boleta_over_700_needs_the_buyer():
    snapshot = scenario("boleta-700.01-dni")
    assert text(parse(snapshot), "cac:LegalMonetaryTotal/cbc:PayableAmount") == "700.01"
    with pytest.raises(ValueError, match="SUNAT 2396"):
        ubl.build(dataclasses.replace(snapshot, customer=ANONYMOUS))


def test_factura_needs_a_ruc_customer():
    with pytest.raises(ValueError, match="RUC de 11 dígitos"):
        ubl.build(dataclasses.replace(scenario("factura-contado"), customer=DNI_CUSTOMER))


def test_factura_payment_terms():
    contado = parse(scenario("factura-contado")).findall("cac:PaymentTerms", NS)
    assert [(text(t, "cbc:ID"), text(t, "cbc:PaymentMeansID")) for t in contado] == [("FormaPago", "Contado")]
    snapshot = scenario("factura-credito-2-cuotas")
    credito = parse(snapshot).findall("cac:PaymentTerms", NS)
    assert [text(t, "cbc:PaymentMeansID") for t in credito] == ["Credito", "Cuota001", "Cuota002"]
    assert Decimal(text(credito[0], "cbc:Amount")) == snapshot.totals.total
    assert Decimal(text(credito[1], "cbc:Amount")) + Decimal(text(credito[2], "cbc:Amount")) == snapshot.totals.total
    assert text(credito[1], "cbc:PaymentDueDate") < text(credito[2], "cbc:PaymentDueDate")


def test_icbper_line():
    root = parse(scenario("boleta-icbper"))
    bag = root.findall("cac:InvoiceLine", NS)[0]
    subtotals = {
        text(s, "cac:TaxCategory/cac:TaxScheme/cbc:ID"): s for s in bag.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    }
    assert set(subtotals) == {"1000", "7152"}
    icbper = subtotals["7152"]
    assert text(icbper, "cbc:TaxAmount") == "1.00"
    assert text(icbper, "cbc:BaseUnitMeasure") == "2"
    assert icbper.find("cbc:BaseUnitMeasure", NS).get("unitCode") == "NIU"
    assert text(icbper, "cac:TaxCategory/cbc:PerUnitAmount") == "0.50"
    assert text(icbper, "cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode") == "OTH"


def test_weighed_quantity_keeps_three_decimals_and_unit_values_up_to_ten():
    root = parse(scenario("boleta-pesado-kgm"))
    line = root.findall("cac:InvoiceLine", NS)[1]  # QUESO 0.457 kg at 18.90
    quantity = line.find("cbc:InvoicedQuantity", NS)
    assert (quantity.text, quantity.get("unitCode")) == ("0.457", "KGM")
    assert text(line, "cac:Price/cbc:PriceAmount") == "16.0169491525"  # 18.90 / 1.18, 10 decimals
    assert text(line, "cbc:LineExtensionAmount") == "7.32"  # q2(q2(18.90 × 0.457) / 1.18) = q2(8.64 / 1.18)


def test_builders_refuse_unrounded_amounts():
    snapshot = scenario("boleta-gravado")
    bad_totals = dataclasses.replace(snapshot.totals, igv=Decimal("2.431"))
    with pytest.raises(ValueError, match="sin redondear"):
        ubl.build(dataclasses.replace(snapshot, totals=bad_totals))


def test_line_limits():
    with pytest.raises(ValueError, match="999"):
        ubl.build(dataclasses.replace(scenario("boleta-gravado"), lines=()))
    big = scenario("boleta-999-lineas")
    assert len(parse(big).findall("cac:InvoiceLine", NS)) == 999
    with pytest.raises(ValueError, match="999"):
        ubl.build(dataclasses.replace(big, lines=big.lines + big.lines[:1]))


def test_credit_note_references_the_boleta():
    root = parse(scenario("nc-boleta"))
    assert etree.QName(root).localname == "CreditNote"
    assert root.find("cbc:InvoiceTypeCode", NS) is None
    assert text(root, "cac:DiscrepancyResponse/cbc:ReferenceID") == "B001-8"
    assert text(root, "cac:DiscrepancyResponse/cbc:ResponseCode") == "06"
    assert text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:DocumentTypeCode") == "03"
    assert len(root.findall("cac:CreditNoteLine", NS)) == 3
    assert root.find("cac:CreditNoteLine/cbc:CreditedQuantity", NS) is not None


def test_debit_note_uses_requested_monetary_total():
    root = parse(scenario("nd-factura"))
    assert etree.QName(root).localname == "DebitNote"
    assert root.find("cac:RequestedMonetaryTotal", NS) is not None
    assert root.find("cac:LegalMonetaryTotal", NS) is None
    assert root.find("cac:DebitNoteLine/cbc:DebitedQuantity", NS) is not None


def test_note_description_has_no_line_breaks():
    snapshot = scenario("nc-factura")
    reference = dataclasses.replace(snapshot.reference, description="DEVOLUCIÓN\nDE\r\nGASEOSAS")
    root = parse(dataclasses.replace(snapshot, reference=reference))
    assert text(root, "cac:DiscrepancyResponse/cbc:Description") == "DEVOLUCIÓN DE GASEOSAS"


def test_summary_condition_codes_and_references():
    snapshot = scenario("rc-condiciones-1-2-3")
    root = parse(snapshot)
    assert text(root, "cbc:UBLVersionID") == "2.0" and text(root, "cbc:CustomizationID") == "1.1"
    assert text(root, "cbc:ID") == snapshot.full_number
    lines = root.findall("sac:SummaryDocumentsLine", NS)
    assert [text(line, "cac:Status/cbc:ConditionCode") for line in lines] == ["1", "1", "1", "2", "3", "1", "1"]
    assert [text(line, "cbc:DocumentTypeCode") for line in lines] == ["03", "03", "03", "03", "03", "07", "08"]
    note = lines[5]
    assert text(note, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == "B001-8"
    over_700 = lines[2]
    assert text(over_700, "cac:AccountingCustomerParty/cbc:CustomerAssignedAccountID") == "45678912"
    assert text(over_700, "cac:AccountingCustomerParty/cbc:AdditionalAccountID") == "1"


def test_summary_refuses_facturas_and_bad_conditions():
    snapshot = scenario("rc-anulacion")
    with pytest.raises(ValueError, match="boletas"):
        ubl.build(dataclasses.replace(snapshot, lines=(dataclasses.replace(snapshot.lines[0], document_type="01"),)))
    with pytest.raises(ValueError, match="catálogo 19"):
        ubl.build(dataclasses.replace(snapshot, lines=(dataclasses.replace(snapshot.lines[0], condition="4"),)))
    with pytest.raises(ValueError, match="700"):
        ubl.build(
            dataclasses.replace(snapshot, lines=(dataclasses.replace(snapshot.lines[0], total=Decimal("900.00")),))
        )


def test_voided_refuses_boletas():
    snapshot = scenario("ra-facturas")
    root = parse(snapshot)
    assert [text(line, "sac:DocumentSerialID") for line in root.findall("sac:VoidedDocumentsLine", NS)] == [
        "F001",
        "FC01",
    ]
    bad = dataclasses.replace(snapshot, lines=(VoidedLine(document_type="03", series="B001", number=1, reason="X"),))
    with pytest.raises(ValueError, match="resumen diario"):
        ubl.build(bad)


def test_file_names():
    assert ubl.file_name(scenario("boleta-gravado")) == "20000000001-03-B001-1"
    snapshot = scenario("ra-facturas")
    assert ubl.file_name(snapshot) == f"20000000001-RA-{snapshot.issue_date:%Y%m%d}-1"


def test_snapshots_round_trip_through_json():
    for name in ("boleta-gratuito", "factura-credito-2-cuotas", "nc-boleta"):
        snapshot = scenario(name)
        again = DocumentSnapshot.from_json(snapshot.to_json())
        assert again == snapshot
        assert ubl.build(again) == ubl.build(snapshot)
    summary = scenario("rc-condiciones-1-2-3")
    assert SummarySnapshot.from_json(summary.to_json()) == summary
    voided = scenario("ra-facturas")
    assert VoidedSnapshot.from_json(voided.to_json()) == voided
    assert isinstance(VoidedSnapshot.from_json(voided.to_json()).issue_date, date)


def test_to_json_is_asdict_with_decimals_and_dates_as_strings():
    """The encoder walks the dataclasses itself (no deep copy); it must give what ``asdict`` does."""

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        return value

    for name in ("boleta-gratuito", "factura-credito-2-cuotas", "nc-boleta", "rc-condiciones-1-2-3", "ra-facturas"):
        snapshot = scenario(name)
        assert snapshot.to_json() == plain(dataclasses.asdict(snapshot)), name


def test_text_is_escaped_not_injected():
    snapshot = _boleta(40, [spec('GALLETA <SODA> & "CIA"', "1.00")])
    root = parse(snapshot)
    assert text(root, "cac:InvoiceLine/cac:Item/cbc:Description") == 'GALLETA <SODA> & "CIA"'

"""Acceptance matrix (issue 3): every scenario builds, signs and passes SUNAT's own checks.

For each document: XSD valid; SUNAT's SFS stylesheet reports no error and no observation; the
signature and digest verify with the certificate; header totals equal totals recomputed here,
independently, from the lines.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from sunat.signing import signature_verify
from sunat.tests.scenarios import SCENARIOS, dev_certificate, schemas_missing_reason, signed
from sunat.validation import validate_sfs, validate_xsd

pytestmark = pytest.mark.skipif(schemas_missing_reason() is not None, reason=str(schemas_missing_reason()))

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "sac": "urn:sunat:names:specification:ubl:peru:schema:xsd:SunatAggregateComponents-1",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
LINE_TAGS = ("cac:InvoiceLine", "cac:CreditNoteLine", "cac:DebitNoteLine")


def test_matrix_has_at_least_20_documents_of_every_type():
    assert len(SCENARIOS) >= 20
    kinds = {SCENARIOS[name]().document_type for name in SCENARIOS}
    assert kinds == {"01", "03", "07", "08", "RC", "RA"}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def built(request):
    return (request.param, *signed(request.param))


def test_xsd_valid(built):
    name, _snapshot, document, _file_name = built
    assert validate_xsd(document.xml) == [], name


def test_sunat_sfs_rules_report_nothing(built):
    name, _snapshot, document, file_name = built
    result = validate_sfs(document.xml, file_name=file_name)
    assert result.error is None, f"{name}: {result.error}"
    assert result.observations == (), f"{name}: {[str(o) for o in result.observations]}"


def test_signature_and_digest_verify_with_the_certificate(built):
    name, _snapshot, document, _file_name = built
    assert signature_verify(document.xml) == document.digest_value
    assert len(document.digest_value) == 28
    root = etree.fromstring(document.xml)
    embedded = root.findtext(".//ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS)
    expected = dev_certificate().certificate.public_bytes(serialization.Encoding.DER)
    assert base64.b64decode("".join(embedded.split())) == expected, name


def _d(element, path: str) -> Decimal:
    return Decimal(element.findtext(path, namespaces=NS))


def _sum(elements, path: str) -> Decimal:
    return sum((_d(e, path) for e in elements), Decimal("0"))


def test_totals_recomputed_from_lines_match_header(built):
    name, snapshot, document, _file_name = built
    root = etree.fromstring(document.xml)
    if snapshot.document_type == "RA":
        assert len(root.findall("sac:VoidedDocumentsLine", NS)) == len(snapshot.lines)
        return
    if snapshot.document_type == "RC":
        for line in root.findall("sac:SummaryDocumentsLine", NS):
            paid = _sum(
                [
                    p
                    for p in line.findall("sac:BillingPayment", NS)
                    if p.findtext("cbc:InstructionID", namespaces=NS) != "05"
                ],
                "cbc:PaidAmount",
            )
            taxes = _sum(line.findall("cac:TaxTotal", NS), "cbc:TaxAmount")
            assert _d(line, "sac:TotalAmount") == paid + taxes, name
            for tax_total in line.findall("cac:TaxTotal", NS):
                assert _d(tax_total, "cbc:TaxAmount") == _sum(tax_total.findall("cac:TaxSubtotal", NS), "cbc:TaxAmount")
        return

    lines = [line for tag in LINE_TAGS for line in root.findall(tag, NS)]
    assert len(lines) == len(snapshot.lines)
    by_scheme_taxable: dict[str, Decimal] = defaultdict(Decimal)
    by_scheme_tax: dict[str, Decimal] = defaultdict(Decimal)
    charged = Decimal("0")
    for line in lines:
        line_charged_tax = Decimal("0")
        free = False
        for subtotal in line.findall("cac:TaxTotal/cac:TaxSubtotal", NS):
            scheme = subtotal.findtext("cac:TaxCategory/cac:TaxScheme/cbc:ID", namespaces=NS)
            tax = _d(subtotal, "cbc:TaxAmount")
            by_scheme_tax[scheme] += tax
            if scheme == "9996":
                free = True  # referential IGV of a free item: not charged
            else:
                line_charged_tax += tax
            if subtotal.find("cbc:TaxableAmount", NS) is not None:
                taxable = _d(subtotal, "cbc:TaxableAmount")
                by_scheme_taxable[scheme] += taxable
                assert taxable == _d(line, "cbc:LineExtensionAmount")
            if scheme == "1000" or (scheme == "9996" and tax):
                # IGV is 18 % of the base, up to the céntimo of the line's rounding.
                assert abs(tax - taxable * Decimal("0.18")) <= Decimal("0.01"), name
            if scheme == "7152":
                per_unit = _d(subtotal, "cac:TaxCategory/cbc:PerUnitAmount")
                assert tax == per_unit * _d(subtotal, "cbc:BaseUnitMeasure")
        assert _d(line, "cac:TaxTotal/cbc:TaxAmount") == line_charged_tax, name
        if not free:
            charged += _d(line, "cbc:LineExtensionAmount")

    header = root.find("cac:TaxTotal", NS)
    header_subtotals = {
        s.findtext("cac:TaxCategory/cac:TaxScheme/cbc:ID", namespaces=NS): s
        for s in header.findall("cac:TaxSubtotal", NS)
    }
    assert set(header_subtotals) == set(by_scheme_tax), name
    for scheme, subtotal in header_subtotals.items():
        assert _d(subtotal, "cbc:TaxAmount") == by_scheme_tax[scheme], f"{name} {scheme}"
        if scheme in by_scheme_taxable:
            assert _d(subtotal, "cbc:TaxableAmount") == by_scheme_taxable[scheme], f"{name} {scheme}"
    charged_taxes = sum((v for k, v in by_scheme_tax.items() if k != "9996"), Decimal("0"))
    assert _d(header, "cbc:TaxAmount") == charged_taxes, name

    monetary = root.find("cac:LegalMonetaryTotal", NS)
    if monetary is None:
        monetary = root.find("cac:RequestedMonetaryTotal", NS)
    assert _d(monetary, "cbc:LineExtensionAmount") == charged, name
    assert _d(monetary, "cbc:TaxInclusiveAmount") == charged + charged_taxes, name
    assert _d(monetary, "cbc:PayableAmount") == charged + charged_taxes, name
    assert _d(monetary, "cbc:PayableAmount") == snapshot.totals.total, name

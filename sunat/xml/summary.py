"""SUNAT UBL 2.0 builders: Resumen Diario RC (SummaryDocuments 1.1) and Comunicación de Baja RA
(VoidedDocuments 1.0). Element order follows ``xsd/2.0/maindoc/UBLPE-*.xsd``."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from .. import rules
from ..snapshot import SummarySnapshot, Supplier, VoidedSnapshot
from ._common import (
    NS_SUMMARY,
    NS_VOIDED,
    SAC,
    amount,
    cac,
    cbc,
    clean_text,
    extensions,
    nsmap,
    serialize,
    signature_block,
    sub,
)

ZERO = Decimal("0.00")


def _supplier(root: etree._Element, supplier: Supplier) -> None:
    party_holder = cac(root, "AccountingSupplierParty")
    cbc(party_holder, "CustomerAssignedAccountID", supplier.ruc)
    cbc(party_holder, "AdditionalAccountID", "6")
    party = cac(party_holder, "Party")
    cbc(cac(party, "PartyLegalEntity"), "RegistrationName", clean_text(supplier.legal_name, limit=1500))


def _header(snapshot, *, namespace: str, tag: str, customization: str, what: str) -> etree._Element:
    """The common head of RC and RA (UBL 2.0): checks, IDs, dates, signature block, supplier."""
    if not 1 <= len(snapshot.lines) <= 500:
        raise ValueError(f"{what} debe tener entre 1 y 500 líneas")
    if snapshot.reference_date > snapshot.issue_date:
        raise ValueError(f"{what}: la fecha de los comprobantes no puede ser posterior a la de emisión")
    root = etree.Element(f"{{{namespace}}}{tag}", nsmap=nsmap(namespace, sac=True))
    extensions(root)
    cbc(root, "UBLVersionID", "2.0")
    cbc(root, "CustomizationID", customization)
    cbc(root, "ID", snapshot.full_number)
    cbc(root, "ReferenceDate", snapshot.reference_date.isoformat())
    cbc(root, "IssueDate", snapshot.issue_date.isoformat())
    signature_block(root, ruc=snapshot.supplier.ruc, legal_name=snapshot.supplier.legal_name)
    _supplier(root, snapshot.supplier)
    return root


def summary_build(snapshot: SummarySnapshot) -> bytes:
    """Unsigned RC bytes: boletas (03) and their notes (07/08), ConditionCode 1/2/3."""
    currency = snapshot.currency
    root = _header(
        snapshot, namespace=NS_SUMMARY, tag="SummaryDocuments", customization="1.1", what="el resumen diario"
    )
    for index, line in enumerate(snapshot.lines, start=1):
        if line.document_type not in ("03", "07", "08"):
            raise ValueError(f"el resumen diario solo admite boletas y sus notas, no {line.document_type}")
        if line.condition not in ("1", "2", "3"):
            raise ValueError(f"estado de ítem no válido (catálogo 19): {line.condition!r}")
        refusal = rules.boleta_buyer_refusal(
            total=line.total, doc_type=line.customer_doc_type, doc_number=line.customer_doc_number
        )
        if refusal:
            raise ValueError(f"{line.number}: {refusal} (SUNAT 2396)")
        element = sub(root, SAC, "SummaryDocumentsLine")
        cbc(element, "LineID", str(index))
        cbc(element, "DocumentTypeCode", line.document_type)
        cbc(element, "ID", line.number)
        if not rules.buyer_is_anonymous(doc_type=line.customer_doc_type, doc_number=line.customer_doc_number):
            customer = cac(element, "AccountingCustomerParty")
            cbc(customer, "CustomerAssignedAccountID", line.customer_doc_number)
            cbc(customer, "AdditionalAccountID", line.customer_doc_type)
        if line.document_type in ("07", "08"):
            if not line.reference_number:
                raise ValueError(f"la nota {line.number} necesita el documento que modifica")
            reference = cac(cac(element, "BillingReference"), "InvoiceDocumentReference")
            cbc(reference, "ID", line.reference_number)
            cbc(reference, "DocumentTypeCode", line.reference_type or "03")
        cbc(cac(element, "Status"), "ConditionCode", line.condition)
        amount(element, "TotalAmount", line.total, currency, ns=SAC)
        for instruction, value in (
            ("01", line.gravadas),
            ("02", line.exoneradas),
            ("03", line.inafectas),
            ("05", line.gratuitas),
        ):
            if value or (instruction == "01" and not (line.exoneradas or line.inafectas or line.gratuitas)):
                payment = sub(element, SAC, "BillingPayment")
                amount(payment, "PaidAmount", value, currency)
                cbc(payment, "InstructionID", instruction)
        _tax(element, ("1000", "IGV", "VAT"), line.igv, currency)
        if line.icbper:
            _tax(element, ("7152", "ICBPER", "OTH"), line.icbper, currency)
    return serialize(root)


def _tax(parent: etree._Element, scheme: tuple[str, str, str], value: Decimal, currency: str) -> None:
    tax_total = cac(parent, "TaxTotal")
    amount(tax_total, "TaxAmount", value, currency)
    subtotal = cac(tax_total, "TaxSubtotal")
    amount(subtotal, "TaxAmount", value, currency)
    tax_scheme = cac(cac(subtotal, "TaxCategory"), "TaxScheme")
    cbc(tax_scheme, "ID", scheme[0])
    cbc(tax_scheme, "Name", scheme[1])
    cbc(tax_scheme, "TaxTypeCode", scheme[2])


def voided_build(snapshot: VoidedSnapshot) -> bytes:
    """Unsigned RA bytes: facturas (01) and their notes (07/08) only — boletas go in RC."""
    root = _header(
        snapshot, namespace=NS_VOIDED, tag="VoidedDocuments", customization="1.0", what="la comunicación de baja"
    )
    for index, line in enumerate(snapshot.lines, start=1):
        if line.document_type not in ("01", "07", "08"):
            raise ValueError(
                f"la comunicación de baja solo admite facturas y sus notas, no {line.document_type} "
                "(las boletas se anulan en el resumen diario)"
            )
        if line.document_type in ("07", "08") and not line.series.startswith("F"):
            raise ValueError(f"la nota {line.series}-{line.number} no es de una factura")
        element = sub(root, SAC, "VoidedDocumentsLine")
        cbc(element, "LineID", str(index))
        cbc(element, "DocumentTypeCode", line.document_type)
        sub(element, SAC, "DocumentSerialID", line.series)
        sub(element, SAC, "DocumentNumberID", str(line.number))
        sub(element, SAC, "VoidReasonDescription", clean_text(line.reason, limit=100))
    return serialize(root)

"""UBL 2.1 builders for factura 01 / boleta 03 (Invoice), nota de crédito 07 and nota de débito 08.

Element order follows the XSD sequences (``../shared/sunat/xsd/2.1/maindoc``). Amounts come
already rounded in the :class:`~sunat.snapshot.DocumentSnapshot`; this module only formats them.

Choices checked against SUNAT's SFS rule stylesheets (every scenario in
``sunat/tests/scenarios.py`` passes them with no error and no observation):

* Anonymous boleta buyer: ``cbc:ID schemeID="0"`` with ``-`` — the boleta rules skip format checks
  when the ID is ``-`` and only require ``@schemeID`` to exist (2015); ``0`` is catalog 06's
  "doc. tributario no domiciliado sin RUC", the value greenter and SUNAT's samples use. Above
  S/ 700.00 the buyer's document is required (2396 server-side; RC 2514): the builder refuses
  (``sunat.rules.boleta_buyer_refusal``, the till's rule too).
* ``Percent`` is the IGV rate on IGV lines (10, 11–17) and ``0.00`` on exonerado/inafecto lines
  (the ND rules reject 18 there: 3101).
* Free items: ``PriceTypeCode`` 02 with the referential unit value (without IGV), ``Price`` 0.00,
  scheme 9996 GRA; their IGV is in the 9996 subtotal and not in the charged ``TaxAmount``;
  legend 1002.
* Facturas carry ``FormaPago`` (Contado, or Credito + ``Cuota001``…); boletas never (3128).
* Credit notes of returns: ``CreditedQuantity`` keeps the weighed 3 decimals (SUNAT's rule 2139
  allows up to 10) and a partial return (reason 07) of a boleta raises nothing; the ±1
  recomputations (4288: line value vs unit value × quantity) hold for the contract's formula,
  because a returned line keeps the sold line's unit value and its base is a slice of the sold
  base. A line with quantity 0 is rejected (2580): the builder refuses it. Reasons 04, 05 and 08
  are not for boletas (4367); the till uses 01, 06 and 07.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from .. import rules
from ..snapshot import Customer, DocumentSnapshot, Line, Supplier
from ..words import amount_in_words
from ._common import (
    CBC,
    NS_CREDIT_NOTE,
    NS_DEBIT_NOTE,
    NS_INVOICE,
    amount,
    cac,
    cbc,
    clean_text,
    decimal_text,
    extensions,
    money,
    nsmap,
    serialize,
    signature_block,
    unit_text,
)

ZERO = Decimal("0.00")
LEGEND_FREE = "TRANSFERENCIA GRATUITA DE UN BIEN Y/O SERVICIO PRESTADO GRATUITAMENTE"
OPERATION_TYPE = "0101"  # catalog 51: venta interna

# (TaxScheme ID, Name, TaxTypeCode) per catalog 05.
IGV = ("1000", "IGV", "VAT")
EXO = ("9997", "EXO", "VAT")
INA = ("9998", "INA", "FRE")
GRA = ("9996", "GRA", "FRE")
ICBPER = ("7152", "ICBPER", "OTH")

_KIND = {
    "01": ("Invoice", NS_INVOICE, "InvoiceLine", "InvoicedQuantity"),
    "03": ("Invoice", NS_INVOICE, "InvoiceLine", "InvoicedQuantity"),
    "07": ("CreditNote", NS_CREDIT_NOTE, "CreditNoteLine", "CreditedQuantity"),
    "08": ("DebitNote", NS_DEBIT_NOTE, "DebitNoteLine", "DebitedQuantity"),
}


def _scheme_for(affectation: str) -> tuple[str, str, str]:
    if affectation == "10":
        return IGV
    if affectation == "20":
        return EXO
    if affectation == "30":
        return INA
    return GRA  # free: 11–16, 21, 31–37


def document_build(snapshot: DocumentSnapshot) -> bytes:
    """Unsigned UBL 2.1 bytes for a 01/03/07/08 snapshot (``ExtensionContent`` left empty)."""
    kind = snapshot.document_type
    if kind not in _KIND:
        raise ValueError(f"tipo de documento no soportado: {kind!r}")
    if not 1 <= len(snapshot.lines) <= 999:
        raise ValueError("un comprobante debe tener entre 1 y 999 líneas")
    if kind in ("07", "08") and snapshot.reference is None:
        raise ValueError("una nota de crédito o débito necesita el documento que modifica")
    _check_customer(snapshot)
    root_name, ns, line_tag, quantity_tag = _KIND[kind]
    currency = snapshot.currency
    root = etree.Element(f"{{{ns}}}{root_name}", nsmap=nsmap(ns))
    extensions(root)
    cbc(root, "UBLVersionID", "2.1")
    cbc(root, "CustomizationID", "2.0")
    cbc(root, "ID", snapshot.full_number)
    local = rules.fiscal_time(snapshot.issued_at)
    cbc(root, "IssueDate", local.strftime("%Y-%m-%d"))
    cbc(root, "IssueTime", local.strftime("%H:%M:%S"))
    if kind in ("01", "03"):
        cbc(
            root,
            "InvoiceTypeCode",
            kind,
            listID=OPERATION_TYPE,
            listAgencyName="PE:SUNAT",
            listName="Tipo de Documento",
            listURI="urn:pe:gob:sunat:cpe:see:gem:catalogos:catalogo01",
            name="Tipo de Operacion",
            listSchemeURI="urn:pe:gob:sunat:cpe:see:gem:catalogos:catalogo51",
        )
    payable = snapshot.totals.total
    cbc(root, "Note", amount_in_words(payable, currency=currency), languageLocaleID="1000")
    if any(line.is_free for line in snapshot.lines):
        cbc(root, "Note", LEGEND_FREE, languageLocaleID="1002")
    cbc(root, "DocumentCurrencyCode", currency)
    if kind in ("07", "08"):
        ref = snapshot.reference
        discrepancy = cac(root, "DiscrepancyResponse")
        cbc(discrepancy, "ReferenceID", ref.number)
        cbc(discrepancy, "ResponseCode", ref.reason_code)
        cbc(discrepancy, "Description", clean_text(ref.description, limit=500))
        billing = cac(root, "BillingReference")
        invoice_ref = cac(billing, "InvoiceDocumentReference")
        cbc(invoice_ref, "ID", ref.number)
        cbc(invoice_ref, "DocumentTypeCode", ref.document_type)
    signature_block(root, ruc=snapshot.supplier.ruc, legal_name=snapshot.supplier.legal_name)
    _supplier(root, snapshot.supplier)
    _customer(root, snapshot.customer)
    # A factura always; a note when it adjusts payments (NC 13).
    if kind == "01" or (kind in ("07", "08") and snapshot.payment_terms is not None):
        _payment_terms(root, snapshot)
    _header_taxes(root, snapshot)
    totals_tag = "RequestedMonetaryTotal" if kind == "08" else "LegalMonetaryTotal"
    monetary = cac(root, totals_tag)
    t = snapshot.totals
    amount(monetary, "LineExtensionAmount", t.gravadas + t.exoneradas + t.inafectas, currency)
    amount(monetary, "TaxInclusiveAmount", payable, currency)
    amount(monetary, "PayableAmount", payable, currency)
    for line in snapshot.lines:
        _line(root, line, line_tag=line_tag, quantity_tag=quantity_tag, currency=currency)
    return serialize(root)


def _check_customer(snapshot: DocumentSnapshot) -> None:
    """Refuse what SUNAT rejects, with a readable message: a factura's buyer without a RUC (2800,
    2017), a boleta above S/ 700 without its buyer's document (2396), a line of quantity 0 (2580),
    a taxed line with IGV 0.00 (3111), a bag whose ICBPER per unit is not the rate of the issue
    date (3238). The rules are ``sunat.rules``'s, the till's too."""
    customer = snapshot.customer
    invoice_like = snapshot.document_type == "01" or (
        snapshot.document_type in ("07", "08") and snapshot.series.startswith("F")
    )
    if invoice_like and (
        customer.doc_type != "6" or len(customer.doc_number) != 11 or not customer.doc_number.isdigit()
    ):
        raise ValueError("una factura (y sus notas) requiere el RUC de 11 dígitos del cliente")
    if not invoice_like:
        refusal = rules.boleta_buyer_refusal(
            total=snapshot.totals.total, doc_type=customer.doc_type, doc_number=customer.doc_number
        )
        if refusal:
            raise ValueError(f"{refusal} (SUNAT 2396)")
    bag_rate = rules.icbper_rate(on=rules.fiscal_date(snapshot.issued_at))
    for line in snapshot.lines:
        if line.quantity <= 0:
            # A note line with nothing returned (CreditedQuantity 0) is rejected (2580).
            raise ValueError(f"línea {line.number}: la cantidad debe ser mayor que cero (SUNAT 2580)")
        if snapshot.document_type in ("01", "03") and line.icbper and line.icbper_unit != bag_rate:
            # A note keeps the rate its original was sold at.
            raise ValueError(
                f"línea {line.number}: ICBPER de S/ {line.icbper_unit} por bolsa; el vigente el "
                f"{rules.fiscal_date(snapshot.issued_at):%d/%m/%Y} es S/ {bag_rate} (SUNAT 3238)"
            )
        if rules.taxed_line_igv_missing(affectation=line.affectation, base=line.line_value, igv=line.igv):
            raise ValueError(
                f"línea {line.number}: un ítem gravado con IGV 0.00 (importe menor a S/ 0.04) es rechazado "
                "por SUNAT (3111)"
            )


def _supplier(root: etree._Element, supplier: Supplier) -> None:
    party = cac(cac(root, "AccountingSupplierParty"), "Party")
    cbc(cac(party, "PartyIdentification"), "ID", supplier.ruc, schemeID="6")
    if supplier.trade_name:
        cbc(cac(party, "PartyName"), "Name", clean_text(supplier.trade_name, limit=1500))
    legal = cac(party, "PartyLegalEntity")
    cbc(legal, "RegistrationName", clean_text(supplier.legal_name, limit=1500))
    address = cac(legal, "RegistrationAddress")
    if supplier.ubigeo:
        cbc(address, "ID", supplier.ubigeo)
    cbc(address, "AddressTypeCode", supplier.establishment_code)
    if supplier.province:
        cbc(address, "CityName", supplier.province)
    if supplier.department:
        cbc(address, "CountrySubentity", supplier.department)
    if supplier.district:
        cbc(address, "District", supplier.district)
    if supplier.address:
        cbc(cac(address, "AddressLine"), "Line", clean_text(supplier.address, limit=200))
    cbc(cac(address, "Country"), "IdentificationCode", "PE")


def _customer(root: etree._Element, customer: Customer) -> None:
    party = cac(cac(root, "AccountingCustomerParty"), "Party")
    doc_type = customer.doc_type or rules.ANONYMOUS_DOC_TYPE
    doc_number = customer.doc_number or rules.ANONYMOUS_DOC_NUMBER
    cbc(cac(party, "PartyIdentification"), "ID", doc_number, schemeID=doc_type)
    legal = cac(party, "PartyLegalEntity")
    cbc(legal, "RegistrationName", clean_text(customer.name or rules.ANONYMOUS_NAME, limit=1500))
    if customer.address:
        cbc(cac(cac(legal, "RegistrationAddress"), "AddressLine"), "Line", clean_text(customer.address, limit=200))


def _payment_terms(root: etree._Element, snapshot: DocumentSnapshot) -> None:
    terms = snapshot.payment_terms
    currency = snapshot.currency
    if terms is None or terms.method == "Contado":
        element = cac(root, "PaymentTerms")
        cbc(element, "ID", "FormaPago")
        cbc(element, "PaymentMeansID", "Contado")
        return
    if terms.method != "Credito" or not terms.installments:
        raise ValueError("forma de pago Credito requiere cuotas")
    element = cac(root, "PaymentTerms")
    cbc(element, "ID", "FormaPago")
    cbc(element, "PaymentMeansID", "Credito")
    amount(element, "Amount", terms.amount if terms.amount is not None else snapshot.totals.total, currency)
    for index, installment in enumerate(terms.installments, start=1):
        element = cac(root, "PaymentTerms")
        cbc(element, "ID", "FormaPago")
        cbc(element, "PaymentMeansID", f"Cuota{index:03d}")
        amount(element, "Amount", installment.amount, currency)
        cbc(element, "PaymentDueDate", installment.due_date.isoformat())


def _tax_scheme(category: etree._Element, scheme: tuple[str, str, str]) -> None:
    tax_scheme = cac(category, "TaxScheme")
    cbc(tax_scheme, "ID", scheme[0])
    cbc(tax_scheme, "Name", scheme[1])
    cbc(tax_scheme, "TaxTypeCode", scheme[2])


def _header_taxes(root: etree._Element, snapshot: DocumentSnapshot) -> None:
    t = snapshot.totals
    currency = snapshot.currency
    tax_total = cac(root, "TaxTotal")
    amount(tax_total, "TaxAmount", t.igv + t.icbper, currency)
    subtotals: list[tuple[tuple[str, str, str], Decimal | None, Decimal]] = []
    has = {_scheme_for(line.affectation)[0] for line in snapshot.lines}
    if IGV[0] in has:
        subtotals.append((IGV, t.gravadas, t.igv))
    if EXO[0] in has:
        subtotals.append((EXO, t.exoneradas, ZERO))
    if INA[0] in has:
        subtotals.append((INA, t.inafectas, ZERO))
    if GRA[0] in has:
        subtotals.append((GRA, t.gratuitas, t.igv_gratuitas))
    if any(line.icbper for line in snapshot.lines):
        subtotals.append((ICBPER, None, t.icbper))
    for scheme, taxable, tax in subtotals:
        subtotal = cac(tax_total, "TaxSubtotal")
        if taxable is not None:
            amount(subtotal, "TaxableAmount", taxable, currency)
        amount(subtotal, "TaxAmount", tax, currency)
        _tax_scheme(cac(subtotal, "TaxCategory"), scheme)


def _line(root: etree._Element, line: Line, *, line_tag: str, quantity_tag: str, currency: str) -> None:
    element = cac(root, line_tag)
    cbc(element, "ID", str(line.number))
    cbc(element, quantity_tag, decimal_text(line.quantity), unitCode=line.unit_code)
    amount(element, "LineExtensionAmount", line.line_value, currency)
    pricing = cac(cac(element, "PricingReference"), "AlternativeConditionPrice")
    sub_price = etree.SubElement(pricing, f"{{{CBC}}}PriceAmount", currencyID=currency)
    sub_price.text = unit_text(line.unit_price)
    cbc(pricing, "PriceTypeCode", "02" if line.is_free else "01")
    tax_total = cac(element, "TaxTotal")
    # Free lines' IGV is referential: it is not part of what the line charges.
    charged_igv = ZERO if line.is_free else line.igv
    amount(tax_total, "TaxAmount", charged_igv + line.icbper, currency)
    scheme = _scheme_for(line.affectation)
    subtotal = cac(tax_total, "TaxSubtotal")
    amount(subtotal, "TaxableAmount", line.line_value, currency)
    amount(subtotal, "TaxAmount", line.igv, currency)
    category = cac(subtotal, "TaxCategory")
    # IGV rate only on IGV lines (10, 11–17); exonerado/inafecto lines carry 0.00 (ND rule 3101).
    cbc(category, "Percent", money(line.igv_percent if line.affectation.startswith("1") else ZERO))
    cbc(category, "TaxExemptionReasonCode", line.affectation)
    _tax_scheme(category, scheme)
    if line.icbper:
        subtotal = cac(tax_total, "TaxSubtotal")
        amount(subtotal, "TaxAmount", line.icbper, currency)
        cbc(subtotal, "BaseUnitMeasure", decimal_text(line.quantity), unitCode="NIU")
        category = cac(subtotal, "TaxCategory")
        amount(category, "PerUnitAmount", line.icbper_unit, currency)
        _tax_scheme(category, ICBPER)
    item = cac(element, "Item")
    cbc(item, "Description", clean_text(line.description, limit=500))
    if line.code:
        cbc(cac(item, "SellersItemIdentification"), "ID", clean_text(line.code, limit=30))
    price = cac(element, "Price")
    price_amount = etree.SubElement(price, f"{{{CBC}}}PriceAmount", currencyID=currency)
    price_amount.text = unit_text(ZERO if line.is_free else line.unit_value)

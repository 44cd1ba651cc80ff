"""Build the fiscal snapshot (``sunat.snapshot.DocumentSnapshot``) of a sale.

Amounts are copied as rounded by ``sales.money``; nothing here computes money.
"""

from __future__ import annotations

from collections.abc import Sequence

from sales.models import Sale, SaleLine, SaleReturn, SaleReturnLine
from stores.models import Company, Store
from sunat import rules
from sunat.snapshot import Customer, DocumentSnapshot, Line, PaymentTerms, Reference, Supplier, Totals


def _supplier(*, company: Company, store: Store) -> Supplier:
    return Supplier(
        ruc=company.ruc,
        legal_name=company.legal_name,
        trade_name=company.trade_name,
        address=company.address,
        ubigeo=company.ubigeo,
        department=company.department,
        province=company.province,
        district=company.district,
        establishment_code=store.code,
    )


def _customer(sale: Sale) -> Customer:
    """The buyer as printed on the sale (and on its notes): "CLIENTES VARIOS" when anonymous."""
    if rules.buyer_is_anonymous(doc_type=sale.customer_doc_type, doc_number=sale.customer_doc_number):
        return Customer.anonymous()
    return Customer(
        doc_type=sale.customer_doc_type,
        doc_number=sale.customer_doc_number,
        name=sale.customer_name,
        address=sale.customer_address,
    )


def sale_snapshot_build(*, company: Company, store: Store, sale: Sale, lines: Sequence[SaleLine]) -> DocumentSnapshot:
    """The SUNAT snapshot of ``sale``: supplier from company + store (establishment code), buyer
    from the sale's customer fields ("CLIENTES VARIOS" when anonymous), one ``Line`` per sale
    line, and ``Contado`` payment terms for facturas."""
    return DocumentSnapshot(
        document_type=sale.document_type,
        series=sale.series,
        number=sale.number,
        issued_at=sale.issued_at,
        supplier=_supplier(company=company, store=store),
        customer=_customer(sale),
        lines=tuple(
            Line(
                number=line.line_no,
                code=line.sku,
                description=line.description,
                unit_code=line.unit_code,
                quantity=line.quantity,
                unit_price=line.unit_price,
                unit_value=line.unit_value,
                line_value=line.base,
                affectation=line.affectation,
                igv=line.igv,
                icbper=line.icbper,
                icbper_unit=line.icbper_rate,
            )
            for line in lines
        ),
        totals=Totals(
            gravadas=sale.gravadas,
            exoneradas=sale.exoneradas,
            inafectas=sale.inafectas,
            igv=sale.igv,
            icbper=sale.icbper,
            total=sale.total,
        ),
        payment_terms=PaymentTerms(method="Contado") if sale.document_type == "01" else None,
        extra={"sale_id": str(sale.public_id)},
    )


def return_snapshot_build(
    *,
    company: Company,
    store: Store,
    sale: Sale,
    sale_return: SaleReturn,
    lines: Sequence[tuple[SaleLine, SaleReturnLine]],
) -> DocumentSnapshot:
    """The SUNAT snapshot of a credit note (07) for ``sale_return``: the sale's buyer, one line
    per returned sale line with the note's amounts and the sale line's prices, and the sale's
    document as ``reference`` (BillingReference, DiscrepancyResponse with the catalog-09 reason)."""
    return DocumentSnapshot(
        document_type="07",
        series=sale_return.series,
        number=sale_return.number,
        issued_at=sale_return.issued_at,
        supplier=_supplier(company=company, store=store),
        customer=_customer(sale),
        lines=tuple(
            Line(
                number=returned.line_no,
                code=sold.sku,
                description=sold.description,
                unit_code=sold.unit_code,
                quantity=returned.quantity,
                unit_price=sold.unit_price,
                unit_value=sold.unit_value,
                line_value=returned.base,
                affectation=sold.affectation,
                igv=returned.igv,
                icbper=returned.icbper,
                icbper_unit=sold.icbper_rate,
            )
            for sold, returned in lines
        ),
        totals=Totals(
            gravadas=sale_return.gravadas,
            exoneradas=sale_return.exoneradas,
            inafectas=sale_return.inafectas,
            igv=sale_return.igv,
            icbper=sale_return.icbper,
            total=sale_return.total,
        ),
        reference=Reference(
            document_type=sale.document_type,
            number=sale.full_number,
            reason_code=sale_return.reason_code,
            description=sale_return.reason,
        ),
        extra={"sale_id": str(sale.public_id), "return_id": str(sale_return.public_id)},
    )

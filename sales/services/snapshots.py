"""Build the fiscal snapshot (``sunat.snapshot.DocumentSnapshot``) of a sale.

Amounts are copied as rounded by ``sales.money``; nothing here computes money.
"""

from __future__ import annotations

from collections.abc import Sequence

from stores.models import Company, Store
from sunat.snapshot import Customer, DocumentSnapshot, Line, PaymentTerms, Supplier, Totals

from sales.models import Sale, SaleLine

ANONYMOUS_CUSTOMER = Customer(doc_type="0", doc_number="-", name="CLIENTES VARIOS")


def sale_snapshot_build(*, company: Company, store: Store, sale: Sale, lines: Sequence[SaleLine]) -> DocumentSnapshot:
    """The SUNAT snapshot of ``sale``: supplier from company + store (establishment code), buyer
    from the sale's customer fields ("CLIENTES VARIOS" when anonymous), one ``Line`` per sale
    line, and ``Contado`` payment terms for facturas."""
    supplier = Supplier(
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
    if sale.customer_doc_type == "0" and sale.customer_doc_number == "-":
        customer = ANONYMOUS_CUSTOMER
    else:
        customer = Customer(
            doc_type=sale.customer_doc_type,
            doc_number=sale.customer_doc_number,
            name=sale.customer_name,
            address=sale.customer_address,
        )
    return DocumentSnapshot(
        document_type=sale.document_type,
        series=sale.series,
        number=sale.number,
        issued_at=sale.issued_at,
        supplier=supplier,
        customer=customer,
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

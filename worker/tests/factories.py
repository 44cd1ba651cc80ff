"""Test data of the worker tests: companies, stores and documents issued with their jobs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction

from sales.money import document_totals, line_amounts
from stores.models import Company, Store
from sunat.services import sunat_document_issue
from sunat.snapshot import Customer, DocumentSnapshot, Line, Supplier, Totals

_numbers = itertools.count(1)
_rucs = itertools.count(0)


def _ruc() -> str:
    # Valid RUCs (python-stdnum check digit): 20 + 8 digits + check digit.
    from stdnum.pe import ruc

    base = f"20{next(_rucs) + 10000000:08d}"
    return base + ruc.calc_check_digit(base)


def company_create(**extra) -> Company:
    company = Company.objects.create(
        ruc=_ruc(), legal_name="BODEGA DE PRUEBA S.A.C.", address="AV. LIMA 123", ubigeo="150101", **extra
    )
    return company


def store_create(company: Company) -> Store:
    return Store.objects.create(company=company, code="0000", name="Central", address="AV. LIMA 123", ubigeo="150101")


def snapshot_for(
    company: Company, store: Store, *, series: str = "B001", number: int | None = None, document_type: str = "03"
) -> DocumentSnapshot:
    amounts = line_amounts(price=Decimal("3.50"), quantity=Decimal("2"), affectation="10")
    totals = document_totals([("10", amounts)])
    return DocumentSnapshot(
        document_type=document_type,
        series=series,
        number=number if number is not None else next(_numbers),
        issued_at=datetime.now(UTC),
        supplier=Supplier(
            ruc=company.ruc,
            legal_name=company.legal_name,
            trade_name="",
            address=company.address,
            ubigeo=company.ubigeo,
            department="LIMA",
            province="LIMA",
            district="LIMA",
            establishment_code=store.code,
        ),
        customer=Customer(doc_type="0", doc_number="-", name="CLIENTES VARIOS"),
        lines=(
            Line(
                number=1,
                code="SKU1",
                description="GASEOSA 500ML",
                unit_code="NIU",
                quantity=Decimal("2"),
                unit_price=Decimal("3.50"),
                unit_value=amounts.unit_value,
                line_value=amounts.base,
                affectation="10",
                igv=amounts.igv,
            ),
        ),
        totals=Totals(
            gravadas=totals.gravadas,
            exoneradas=totals.exoneradas,
            inafectas=totals.inafectas,
            igv=totals.igv,
            icbper=totals.icbper,
            total=totals.total,
        ),
    )


def documents_issue(company: Company, store: Store, n: int, **kw) -> list:
    docs = []
    with transaction.atomic():
        for _ in range(n):
            docs.append(
                sunat_document_issue(
                    company=company,
                    store=store,
                    snapshot=snapshot_for(company, store, **kw),
                    request_id=f"req-{next(_numbers)}",
                )
            )
    return docs

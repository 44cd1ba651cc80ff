"""A checkout's fiscal snapshot builds a document that passes SUNAT's own XSD and SFS rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from sales.schemas import CartLine, CustomerIn, PaymentIn
from sales.services.checkout import sale_checkout
from sales.tests.factories import product_make
from sunat.snapshot import DocumentSnapshot
from sunat.tests.scenarios import schemas_missing_reason, signed
from sunat.validation import validate_sfs, validate_xsd

pytestmark = pytest.mark.skipif(schemas_missing_reason() is not None, reason=str(schemas_missing_reason()))


@pytest.mark.parametrize("document_type", ["03", "01"])
def test_checkout_snapshot_passes_xsd_and_sfs(cashier, store, document_type):
    items = [
        (product_make(store=store, price="3.50"), "2"),
        (product_make(store=store, price="4.20", affectation="20"), "1"),
        (product_make(store=store, price="1.05", affectation="30"), "3"),
        (product_make(store=store, price="0.10", is_plastic_bag=True), "2"),
        (product_make(store=store, price="5.99", unit_code="KGM"), "1.255"),
    ]
    customer = (
        CustomerIn(doc_type="6", doc_number="20100070970", name="EMPRESA CLIENTE S.A.C.")
        if document_type == "01"
        else None
    )
    sale, _ = sale_checkout(
        cashier=cashier,
        register=None,
        idempotency_key=uuid.uuid4(),
        fingerprint="f",
        document_type=document_type,
        customer=customer,
        lines=[CartLine(kind="sku", code=sp.product.sku, quantity=Decimal(q)) for sp, q in items],
        payments=[PaymentIn(method="cash", amount=Decimal("50"))],
    )
    snapshot = DocumentSnapshot.from_json(sale.sunat_document.snapshot)
    assert snapshot.totals.total == sale.total
    _snapshot, document, file_name = signed(snapshot)
    assert validate_xsd(document.xml) == []
    result = validate_sfs(document.xml, file_name=file_name)
    assert result.error is None, str(result.error)
    assert result.observations == (), [str(o) for o in result.observations]

"""GET /api/v1/products and the receipt selectors: scoped to the user's stores."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.http import Http404
from django.test import Client

from sales.schemas import CartLine, PaymentIn
from sales.selectors import sale_get_for_user, sale_receipt_get
from sales.services.checkout import sale_checkout
from sales.tests.factories import cashier_make, product_make


@pytest.fixture
def client_for(cashier):
    client = Client()
    client.force_login(cashier)
    return client


def test_products_by_barcode_and_name_in_the_cashier_store_only(client_for, store, other_store):
    bag = product_make(store=store, price="0.10", is_plastic_bag=True, name="Bolsa plástica")
    soda = product_make(store=store, price="3.50", name="Gaseosa Inca Kola")
    product_make(store=other_store, price="1.00", name="Gaseosa de otra tienda")
    by_name = client_for.get("/api/v1/products", {"q": "gaseosa"}).json()
    assert [p["name"] for p in by_name] == ["Gaseosa Inca Kola"]
    assert by_name[0] == {
        "id": soda.product_id,
        "sku": soda.product.sku,
        "barcode": soda.product.barcode,
        "name": "Gaseosa Inca Kola",
        "price": "3.50",
        "stock": "100.000",
        "unit": "NIU",
        "affectation": "10",
        "icbper": False,
    }
    by_barcode = client_for.get("/api/v1/products", {"q": bag.product.barcode}).json()
    assert [(p["name"], p["icbper"]) for p in by_barcode] == [("Bolsa plástica", True)]


def test_products_requires_a_session(db):
    response = Client().get("/api/v1/products", {"q": "x"})
    assert response.status_code == 403
    assert "errors" in response.json()


def _sale(cashier, store):
    sp = product_make(store=store, price="2.00")
    sale, _ = sale_checkout(
        cashier=cashier,
        register=None,
        idempotency_key=uuid.uuid4(),
        fingerprint="x",
        document_type="03",
        customer=None,
        lines=[CartLine(kind="sku", code=sp.product.sku, quantity=Decimal("2"))],
        payments=[PaymentIn(method="cash", amount=Decimal("5"))],
    )
    return sale


def test_sale_selectors_hide_other_stores_like_missing_sales(cashier, store, other_store):
    sale = _sale(cashier, store)
    assert sale_get_for_user(user=cashier, public_id=sale.public_id) == sale
    assert sale_get_for_user(user=cashier, public_id=str(sale.public_id)) == sale
    stranger = cashier_make(store=other_store)
    for user, public_id in ((stranger, sale.public_id), (cashier, uuid.uuid4()), (cashier, "not-a-uuid")):
        with pytest.raises(Http404):
            sale_get_for_user(user=user, public_id=public_id)
        with pytest.raises(Http404):
            sale_receipt_get(user=user, public_id=public_id)


def test_receipt_selector_uses_four_queries(cashier, store, django_assert_num_queries):
    sale = _sale(cashier, store)
    with django_assert_num_queries(4):
        receipt = sale_receipt_get(user=cashier, public_id=sale.public_id)
        lines, payments = list(receipt.lines.all()), list(receipt.payments.all())
        assert receipt.store.code == "0000" and list(receipt.returns.all()) == []
    assert [line.quantity for line in lines] == [Decimal("2.000")]
    assert payments[0].change == Decimal("1.00")


def test_the_receipt_page_never_reads_the_companys_secrets(client, cashier, store):
    """#14: the receipt prints the company's name, RUC and address; the SOL password and the
    certificate are neither selected nor decrypted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sale = _sale(cashier, store)
    client.force_login(cashier)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/pos/receipts/{sale.public_id}/")
    assert response.status_code == 200 and store.company.ruc in response.content.decode()
    read = " ".join(q["sql"] for q in queries.captured_queries)
    for name in ("sunat_accounts", "sol_password", '"certificate"', "certificate_password"):
        assert name not in read, name

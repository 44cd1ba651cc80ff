"""The checkout's per-process catalog (``_store_products_fetch`` with a generation): a cart of
known products runs no product query, and a price or product change reaches the very next sale."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sales.models import Sale, StoreProduct
from sales.services import checkout
from sales.tests.factories import cashier_make, product_make

pytestmark = pytest.mark.django_db(transaction=True)  # caches are used outside transactions only

PRODUCT_QUERY = 'SELECT "sales_storeproduct"."id"'


@pytest.fixture(autouse=True)
def _empty_catalog():
    checkout._CATALOG.clear()
    yield
    checkout._CATALOG.clear()


@pytest.fixture
def till(cashier):
    client = Client()
    client.force_login(cashier)
    return client


def _sell(client: Client, sp: StoreProduct):
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "document_type": "03",
        "lines": [{"barcode": sp.product.barcode, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "100"}],
    }
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/checkout", json.dumps(body), content_type="application/json")
    return response, [q["sql"] for q in queries.captured_queries]


def test_a_known_cart_runs_no_product_query_and_stock_decrements_keep_the_catalog(till, store):
    sp = product_make(store=store, price="3.50")
    first, statements = _sell(till, sp)
    assert first.status_code == 201 and any(s.startswith(PRODUCT_QUERY) for s in statements)
    second, statements = _sell(till, sp)  # the first sale's stock UPDATE did not move the generation
    assert second.status_code == 201
    assert not any(s.startswith(PRODUCT_QUERY) for s in statements)
    assert Decimal(second.json()["total"]) == Decimal("3.50")


def test_a_price_saved_or_updated_reaches_the_next_sale(till, store):
    sp = product_make(store=store, price="3.50")
    assert _sell(till, sp)[0].status_code == 201
    sp.refresh_from_db()
    sp.price = Decimal("4.20")
    sp.save()  # as the admin does
    assert _sell(till, sp)[0].json()["total"] == "4.20"
    StoreProduct.objects.filter(pk=sp.pk).update(price=Decimal("5.10"))  # no save(), no signal
    assert _sell(till, sp)[0].json()["total"] == "5.10"


def test_a_deactivated_product_is_refused_on_the_next_sale(till, store):
    sp = product_make(store=store, price="3.50")
    assert _sell(till, sp)[0].status_code == 201
    sp.product.is_active = False
    sp.product.save(update_fields=["is_active"])
    refused, _ = _sell(till, sp)
    assert refused.status_code == 400 and "lines" in refused.json()["errors"]
    assert Sale.objects.count() == 1


def test_two_stores_selling_one_product_each_get_their_own_price(till, store, other_store):
    sp_a = product_make(store=store, price="3.50")
    StoreProduct.objects.create(
        company=store.company, store=other_store, product=sp_a.product, price=Decimal("3.90"), stock=50
    )
    till_b = Client()
    till_b.force_login(cashier_make(store=other_store))
    for _ in range(2):  # the second round comes from the catalog
        assert _sell(till, sp_a)[0].json()["total"] == "3.50"
        assert _sell(till_b, sp_a)[0].json()["total"] == "3.90"

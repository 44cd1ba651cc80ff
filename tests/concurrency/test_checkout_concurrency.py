"""Checkout under real concurrency: real threads, real PostgreSQL transactions.

Each thread uses its own database connection (taken from the pool) and closes it at the end.
The pool's max size (DATABASE_URL connection_limit, default 10) bounds how many run at once; the
others wait for a connection (pool_timeout 20 s), which is fine: no thread holds a lock while it
waits for a connection.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from sales.models import Payment, Sale, SaleLine, StockMovement
from sales.schemas import CartLine, PaymentIn
from sales.selectors import stock_ledger_sum
from sales.services.checkout import TillError, sale_checkout
from sales.tests.factories import cashier_make, company_make, product_make, session_ensure, store_make
from stores.models import DocumentSeries, Register
from sunat.models import SunatDocument, SunatJob

THREADS = 30

pytestmark = pytest.mark.django_db(transaction=True)


def run_threads(n: int, target: Callable[[int], object]) -> list[object]:
    """Run ``target(i)`` in ``n`` threads released together; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except BaseException as exc:  # reported by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a checkout thread hung (deadlock?)"
    return results


@pytest.fixture
def shop():
    company = company_make()
    store, register = store_make(company=company)
    cashier = cashier_make(store=store)
    return store, register, cashier


def sell(cashier, register, lines, payments=None, key=None):
    return sale_checkout(
        cashier=cashier,
        register=register.code,
        idempotency_key=key or uuid.uuid4(),
        fingerprint="f",
        document_type="03",
        customer=None,
        lines=lines,
        payments=payments or [PaymentIn(method="cash", amount=Decimal("500"))],
    )


def test_30_concurrent_checkouts_get_30_consecutive_numbers(shop):
    store, register, cashier = shop
    sp = product_make(store=store, price="2.00", stock="1000")
    line = [CartLine(kind="barcode", code=sp.product.barcode, quantity=Decimal("1"))]
    results = run_threads(THREADS, lambda i: sell(cashier, register, line))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    numbers = sorted(Sale.objects.values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 1))
    assert DocumentSeries.objects.get(register=register, document_type="03").last_number == THREADS
    assert SunatDocument.objects.count() == SunatJob.objects.count() == THREADS


def test_30_concurrent_checkouts_of_one_product_keep_stock_equal_to_ledger(shop):
    store, register, cashier = shop
    plenty = product_make(store=store, price="1.50", stock="100")
    scarce = product_make(store=store, price="9.00", stock="20", name="Cigarrillos")  # blocks negative
    lines = [
        CartLine(kind="barcode", code=plenty.product.barcode, quantity=Decimal("2")),
        CartLine(kind="sku", code=scarce.product.sku, quantity=Decimal("1")),
    ]
    results = run_threads(THREADS, lambda i: sell(cashier, register, lines))
    refused = [r for r in results if isinstance(r, TillError)]
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, TillError)]
    assert not unexpected, unexpected
    assert len(refused) == THREADS - 20 and all(r.status == 409 for r in refused)
    assert Sale.objects.count() == 20
    plenty.refresh_from_db()
    scarce.refresh_from_db()
    assert plenty.stock == Decimal("60") == stock_ledger_sum(store_product=plenty)
    assert scarce.stock == Decimal("0") == stock_ledger_sum(store_product=scarce)
    # refused sales consumed no number: 20 sales, numbers 1…20
    assert sorted(Sale.objects.values_list("number", flat=True)) == list(range(1, 21))


def test_products_that_allow_negative_stock_sell_below_zero_concurrently(shop):
    store, register, cashier = shop
    bread = product_make(store=store, price="0.30", stock="5", allows_negative_stock=True, name="Pan")
    line = [CartLine(kind="barcode", code=bread.product.barcode, quantity=Decimal("1"))]
    results = run_threads(10, lambda i: sell(cashier, register, line))
    assert not [r for r in results if isinstance(r, BaseException)]
    bread.refresh_from_db()
    assert bread.stock == Decimal("-5") == stock_ledger_sum(store_product=bread)


def test_a_key_replayed_concurrently_over_http_yields_one_sale(shop):
    store, register, cashier = shop
    sp = product_make(store=store, price="3.00", stock="1")  # one unit: a second sale would be refused
    body = json.dumps(
        {
            "idempotency_key": str(uuid.uuid4()),
            "document_type": "03",
            "lines": [{"barcode": sp.product.barcode, "quantity": "1"}],
            "payments": [{"method": "cash", "amount": "5"}],
        }
    )

    def post(i: int):
        client = Client()
        client.force_login(cashier)
        response = client.post("/api/v1/checkout", data=body, content_type="application/json")
        return response.status_code, response.json()

    results = run_threads(10, post)
    assert not [r for r in results if isinstance(r, BaseException)], results
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 9 + [201]
    assert len({json.dumps(data, sort_keys=True) for _, data in results}) == 1
    assert Sale.objects.count() == 1 and SunatDocument.objects.count() == 1
    sp.refresh_from_db()
    assert sp.stock == 0 == stock_ledger_sum(store_product=sp)


def test_a_checkout_refused_mid_way_leaves_no_row_behind(shop):
    store, register, cashier = shop
    first = product_make(store=store, price="1.00", stock="10")
    blocked = product_make(store=store, price="1.00", stock="1", name="Cigarrillos")
    assert first.pk < blocked.pk  # the first line's stock row is decremented before the refusal
    lines = [
        CartLine(kind="barcode", code=first.product.barcode, quantity=Decimal("3")),
        CartLine(kind="barcode", code=blocked.product.barcode, quantity=Decimal("2")),
    ]
    with pytest.raises(TillError) as refused:
        sell(cashier, register, lines)
    assert refused.value.status == 409
    assert "Cigarrillos" in refused.value.errors["lines"][0]
    for model in (Sale, SaleLine, Payment, SunatDocument, SunatJob):
        assert model.objects.count() == 0, model
    assert StockMovement.objects.filter(kind="sale").count() == 0
    first.refresh_from_db()
    assert first.stock == Decimal("10") == stock_ledger_sum(store_product=first)
    assert DocumentSeries.objects.get(register=register, document_type="03").last_number == 0
    sale, created = sell(cashier, register, lines[:1])
    assert created and sale.number == 1


def test_carts_sharing_products_on_six_registers_neither_deadlock_nor_oversell(shop):
    """Six registers of one store sell the same two scarce products at once, half of the carts
    listing them in the other order: no series lock serializes them, so only the stock statement
    (rows locked in id order, the guard rechecked on each row's latest version) keeps stock
    exact. A deadlock would surface as an error that is not a TillError."""
    store, register, cashier = shop
    registers = [register]
    for k in range(2, 7):
        extra = Register.objects.create(company=store.company, store=store, code=f"CAJA{k}")
        DocumentSeries.objects.create(
            company=store.company, store=store, register=extra, document_type="03", series=f"B9{k:02d}"
        )
        session_ensure(register=extra, user=cashier)
        registers.append(extra)
    milk = product_make(store=store, price="4.50", stock="12", name="Leche")
    rice = product_make(store=store, price="3.80", stock="12", name="Arroz")
    forward = [CartLine(kind="barcode", code=sp.product.barcode, quantity=Decimal("1")) for sp in (milk, rice)]
    results = run_threads(THREADS, lambda i: sell(cashier, registers[i % 6], forward if i % 2 else forward[::-1]))
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, TillError)]
    assert not unexpected, unexpected
    refused = [r for r in results if isinstance(r, TillError)]
    assert len(refused) == THREADS - 12 and all(r.status == 409 for r in refused)
    assert Sale.objects.count() == 12
    for sp in (milk, rice):
        sp.refresh_from_db()
        assert sp.stock == Decimal("0") == stock_ledger_sum(store_product=sp)

"""sale_checkout called directly: ICBPER by Lima date, payments, stock service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from sales.models import MovementKind, Sale
from sales.schemas import CartLine, PaymentIn
from sales.selectors import stock_ledger_sum
from sales.services.checkout import TillError, sale_checkout
from sales.services.stock import stock_movement_record
from sales.tests.factories import product_make


def sell(cashier, lines, payments, **kw):
    return sale_checkout(
        cashier=cashier,
        register=kw.pop("register", None),
        idempotency_key=uuid.uuid4(),
        fingerprint="f",
        document_type=kw.pop("document_type", "03"),
        customer=kw.pop("customer", None),
        lines=lines,
        payments=payments,
    )


@pytest.mark.parametrize(
    ("utc_now", "rate"),
    [
        (datetime(2023, 1, 1, 4, 59, tzinfo=UTC), "0.40"),  # still 2022-12-31 in Lima
        (datetime(2023, 1, 1, 5, 0, tzinfo=UTC), "0.50"),  # 2023-01-01 00:00 in Lima
        (datetime(2021, 6, 1, 12, 0, tzinfo=UTC), "0.30"),
    ],
)
def test_icbper_uses_the_rate_valid_on_the_lima_date(monkeypatch, cashier, store, utc_now, rate):
    bag = product_make(store=store, price="0.10", is_plastic_bag=True)
    monkeypatch.setattr(timezone, "now", lambda: utc_now)
    sale, created = sell(
        cashier,
        [CartLine(kind="sku", code=bag.product.sku, quantity=Decimal("2"))],
        [PaymentIn(method="cash", amount=Decimal("10"))],
    )
    line = sale.lines.get()
    assert created and line.icbper_rate == Decimal(rate)
    assert sale.icbper == Decimal(rate) * 2
    assert sale.total == Decimal("0.20") + Decimal(rate) * 2


def test_split_payment_card_plus_cash_with_change(cashier, store):
    sp = product_make(store=store, price="7.45")
    sale, _ = sell(
        cashier,
        [CartLine(kind="sku", code=sp.product.sku, quantity=Decimal("2"))],
        [PaymentIn(method="card", amount=Decimal("10.00")), PaymentIn(method="cash", amount=Decimal("5"))],
    )
    # total 14.90: card 10.00 exact, cash part 4.90 due 4.90, change 0.10
    assert sale.total == Decimal("14.90") and sale.change == Decimal("0.10") and sale.cash_rounding == 0
    assert sorted((p.method, p.amount) for p in sale.payments.all()) == [
        ("card", Decimal("10.00")),
        ("cash", Decimal("4.90")),
    ]


def test_cash_not_needed_when_other_methods_cover_the_total(cashier, store):
    sp = product_make(store=store, price="2.00")
    with pytest.raises(TillError) as err:
        sell(
            cashier,
            [CartLine(kind="sku", code=sp.product.sku, quantity=Decimal("1"))],
            [PaymentIn(method="yape", amount=Decimal("2.00")), PaymentIn(method="cash", amount=Decimal("1"))],
        )
    assert err.value.status == 400 and "payments" in err.value.errors
    assert Sale.objects.count() == 0


def test_exact_cash_under_ten_centimos_rounding(cashier, store):
    sp = product_make(store=store, price="3.99")
    sale, _ = sell(
        cashier,
        [CartLine(kind="sku", code=sp.product.sku, quantity=Decimal("1"))],
        [PaymentIn(method="cash", amount=Decimal("3.90"))],
    )
    assert (sale.total, sale.cash_rounding, sale.change) == (Decimal("3.99"), Decimal("0.09"), Decimal("0.00"))


def test_stock_movement_record_keeps_cache_equal_to_ledger(cashier, store):
    sp = product_make(store=store, stock="5")
    stock_movement_record(store_product=sp, kind=MovementKind.PURCHASE, quantity=Decimal("10"), created_by=cashier)
    stock_movement_record(store_product=sp, kind=MovementKind.ADJUSTMENT, quantity=Decimal("-20"), note="conteo")
    assert sp.stock == Decimal("-5") == stock_ledger_sum(store_product=sp)
    with pytest.raises(ValueError):
        stock_movement_record(store_product=sp, kind=MovementKind.SALE, quantity=Decimal("1"))


def test_a_register_instance_of_another_store_is_refused(cashier, store, other_store):
    from stores.models import Register

    foreign_register = Register.objects.get(store=other_store)
    sp = product_make(store=other_store)
    with pytest.raises(TillError) as err:
        sell(
            cashier,
            [CartLine(kind="sku", code=sp.product.sku, quantity=Decimal("1"))],
            [PaymentIn(method="cash", amount=Decimal("100"))],
            register=foreign_register,
        )
    assert err.value.status == 400 and "register" in err.value.errors
    assert Sale.objects.count() == 0

"""The checkout writes its rows with plain ``INSERT``s (``sales.services.checkout._rows_insert``):
each row must hold exactly what ``save()`` writes from the same instance, and a model the helper
cannot write like ``save()`` (database defaults, generated fields) is refused."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.test import Client

from sales.models import MovementKind, Payment, PaymentMethod, Sale, SaleLine, StockMovement
from sales.services.checkout import _rows_insert
from sales.tests.factories import product_make
from sunat.models import SunatJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale(cashier, store):
    item = product_make(store=store, price="3.50")
    client = Client()
    client.force_login(cashier)
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "document_type": "03",
        "lines": [{"barcode": item.product.barcode, "quantity": "2"}],
        "payments": [{"method": "cash", "amount": "10.00"}],
    }
    response = client.post("/api/v1/checkout", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return Sale.objects.get(public_id=response.json()["id"]), item


def _pair(make):
    """The same instance twice: one written by ``_rows_insert``, one by ``save()``; both reread."""
    by_rows, by_save = make(), make()
    _rows_insert([by_rows], returning=True)
    by_save.save(force_insert=True)
    assert by_rows.pk and not by_rows._state.adding
    model = type(by_rows)
    return model.objects.get(pk=by_rows.pk), model.objects.get(pk=by_save.pk)


def _same(a, b, *, ignore=()):
    left, right = model_to_dict(a), model_to_dict(b)
    for name in ("id", *ignore):
        left.pop(name, None), right.pop(name, None)
    assert left == right


def test_a_payment_a_line_and_a_movement_are_written_as_save_writes_them(sale):
    sale, item = sale
    payment = _pair(
        lambda: Payment(
            company=sale.company,
            store=sale.store,
            sale=sale,
            method=PaymentMethod.CASH,
            amount=Decimal("7.00"),
            tendered=Decimal("10.00"),
            change=Decimal("3.00"),
            rounding=Decimal("0.00"),
        )
    )
    _same(*payment)
    numbers = iter((50, 51))
    line = _pair(
        lambda: SaleLine(
            company=sale.company,
            store=sale.store,
            sale=sale,
            line_no=next(numbers),
            product=item.product,
            store_product=item,
            sku=item.product.sku,
            barcode=item.product.barcode,
            description=item.product.name,
            unit_code="NIU",
            quantity=Decimal("1.000"),
            unit_price=Decimal("3.50"),
            unit_value=Decimal("2.966102"),
            base=Decimal("2.97"),
            igv=Decimal("0.53"),
            icbper=Decimal("0.00"),
            icbper_rate=Decimal("0.00"),
            amount=Decimal("3.50"),
            affectation="10",
        )
    )
    _same(*line, ignore=("line_no",))
    movement = _pair(
        lambda: StockMovement(
            company_id=sale.company_id,
            store_id=sale.store_id,
            store_product_id=item.pk,
            kind=MovementKind.SALE,
            quantity=Decimal("-1"),
            sale=sale,
            created_by_id=sale.cashier_id,
            note=sale.full_number,
        )
    )
    _same(*movement, ignore=("created_at",))
    assert movement[0].created_at is not None  # auto_now_add went through pre_save


def test_a_foreign_key_saved_after_it_was_assigned_takes_its_key(sale):
    sale, _ = sale
    payment = Payment(company=sale.company, store=sale.store, method=PaymentMethod.CARD, amount=Decimal("1.00"))
    unsaved = Sale(pk=None)
    payment.sale = unsaved  # as the checkout builds lines before the sale row exists
    unsaved.pk = sale.pk  # "saved" afterwards
    _rows_insert([payment])
    assert Payment.objects.filter(sale=sale, method=PaymentMethod.CARD).count() == 1


def test_a_model_with_a_database_default_is_refused():
    with pytest.raises(TypeError, match="database defaults"):
        _rows_insert([SunatJob()])

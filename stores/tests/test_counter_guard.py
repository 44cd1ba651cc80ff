"""A full save of a row read before a checkout never writes its counters back (invariants 2, 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sales.models import StoreProduct
from sales.tests.factories import company_make, product_make, store_make
from stores.models import DocumentSeries

pytestmark = pytest.mark.django_db


def test_saving_a_stale_series_keeps_the_correlative_checkout_moved():
    company = company_make()
    store_make(company=company, code="0000", n=1)
    stale = DocumentSeries.objects.get(series="B001")
    DocumentSeries.objects.filter(pk=stale.pk).update(last_number=7)  # a checkout, meanwhile
    stale.save()  # e.g. the admin saving the register's series inline
    assert DocumentSeries.objects.get(pk=stale.pk).last_number == 7


def test_saving_a_stale_price_row_keeps_the_stock_and_writes_the_price():
    company = company_make()
    store, _ = store_make(company=company, code="0000", n=1)
    sp = product_make(store=store, price="2.50", stock="100")
    stale = StoreProduct.objects.get(pk=sp.pk)
    StoreProduct.objects.filter(pk=sp.pk).update(stock=Decimal("99"))  # a sale, meanwhile
    stale.price = Decimal("2.80")
    stale.save()
    fresh = StoreProduct.objects.get(pk=sp.pk)
    assert (fresh.price, fresh.stock) == (Decimal("2.80"), Decimal("99"))

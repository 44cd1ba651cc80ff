"""Catalogue writes that need more than ``save()``: a store price change is audited."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from sales import money
from sales.models import StoreProduct
from stores.services import audit_event_record


def store_product_save(*, store_product: StoreProduct, actor: User | None) -> StoreProduct:
    """Save a store's product row; a new price (or a new row's price) writes a ``price.change``
    audit event in the same transaction (invariant 13)."""
    with transaction.atomic():
        before = None
        if store_product.pk is not None:
            before = StoreProduct.objects.filter(pk=store_product.pk).values_list("price", flat=True).first()
        store_product.save()
        if before != store_product.price:
            audit_event_record(
                company_id=store_product.company_id,
                store_id=store_product.store_id,
                actor=actor,
                action="price.change",
                object_type="store_product",
                object_id=store_product.pk,
                data={
                    "product": store_product.product.sku,
                    "before": money.as_text(before) if before is not None else None,
                    "after": money.as_text(store_product.price),
                },
            )
    return store_product

"""Reads of the sales app, scoped by tenancy. "Not yours" and "does not exist" look alike."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from sales.models import Sale, StockMovement, StoreProduct
from stores.models import Store
from stores.selectors import store_list_for_user

PRODUCT_SEARCH_LIMIT = 50


def store_product_search(*, store: Store, q: str, limit: int = PRODUCT_SEARCH_LIMIT) -> QuerySet[StoreProduct]:
    """Active products sold in ``store`` whose barcode or SKU equals ``q`` or whose name contains it.

    Exact code matches come first, then by name; at most ``limit`` rows, one query.
    """
    q = (q or "").strip()
    qs = StoreProduct.objects.select_related("product").filter(
        store=store, company_id=store.company_id, is_active=True, product__is_active=True
    )
    if q:
        qs = qs.filter(Q(product__barcode=q) | Q(product__sku=q) | Q(product__name__icontains=q))
    return qs.order_by("product__name", "id")[:limit]


def sale_list_for_user(*, user: User) -> QuerySet[Sale]:
    return Sale.objects.filter(store__in=store_list_for_user(user=user))


def sale_get_for_user(*, user: User, public_id: uuid.UUID | str) -> Sale:
    """The sale with ``public_id`` if it belongs to one of the user's stores; Http404 otherwise."""
    try:
        return sale_list_for_user(user=user).get(public_id=public_id)
    except (Sale.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("Venta no encontrada") from None


def sale_receipt_get(*, user: User, public_id: uuid.UUID | str) -> Sale:
    """The sale for its receipt, in four queries: the sale with store, register and cashier joined
    (not the company, whose secrets a receipt never needs); its lines (ordered); its payments; its
    credit notes. Http404 alike for other stores and missing sales."""
    try:
        return (
            sale_list_for_user(user=user)
            .select_related("store", "register", "cashier")
            .prefetch_related("lines", "payments", "returns")
            .get(public_id=public_id)
        )
    except (Sale.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("Venta no encontrada") from None


def stock_ledger_sum(*, store_product: StoreProduct) -> Decimal:
    """The sum of the product's stock movements (what ``StoreProduct.stock`` must equal)."""
    total = StockMovement.objects.filter(store_product=store_product).aggregate(s=Sum("quantity"))["s"]
    return total if total is not None else Decimal("0")

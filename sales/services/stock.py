"""Stock writes. ``StoreProduct.stock`` always equals the sum of its ``StockMovement`` rows.

Every function here changes the cached quantity and appends the matching movement in the same
transaction; nothing else may write ``StoreProduct.stock``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F

from sales.models import MovementKind, Sale, StockMovement, StoreProduct


def stock_movement_record(
    *,
    store_product: StoreProduct,
    kind: str,
    quantity: Decimal,
    created_by: User | None = None,
    note: str = "",
) -> StockMovement:
    """Record a purchase, adjustment, return or transfer of ``quantity`` (signed) units.

    Runs in its own ``atomic()`` (or the caller's): an atomic ``UPDATE … SET stock = stock + q``
    plus the ledger row. Purchases and adjustments are not guarded by the negative-stock policy
    (an adjustment that counts fewer units than recorded must be able to go below zero); sales go
    through :func:`sales.services.checkout.sale_checkout`, which is.
    """
    if kind not in MovementKind.values or kind == MovementKind.SALE:
        raise ValueError(f"tipo de movimiento no válido aquí: {kind}")
    if quantity == 0:
        raise ValueError("la cantidad del movimiento no puede ser cero")
    with transaction.atomic():
        StoreProduct.objects.filter(pk=store_product.pk).update(stock=F("stock") + quantity)
        movement = StockMovement.objects.create(
            company_id=store_product.company_id,
            store_id=store_product.store_id,
            store_product=store_product,
            kind=kind,
            quantity=quantity,
            created_by=created_by if created_by is not None and created_by.is_authenticated else None,
            note=note,
        )
    store_product.refresh_from_db(fields=["stock"])
    return movement


def stock_movements_record_bulk(
    *,
    items: Sequence[tuple[StoreProduct, Decimal]],
    kind: str,
    created_by: User | None = None,
    note: str = "",
    sale: Sale | None = None,
) -> int:
    """Record many unguarded movements (seed data, stock counts, returns and voids of ``sale``)
    in two statements.

    One ``UPDATE … FROM unnest(…)`` applies every delta (its rows locked first, in id order), one
    ``bulk_create`` writes the ledger. Returns the number of movements.
    """
    if kind not in MovementKind.values or kind == MovementKind.SALE:
        raise ValueError(f"tipo de movimiento no válido aquí: {kind}")
    merged: dict[int, Decimal] = {}
    by_id: dict[int, StoreProduct] = {}
    for sp, qty in items:
        merged[sp.pk] = merged.get(sp.pk, Decimal(0)) + qty
        by_id[sp.pk] = sp
    ids = sorted(merged)
    if not ids:
        return 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH locked AS (
                    SELECT id FROM {StoreProduct._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE
                ), req AS (SELECT * FROM unnest(%s::bigint[], %s::numeric[]) AS r(id, qty))
                UPDATE {StoreProduct._meta.db_table} sp SET stock = sp.stock + req.qty
                FROM req, locked WHERE sp.id = req.id AND locked.id = req.id
                """,
                [ids, ids, [merged[i] for i in ids]],
            )
        user = created_by if created_by is not None and created_by.is_authenticated else None
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    company_id=by_id[i].company_id,
                    store_id=by_id[i].store_id,
                    store_product_id=i,
                    kind=kind,
                    quantity=merged[i],
                    created_by=user,
                    note=note,
                    sale=sale,
                )
                for i in ids
            ]
        )
    return len(ids)

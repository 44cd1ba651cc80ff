"""Checkout: one sale in one transaction, shaped fetch → calculate → complete.

``sale_checkout`` is the only way a sale is created (the API and the /pos/ page share it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sales import money
from sales.models import (
    Customer,
    MovementKind,
    Payment,
    PaymentMethod,
    Product,
    Sale,
    SaleLine,
    StockMovement,
    StoreProduct,
)
from sales.schemas import CartLine, CustomerIn, PaymentIn
from sales.services.errors import TillError, constraint_violated
from sales.services.numbering import series_number_take
from sales.services.snapshots import sale_snapshot_build
from stores.models import Company, Register, Store
from stores.rows import columns_select, rows_insert
from stores.selectors import NotFound, RegisterInactive, register_access, register_key
from stores.validators import DOC_TYPE_RUC, compact_identity, validate_identity
from sunat import rules
from sunat.services import sunat_document_issue

PRODUCT_NOT_FOUND = "Línea {n}: el producto no existe o no se vende en esta tienda."
REGISTER_NOT_FOUND = "Caja no encontrada o no asignada a este usuario."
KEY_REUSED = "Esta clave de idempotencia ya se usó con otra venta; genere una nueva."

__all__ = ["TillError", "CartLine", "CustomerIn", "PaymentIn", "sale_checkout"]


@dataclass(frozen=True)
class _PricedLine:
    line_no: int
    store_product: StoreProduct
    quantity: Decimal
    icbper_rate: Decimal
    amounts: money.LineAmounts


def sale_checkout(
    *,
    cashier: User,
    register: str | Register | None,
    idempotency_key: uuid.UUID,
    fingerprint: str,
    document_type: str,
    customer: CustomerIn | None,
    lines: Sequence[CartLine],
    payments: Sequence[PaymentIn],
    request_id: str = "",
    demo: bool = False,
) -> tuple[Sale, bool]:
    """Sell ``lines`` from the cashier's ``register`` (a code, None when the cashier has exactly one,
    or a ``Register`` instance — which must still be one of the cashier's registers).

    Returns ``(sale, created)``. The sale, new or replayed, carries its SUNAT document; its
    company, store, register, cashier and customer are set by key, not cached on it. Idempotent
    per (company, ``idempotency_key``): the same cashier with the same ``fingerprint`` gets the
    first sale back (``created=False``); a different cashier or body is a 409. A retry is not
    looked up beforehand: it runs like a new sale until the sale row's unique key refuses it
    (before any stock is touched), which also settles two requests racing with one key; a retry
    whose cart is refused today is looked up then.

    Before the transaction: the register (with store and company, within the cashier's stores:
    one query) and the cart's products (one query).

    One ``transaction.atomic()``, plain statements, each waited for: the register's open cash
    session is held ``FOR SHARE`` and its series row locked and incremented, in one ``UPDATE …
    RETURNING`` (:func:`sales.services.numbering.series_number_take`: no open session is a 409;
    the row lock serializes the register's sales and keeps correlatives gap-free; a close waits
    for the sale and its Z includes it); a new buyer is added to the company's customers; the
    SUNAT document and its job are issued (one statement); the sale, already pointing at its
    document, is inserted with its payments in one statement (an idempotency conflict surfaces
    here, before any stock is touched), then its lines; stock rows are locked in id order,
    decremented with a guarded ``UPDATE`` (``stock >= q`` unless the product allows negative
    stock; a refused row is a 409) and their movements inserted, all in one statement. Prices
    come from ``StoreProduct`` only. No network I/O. The number of SQL statements does not
    depend on the number of lines. Raises :class:`TillError`; when it does, nothing has been
    written.

    ``demo`` (``seed_demo --history-days`` only): the sale's document is demo history, settled
    as accepted and never queued (``sunat_document_issue(demo=True)``).
    """
    # --- fetch ---------------------------------------------------------------------------------
    code = register_key(register) if isinstance(register, Register) else register
    try:
        register_obj = register_access(user=cashier, code=code)
    except RegisterInactive as exc:
        raise TillError.single("register", exc.message, status=403) from None
    except NotFound:
        raise TillError.single("register", REGISTER_NOT_FOUND) from None
    company, store = register_obj.company, register_obj.store

    try:
        store_products = _store_products_fetch(store_id=store.pk, company_id=company.pk, lines=lines)
        issued_at = timezone.now()

        # --- calculate -------------------------------------------------------------------------
        priced = _lines_price(lines=lines, store_products=store_products, issued_at=issued_at)
        totals = money.document_totals([(p.store_product.product.affectation, p.amounts) for p in priced])
        buyer = _customer_check(document_type=document_type, customer=customer, total=totals.total)
        payment_rows, rounding, change = _payments_settle(payments=payments, total=totals.total)

        # --- complete --------------------------------------------------------------------------
        with transaction.atomic():
            sale = _sale_complete(
                company=company,
                store=store,
                register=register_obj,
                cashier=cashier,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                document_type=document_type,
                buyer=buyer,
                priced=priced,
                totals=totals,
                payment_rows=payment_rows,
                rounding=rounding,
                change=change,
                issued_at=issued_at,
                request_id=request_id,
                demo=demo,
            )
    except TillError:
        # A retry of a sale that went through answers with that sale, even if it would be refused
        # today (a product since deactivated, a price since changed, the session closed since).
        existing = _sale_replay(company_id=company.pk, key=idempotency_key, cashier=cashier, fingerprint=fingerprint)
        if existing is not None:
            return existing, False
        raise
    except IntegrityError as exc:
        if constraint_violated(exc) != "sale_idempotency_key_unique":
            raise
        # A retry, or a concurrent request with the same key that committed first: the sale row
        # (inserted before stock is touched) hit the key's unique constraint and everything rolled
        # back, the series number included.
        existing = _sale_replay(company_id=company.pk, key=idempotency_key, cashier=cashier, fingerprint=fingerprint)
        if existing is None:  # pragma: no cover - the winner committed before the conflict surfaced
            raise
        return existing, False
    return sale, True


def _sale_replay(*, company_id: int, key: uuid.UUID, cashier: User, fingerprint: str) -> Sale | None:
    sale = Sale.objects.select_related("sunat_document").filter(company_id=company_id, idempotency_key=key).first()
    if sale is None:
        return None
    if sale.cashier_id != cashier.pk or sale.fingerprint != fingerprint:
        raise TillError.single("idempotency_key", KEY_REUSED, status=409)
    return sale


def _store_products_fetch(
    *, store_id: int, company_id: int, lines: Sequence[CartLine]
) -> dict[tuple[str, str], StoreProduct]:
    """All the cart's products, active in the store and in the company, with their product, in one
    cursor query, keyed by ("barcode"|"sku", code). Codes that match nothing are left out.
    ``stock`` on the returned rows is not read here (the guarded ``UPDATE`` decides)."""
    wanted = {(line.kind, line.code) for line in lines}
    barcodes = sorted(code for kind, code in wanted if kind == "barcode")
    skus = sorted(code for kind, code in wanted if kind == "sku")
    with connection.cursor() as cursor:
        cursor.execute(_PRODUCTS_SQL, {"store": store_id, "company": company_id, "barcodes": barcodes, "skus": skus})
        rows = cursor.fetchall()
    found = {}
    n = len(_STORE_PRODUCT_FIELDS)
    for row in rows:
        sp = StoreProduct.from_db(connection.alias, _STORE_PRODUCT_FIELDS, row[:n])
        sp.product = Product.from_db(connection.alias, _PRODUCT_FIELDS, row[n:])
        if sp.product.barcode in barcodes:
            found[("barcode", sp.product.barcode)] = sp
        if sp.product.sku in skus:
            found[("sku", sp.product.sku)] = sp
    return found


_STORE_PRODUCT_FIELDS, _STORE_PRODUCT_COLUMNS = columns_select(model=StoreProduct, alias="sp")
_PRODUCT_FIELDS, _PRODUCT_COLUMNS = columns_select(model=Product, alias="p")
_PRODUCTS_SQL = f"""
SELECT {_STORE_PRODUCT_COLUMNS}, {_PRODUCT_COLUMNS}
FROM {StoreProduct._meta.db_table} sp JOIN {Product._meta.db_table} p ON p.id = sp.product_id
WHERE sp.store_id = %(store)s AND sp.company_id = %(company)s AND sp.is_active
  AND p.company_id = %(company)s AND p.is_active
  AND (p.barcode = ANY(%(barcodes)s::text[]) OR p.sku = ANY(%(skus)s::text[]))
"""


def _lines_price(
    *, lines: Sequence[CartLine], store_products: dict[tuple[str, str], StoreProduct], issued_at: datetime
) -> list[_PricedLine]:
    errors: list[str] = []
    resolved: list[tuple[int, CartLine, StoreProduct]] = []
    for n, line in enumerate(lines, start=1):
        sp = store_products.get((line.kind, line.code))
        if sp is None:
            errors.append(PRODUCT_NOT_FOUND.format(n=n, code=line.code))
            continue
        product = sp.product
        if product.unit_code != "KGM" and line.quantity % 1 != 0:
            errors.append(f"Línea {n}: «{product.name}» se vende por unidades enteras.")
            continue
        resolved.append((n, line, sp))
    if errors:
        raise TillError({"lines": errors}, 400)

    rate = money.ZERO
    if any(sp.product.is_plastic_bag for _, _, sp in resolved):
        rate = _icbper_rate(on=issued_at)
    priced = []
    for n, line, sp in resolved:
        bag_rate = rate if sp.product.is_plastic_bag else money.ZERO
        amounts = money.line_amounts(
            price=sp.price, quantity=line.quantity, affectation=sp.product.affectation, icbper_rate=bag_rate
        )
        if amounts.amount == 0 or rules.taxed_line_igv_missing(
            affectation=sp.product.affectation, base=amounts.base, igv=amounts.igv
        ):
            errors.append(f"Línea {n}: el importe de «{sp.product.name}» es demasiado pequeño para un comprobante.")
            continue
        priced.append(
            _PricedLine(line_no=n, store_product=sp, quantity=line.quantity, icbper_rate=bag_rate, amounts=amounts)
        )
    if errors:
        raise TillError({"lines": errors}, 400)
    return priced


def _icbper_rate(*, on: datetime) -> Decimal:
    """The ICBPER per bag in force at ``on`` (:func:`sunat.rules.icbper_rate`); 400 before the tax."""
    rate = rules.icbper_rate(on=rules.fiscal_date(on))
    if rate is None:
        raise TillError.single("lines", "No hay tasa ICBPER vigente para bolsas plásticas.")
    return rate


@dataclass(frozen=True)
class _Buyer:
    doc_type: str
    doc_number: str
    name: str
    address: str

    @property
    def is_anonymous(self) -> bool:
        return rules.buyer_is_anonymous(doc_type=self.doc_type, doc_number=self.doc_number)


def _customer_check(*, document_type: str, customer: CustomerIn | None, total: Decimal) -> _Buyer:
    """Factura: a valid RUC and name. Boleta: :func:`sunat.rules.boleta_buyer_refusal` (anonymous
    up to S/ 700, an identified buyer above)."""
    if customer is None:
        if document_type == "01":
            raise TillError.single("customer", "La factura requiere un cliente con RUC válido.")
        anonymous = _Buyer(rules.ANONYMOUS_DOC_TYPE, rules.ANONYMOUS_DOC_NUMBER, rules.ANONYMOUS_NAME, "")
        _boleta_buyer_check(document_type=document_type, buyer=anonymous, total=total)
        return anonymous
    if document_type == "01" and customer.doc_type != DOC_TYPE_RUC:
        raise TillError.single("customer.doc_type", "La factura requiere un cliente con RUC válido.")
    try:
        validate_identity(doc_type=customer.doc_type, doc_number=customer.doc_number)
    except ValidationError as exc:
        field = "customer.doc_type" if exc.code == "doc_type" else "customer.doc_number"
        raise TillError({field: exc.messages}) from None
    _boleta_buyer_check(document_type=document_type, buyer=customer, total=total)
    if len(customer.name) < 3:
        raise TillError.single("customer.name", "Indique el nombre o razón social del cliente (mínimo 3 caracteres).")
    number = compact_identity(doc_type=customer.doc_type, doc_number=customer.doc_number)
    return _Buyer(customer.doc_type, number, customer.name, customer.address)


def _boleta_buyer_check(*, document_type: str, buyer: _Buyer | CustomerIn, total: Decimal) -> None:
    if document_type != "03":
        return
    refusal = rules.boleta_buyer_refusal(total=total, doc_type=buyer.doc_type, doc_number=buyer.doc_number)
    if refusal:
        raise TillError.single("customer", refusal)


def _payments_settle(*, payments: Sequence[PaymentIn], total: Decimal) -> tuple[list[Payment], Decimal, Decimal]:
    """Exact non-cash payments plus cash rounded down to S/ 0.10; returns rows, rounding, change."""
    non_cash: dict[str, Decimal] = {}
    tendered = money.ZERO
    cash_given = False
    for p in payments:
        if p.method == PaymentMethod.CASH:
            tendered += p.amount
            cash_given = True
        else:
            non_cash[p.method] = non_cash.get(p.method, money.ZERO) + p.amount
    non_cash_total = sum(non_cash.values(), money.ZERO)
    if non_cash_total > total:
        raise TillError.single(
            "payments", "Tarjeta, Yape y Plin pagan el monto exacto: la suma supera el total de la venta."
        )
    rows = [Payment(method=m, amount=a) for m, a in non_cash.items()]
    if not cash_given:
        if non_cash_total != total:
            raise TillError.single("payments", f"Los pagos no cubren el total de S/ {total}.")
        return rows, money.ZERO, money.ZERO
    if non_cash_total == total:
        raise TillError.single("payments", "No corresponde pago en efectivo: los otros medios cubren el total.")
    cash = money.cash_settle(total=total, non_cash=non_cash_total, tendered=tendered)
    if cash.change < 0:
        raise TillError.single(
            "payments", f"Los pagos no cubren el total: faltan S/ {-cash.change} en efectivo (a pagar S/ {cash.due})."
        )
    rows.insert(
        0,
        Payment(
            method=PaymentMethod.CASH,
            amount=cash.applied,
            tendered=tendered,
            change=cash.change,
            rounding=cash.rounding,
        ),
    )
    return rows, cash.rounding, cash.change


def _stock_decrement(*, sale: Sale, priced: Sequence[_PricedLine]) -> None:
    """Lock the cart's stock rows in id order, apply every guarded decrement and record each
    decrement's movement, in one statement, in the sale's ``atomic()``.

    A row whose stock would go below zero for a product that blocks negative stock is neither
    updated nor recorded; any such row raises a 409 (the caller's ``atomic()`` rolls back the
    sale and the other rows' decrements and movements with it).
    """
    wanted: dict[int, Decimal] = {}
    by_id: dict[int, StoreProduct] = {}
    for p in priced:
        sp = p.store_product
        wanted[sp.pk] = wanted.get(sp.pk, Decimal(0)) + p.quantity
        by_id[sp.pk] = sp
    ids = sorted(wanted)
    with connection.cursor() as cursor:
        cursor.execute(
            _STOCK_DECREMENT_SQL,
            {
                "ids": ids,
                "quantities": [wanted[i] for i in ids],
                "company": sale.company_id,
                "store": sale.store_id,
                "kind": MovementKind.SALE,
                "sale": sale.pk,
                "created_at": timezone.now(),
                "cashier": sale.cashier_id,
                "note": sale.full_number,
            },
        )
        done = {row[0] for row in cursor.fetchall()}
    refused = [i for i in ids if i not in done]
    if refused:
        raise TillError({"lines": [f"Stock insuficiente para «{by_id[i].product.name}»." for i in refused]}, status=409)


# One statement. The first CTE locks the rows, in id order (no deadlock between carts sharing
# products): ``LockRows`` sits above the sort, and the UPDATE can only reach a row the CTE has
# emitted. A row a concurrent sale changed since this statement's snapshot is re-read at its latest
# version by the UPDATE (READ COMMITTED's recheck), so the guard sees every committed decrement.
# Only the rows the UPDATE changed get a movement (``StockMovement``'s columns, all of them).
_STOCK_DECREMENT_SQL = f"""
WITH locked AS MATERIALIZED (
  SELECT id FROM {StoreProduct._meta.db_table} WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR UPDATE
), decremented AS (
  UPDATE {StoreProduct._meta.db_table} sp SET stock = sp.stock - req.qty
  FROM locked, unnest(%(ids)s::bigint[], %(quantities)s::numeric[]) AS req(id, qty), {Product._meta.db_table} p
  WHERE sp.id = locked.id AND req.id = locked.id AND p.id = sp.product_id
    AND (p.allows_negative_stock OR sp.stock >= req.qty)
  RETURNING sp.id, req.qty
)
INSERT INTO {StockMovement._meta.db_table}
  (company_id, store_id, store_product_id, kind, quantity, sale_id, created_at, created_by_id, note)
SELECT %(company)s, %(store)s, d.id, %(kind)s, -d.qty, %(sale)s, %(created_at)s, %(cashier)s, %(note)s
FROM decremented d
RETURNING store_product_id
"""


def _sale_complete(
    *,
    company: Company,
    store: Store,
    register: Register,
    cashier: User,
    idempotency_key: uuid.UUID,
    fingerprint: str,
    document_type: str,
    buyer: _Buyer,
    priced: Sequence[_PricedLine],
    totals: money.DocumentTotals,
    payment_rows: list[Payment],
    rounding: Decimal,
    change: Decimal,
    issued_at: datetime,
    request_id: str,
    demo: bool = False,
) -> Sale:
    """Write the sale; must run inside ``transaction.atomic()``.

    Order matters: the session and the series first (the session is held, the correlative is
    gap-free), then the SUNAT document and job (built from the unsaved sale and lines, so the sale
    row is inserted once, already carrying its document), then the sale row with its payments (a
    concurrent duplicate key fails here, before stock is touched), then its lines, then stock in
    id order with its movements.
    """
    taken = series_number_take(register=register, document_type=document_type)

    customer_row = None
    if not buyer.is_anonymous:
        # A new buyer is added to the company's customers; a known one is linked, never changed:
        # the sale keeps what the cashier typed as its buyer snapshot, and changing a customer is
        # a manager's job in the admin. (The conflict "update" rewrites the key with itself, so
        # the one statement returns the row's id either way.)
        customer_row = Customer.objects.bulk_create(
            [
                Customer(
                    company=company,
                    doc_type=buyer.doc_type,
                    doc_number=buyer.doc_number,
                    name=buyer.name,
                    address=buyer.address,
                )
            ],
            update_conflicts=True,
            unique_fields=["company", "doc_type", "doc_number"],
            update_fields=["doc_number"],
        )[0]

    sale = Sale(
        company_id=company.pk,
        store_id=store.pk,
        register_id=register.pk,
        cashier_id=cashier.pk,
        document_series_id=taken.series_id,
        document_type=document_type,
        series=taken.series,
        number=taken.number,
        session_id=taken.session_id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        customer_id=customer_row.pk if customer_row is not None else None,
        customer_doc_type=buyer.doc_type,
        customer_doc_number=buyer.doc_number,
        customer_name=buyer.name,
        customer_address=buyer.address,
        gravadas=totals.gravadas,
        exoneradas=totals.exoneradas,
        inafectas=totals.inafectas,
        igv=totals.igv,
        icbper=totals.icbper,
        total=totals.total,
        cash_rounding=rounding,
        change=change,
        issued_at=issued_at,
        request_id=request_id[:64],
    )
    sale_lines = [
        SaleLine(
            company_id=company.pk,
            store_id=store.pk,
            sale=sale,
            line_no=p.line_no,
            product_id=p.store_product.product_id,
            store_product_id=p.store_product.pk,
            sku=p.store_product.product.sku,
            barcode=p.store_product.product.barcode or "",
            description=p.store_product.product.name,
            unit_code=p.store_product.product.unit_code,
            quantity=p.quantity,
            unit_price=p.store_product.price,
            unit_value=p.amounts.unit_value,
            base=p.amounts.base,
            igv=p.amounts.igv,
            icbper=p.amounts.icbper,
            icbper_rate=p.icbper_rate,
            amount=p.amounts.amount,
            affectation=p.store_product.product.affectation,
        )
        for p in priced
    ]
    snapshot = sale_snapshot_build(company=company, store=store, sale=sale, lines=sale_lines)
    sale.sunat_document = sunat_document_issue(
        company=company, store=store, snapshot=snapshot, request_id=request_id, demo=demo
    )
    for row in payment_rows:
        row.company_id, row.store_id = company.pk, store.pk
    rows_insert([sale], returning=True, children=payment_rows)
    rows_insert(sale_lines)
    _stock_decrement(sale=sale, priced=priced)
    return sale

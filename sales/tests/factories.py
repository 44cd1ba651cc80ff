"""Plain factory functions for sales tests (shared with tests/concurrency)."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

from django.contrib.auth import get_user_model
from stdnum import ean

from sales.models import MovementKind, Product, StoreProduct
from sales.services.stock import stock_movements_record_bulk
from stores.models import Company, DocumentSeries, Membership, Register, Role, Store

_seq = itertools.count(1)


def ean13(n: int) -> str:
    body = f"775{n:09d}"
    return body + ean.calc_check_digit(body)


def company_make(*, ruc: str = "20000000001", name: str = "Bodegas Demo S.A.C.") -> Company:
    company, _ = Company.objects.get_or_create(
        ruc=ruc, defaults={"legal_name": name, "address": "Av. Demo 123", "ubigeo": "150101"}
    )
    return company


def store_make(*, company: Company, code: str = "0000", n: int = 1) -> tuple[Store, Register]:
    store = Store.objects.create(company=company, code=code, name=f"Tienda {n}", address="Jr. Uno 1", ubigeo="150101")
    register = Register.objects.create(company=company, store=store, code="CAJA1")
    for doc_type, series in (("03", f"B{n:03d}"), ("01", f"F{n:03d}"), ("07", f"BC{n:02d}"), ("07", f"FC{n:02d}")):
        DocumentSeries.objects.create(
            company=company, store=store, register=register, document_type=doc_type, series=series
        )
    return store, register


def cashier_make(*, store: Store, username: str | None = None, open_session: bool = True):
    """A cashier of ``store``; with ``open_session`` each of the store's registers without an
    open cash session gets one, opened by this cashier (checkout needs it)."""
    user = get_user_model().objects.create_user(username=username or f"cajero{next(_seq)}", password="x")
    Membership.objects.create(user=user, company=store.company, store=store, role=Role.CASHIER)
    if open_session:
        for register in Register.objects.filter(store=store, is_active=True):
            session_ensure(register=register, user=user)
    return user


def manager_make(*, store: Store, username: str | None = None, pin: str = "2468"):
    """A manager of ``store`` with an approval PIN."""
    from stores.services import approval_pin_set

    user = get_user_model().objects.create_user(username=username or f"gerente{next(_seq)}", password="x")
    Membership.objects.create(user=user, company=store.company, store=store, role=Role.STORE_MANAGER)
    approval_pin_set(company=store.company, user=user, pin=pin, changed_by=None)
    return user


def session_ensure(*, register: Register, user, opening_float: str = "100.00"):
    """The register's open cash session, opened by ``user`` with ``opening_float`` when none is."""
    from sales.selectors.sessions import cash_session_open_get
    from sales.services.sessions import cash_session_open

    session = cash_session_open_get(register_id=register.pk, company_id=register.company_id)
    return session or cash_session_open(user=user, register=register, opening_float=Decimal(opening_float))


def product_make(
    *,
    store: Store,
    price: str = "10.00",
    stock: str | None = "100",
    affectation: str = "10",
    unit_code: str = "NIU",
    is_plastic_bag: bool = False,
    allows_negative_stock: bool = False,
    name: str | None = None,
) -> StoreProduct:
    n = next(_seq) + 1000 + uuid.uuid4().int % 10_000_000
    product = Product.objects.create(
        company=store.company,
        sku=f"SKU{n}",
        barcode=ean13(n),
        name=name or f"Producto {n}",
        unit_code=unit_code,
        affectation=affectation,
        is_plastic_bag=is_plastic_bag,
        allows_negative_stock=allows_negative_stock,
    )
    sp = StoreProduct.objects.create(company=store.company, store=store, product=product, price=Decimal(price))
    if stock is not None and Decimal(stock) != 0:
        stock_movements_record_bulk(items=[(sp, Decimal(stock))], kind=MovementKind.PURCHASE, note="test")
        sp.refresh_from_db(fields=["stock"])
    return sp

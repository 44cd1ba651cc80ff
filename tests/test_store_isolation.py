"""Tenancy, across apps: every tenant-owned row carries its company (and store), and every scoped
read — selectors and admin querysets — shows another store or company nothing.

Invariant 8 (ARCHITECTURE.md): a user sees and changes only the stores they belong to; "not
yours" and "does not exist" look the same.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import Http404
from django.test import RequestFactory

from sales.models import Sale, StockMovement, StoreProduct
from sales.schemas import CartLine, PaymentIn
from sales.selectors import sale_get_for_user, sale_list_for_user, sale_receipt_get, store_product_search
from sales.services.checkout import sale_checkout
from sales.tests.factories import cashier_make, company_make, product_make, store_make
from stores.admin_scoping import TenantScopedAdmin, membership_staff_sync
from stores.models import Company, Membership, Role, Store
from stores.selectors import NotFound, register_access, register_list_for_user, store_list_for_user

# Queue and history rows of a document: company-scoped (the worker works per company, and the
# distribution column is the company); their store is their document's.
STORE_VIA_DOCUMENT = {"sunat.sunatjob", "sunat.sunatattempt"}


def _fk_targets(model) -> dict[str, type]:
    return {f.name: f.related_model for f in model._meta.concrete_fields if f.many_to_one or f.one_to_one}


def tenant_models():
    for app_label in ("sales", "sunat"):
        yield from apps.get_app_config(app_label).get_models()


@pytest.mark.parametrize("model", list(tenant_models()), ids=lambda m: m._meta.label_lower)
def test_every_sales_and_sunat_model_carries_its_company(model):
    fks = _fk_targets(model)
    assert fks.get("company") is Company, f"{model._meta.label} has no company foreign key"
    assert not model._meta.get_field("company").null, f"{model._meta.label}.company must not be nullable"


def _store_owned() -> set[type]:
    return {m for m in apps.get_models() if _fk_targets(m).get("store") is Store}


@pytest.mark.parametrize("model", list(tenant_models()), ids=lambda m: m._meta.label_lower)
def test_rows_of_store_owned_parents_carry_the_store_too(model):
    """A row that hangs from a store-owned row (a sale, a stock row, a register) belongs to that
    store, so it carries ``store`` itself (denormalised, for scoping and store-first indexes)."""
    store_owned = _store_owned() | {apps.get_model("stores", "Register")}
    parents = [name for name, target in _fk_targets(model).items() if target in store_owned and name != "store"]
    if model._meta.label_lower in STORE_VIA_DOCUMENT:
        # Queue/history rows are scoped by company; their store is their document's.
        assert _fk_targets(model).get("document") is apps.get_model("sunat", "SunatDocument")
        return
    if parents:
        assert _fk_targets(model).get("store") is Store, f"{model._meta.label} hangs from {parents} but has no store"


def test_the_store_owned_models_are_the_expected_ones():
    labels = {m._meta.label_lower for m in _store_owned()}
    assert {
        "sales.storeproduct",
        "sales.stockmovement",
        "sales.sale",
        "sales.saleline",
        "sales.payment",
        "sunat.sunatdocument",
        "stores.register",
        "stores.documentseries",
    } <= labels


# ------------------------------------------------------------------ two stores, two companies


def _sell(cashier, register, store_product, method="card"):
    sale, _ = sale_checkout(
        cashier=cashier,
        register=register,
        idempotency_key=uuid.uuid4(),
        fingerprint=uuid.uuid4().hex,
        document_type="03",
        customer=None,
        lines=[CartLine(kind="barcode", code=store_product.product.barcode, quantity=Decimal("1"))],
        payments=[PaymentIn(method=method, amount=store_product.price)],
    )
    return sale


@pytest.fixture
def world(db):
    """Company A with stores A1, A2; company B with store B1; a sale in each store."""
    a = company_make()
    b = company_make(ruc="20100070970", name="Otra Empresa S.A.")
    a1, ra1 = store_make(company=a, code="0000", n=1)
    a2, ra2 = store_make(company=a, code="0001", n=2)
    b1, rb1 = store_make(company=b, code="0000", n=3)
    cashiers = {s.pk: cashier_make(store=s) for s in (a1, a2, b1)}
    items = {s.pk: product_make(store=s, price="5.00") for s in (a1, a2, b1)}
    sales = {s.pk: _sell(cashiers[s.pk], r, items[s.pk]) for s, r in ((a1, ra1), (a2, ra2), (b1, rb1))}
    return {"a": a, "b": b, "a1": a1, "a2": a2, "b1": b1, "cashiers": cashiers, "items": items, "sales": sales}


def test_store_and_register_selectors_show_other_stores_nothing(world):
    cashier_a1 = world["cashiers"][world["a1"].pk]
    assert list(store_list_for_user(user=cashier_a1)) == [world["a1"]]
    assert {r.store_id for r in register_list_for_user(user=cashier_a1)} == {world["a1"].pk}
    assert register_access(user=cashier_a1, code=None).store_id == world["a1"].pk
    # Every store has a register CAJA1: the code resolves to the cashier's own store only.
    assert register_access(user=cashier_a1, code="CAJA1").store_id == world["a1"].pk
    with pytest.raises(NotFound):
        register_access(user=cashier_a1, code="CAJA9")


def test_product_search_of_one_store_shows_other_stores_nothing(world):
    other_barcode = world["items"][world["a2"].pk].product.barcode
    assert list(store_product_search(store=world["a1"], q=other_barcode)) == []
    assert [sp.store_id for sp in store_product_search(store=world["a1"], q="")] == [world["a1"].pk]


def test_sale_selectors_show_other_stores_nothing(world):
    cashier_a1 = world["cashiers"][world["a1"].pk]
    assert set(sale_list_for_user(user=cashier_a1)) == {world["sales"][world["a1"].pk]}
    for store in ("a2", "b1"):
        foreign = world["sales"][world[store].pk]
        with pytest.raises(Http404):
            sale_get_for_user(user=cashier_a1, public_id=foreign.public_id)
        with pytest.raises(Http404):
            sale_receipt_get(user=cashier_a1, public_id=foreign.public_id)


def _staff(*, company: Company, store: Store | None, role: str):
    user = get_user_model().objects.create_user(username=f"{role}-{uuid.uuid4().hex[:8]}", password="x")
    Membership.objects.create(user=user, company=company, store=store, role=role)
    membership_staff_sync(user=user)
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def _scoped_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, TenantScopedAdmin)
    ]


def _rows_by_tenant(model_admin, qs):
    """(company ids, store ids) of the rows in ``qs``, following the admin's tenant paths."""

    def ids(path):
        return set(qs.values_list("pk" if path == "pk" else path, flat=True)) if path else set()

    return ids(model_admin.tenant_company_field), ids(model_admin.tenant_store_field)


def test_every_scoped_admin_shows_another_company_nothing(world):
    assert _scoped_admins(), "no TenantScopedAdmin registered"
    admin_a = _staff(company=world["a"], store=None, role=Role.COMPANY_ADMIN)
    request = RequestFactory().get("/admin/")
    request.user = admin_a
    seen_rows = 0
    for model, model_admin in _scoped_admins():
        qs = model_admin.get_queryset(request)
        companies, stores = _rows_by_tenant(model_admin, qs)
        assert world["b"].pk not in companies, f"{model._meta.label}: company admin of A sees company B"
        assert world["b1"].pk not in stores, f"{model._meta.label}: company admin of A sees store B1"
        seen_rows += qs.count()
    # Not vacuous: A's own rows (company, stores, sales, lines, payments, stock…) are visible.
    assert seen_rows >= 15
    assert set(admin.site._registry[Sale].get_queryset(request)) == {
        world["sales"][world["a1"].pk],
        world["sales"][world["a2"].pk],
    }


def test_every_store_scoped_admin_shows_another_store_nothing(world):
    manager_a1 = _staff(company=world["a"], store=world["a1"], role=Role.STORE_MANAGER)
    request = RequestFactory().get("/admin/")
    request.user = manager_a1
    checked = 0
    for model, model_admin in _scoped_admins():
        if not model_admin.tenant_store_field:
            continue
        qs = model_admin.get_queryset(request)
        _, stores = _rows_by_tenant(model_admin, qs)
        assert stores <= {world["a1"].pk}, f"{model._meta.label}: manager of A1 sees stores {stores}"
        checked += 1
    assert checked >= 5
    # And the store-scoped sales rows of A1 are visible to its manager.
    sale_admin = admin.site._registry[Sale]
    assert list(sale_admin.get_queryset(request)) == [world["sales"][world["a1"].pk]]


def test_cashiers_see_nothing_in_the_admin(world):
    cashier_a1 = world["cashiers"][world["a1"].pk]
    assert not cashier_a1.is_staff
    request = RequestFactory().get("/admin/")
    request.user = cashier_a1
    for model, model_admin in _scoped_admins():
        assert not model_admin.get_queryset(request).exists(), model._meta.label


def test_ledger_and_stock_of_other_stores_are_not_in_scope(world):
    manager_a1 = _staff(company=world["a"], store=world["a1"], role=Role.STORE_MANAGER)
    request = RequestFactory().get("/admin/")
    request.user = manager_a1
    movements = admin.site._registry[StockMovement].get_queryset(request)
    assert set(movements.values_list("store_id", flat=True)) == {world["a1"].pk}
    stock = admin.site._registry[StoreProduct].get_queryset(request)
    assert set(stock.values_list("store_id", flat=True)) == {world["a1"].pk}

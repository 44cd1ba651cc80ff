"""Admin of the sales app: scoped catalogue/stock/sales, read-only sales, stock only via the ledger."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from sales.models import Product, Sale, StockMovement
from sales.schemas import CartLine, PaymentIn
from sales.selectors import stock_ledger_sum
from sales.services.checkout import sale_checkout
from sales.tests.factories import cashier_make, company_make, ean13, product_make, store_make
from stores.admin_scoping import membership_staff_sync
from stores.models import Membership, Role

ADMIN = "/admin"


def staff(*, company, store=None, role=Role.COMPANY_ADMIN):
    user = get_user_model().objects.create_user(username=f"{role}-{uuid.uuid4().hex[:6]}", password="x")
    Membership.objects.create(user=user, company=company, store=store, role=role)
    membership_staff_sync(user=user)
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def world(db):
    a = company_make()
    b = company_make(ruc="20100070970", name="Otra Empresa S.A.")
    a1, ra1 = store_make(company=a, code="0000", n=1)
    a2, ra2 = store_make(company=a, code="0001", n=2)
    b1, rb1 = store_make(company=b, code="0000", n=3)
    items = {
        "a1": product_make(store=a1, price="3.50", name="Arroz Costeño"),
        "a2": product_make(store=a2, price="4.00", name="Azúcar Rubia"),
        "b1": product_make(store=b1, price="5.00", name="Leche Gloria"),
    }
    sales = {}
    for key, store, register in (("a1", a1, ra1), ("a2", a2, ra2), ("b1", b1, rb1)):
        sales[key], _ = sale_checkout(
            cashier=cashier_make(store=store),
            register=register,
            idempotency_key=uuid.uuid4(),
            fingerprint=uuid.uuid4().hex,
            document_type="03",
            customer=None,
            lines=[CartLine(kind="barcode", code=items[key].product.barcode, quantity=Decimal("1"))],
            payments=[PaymentIn(method="card", amount=items[key].price)],
        )
    return {"a": a, "b": b, "a1": a1, "a2": a2, "b1": b1, "items": items, "sales": sales}


def test_product_search_by_barcode_name_and_sku_within_the_company(client, world):
    client.force_login(staff(company=world["a"]))
    rice = world["items"]["a1"].product
    for term in (rice.barcode, "arroz", rice.sku):
        html = client.get(f"{ADMIN}/sales/product/", {"q": term}).content.decode()
        assert "Arroz Costeño" in html, term
    html = client.get(f"{ADMIN}/sales/product/", {"q": world["items"]["b1"].product.barcode}).content.decode()
    assert "Leche Gloria" not in html
    assert "Leche Gloria" not in client.get(f"{ADMIN}/sales/product/").content.decode()


def test_store_manager_views_the_catalogue_but_cannot_change_it(client, world):
    rice = world["items"]["a1"].product
    client.force_login(staff(company=world["a"], store=world["a1"], role=Role.STORE_MANAGER))
    url = f"{ADMIN}/sales/product/{rice.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"sku": rice.sku, "name": "HACKEADO", "unit_code": "NIU", "affectation": "10"})
    assert response.status_code == 403
    assert Product.objects.get(pk=rice.pk).name == "Arroz Costeño"


def test_company_admin_adds_a_product_and_a_bad_barcode_is_refused_in_spanish(client, world):
    client.force_login(staff(company=world["a"]))
    url = f"{ADMIN}/sales/product/add/"
    base = {
        "company": world["a"].pk,
        "sku": "NUEVO1",
        "name": "Fideos",
        "unit_code": "NIU",
        "affectation": "10",
        "is_active": "on",
    }
    good = ean13(424242)
    bad = client.post(url, {**base, "barcode": good[:-1] + str((int(good[-1]) + 1) % 10)})
    assert bad.status_code == 200 and "dígito verificador" in bad.content.decode()
    foreign = client.post(url, {**base, "company": world["b"].pk, "barcode": ""})
    assert foreign.status_code == 200 and not Product.objects.filter(sku="NUEVO1").exists()
    ok = client.post(url, {**base, "barcode": ean13(424242)})
    assert ok.status_code == 302, [str(e) for e in ok.context["adminform"].form.errors.items()]
    assert Product.objects.get(sku="NUEVO1").company_id == world["a"].pk


def test_duplicate_barcode_in_the_company_is_a_form_error_not_a_crash(client, world):
    client.force_login(staff(company=world["a"]))
    sugar = world["items"]["a2"].product
    response = client.post(
        f"{ADMIN}/sales/product/{sugar.pk}/change/",
        {
            "sku": sugar.sku,
            "barcode": world["items"]["a1"].product.barcode,
            "name": sugar.name,
            "unit_code": "NIU",
            "affectation": "10",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert Product.objects.get(pk=sugar.pk).barcode == sugar.barcode


def test_store_manager_changes_the_price_of_their_store_only(client, world):
    client.force_login(staff(company=world["a"], store=world["a1"], role=Role.STORE_MANAGER))
    mine, theirs = world["items"]["a1"], world["items"]["a2"]
    response = client.post(f"{ADMIN}/sales/storeproduct/{mine.pk}/change/", {"price": "3.90", "is_active": "on"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.price == Decimal("3.90") and mine.stock == stock_ledger_sum(store_product=mine)
    assert client.get(f"{ADMIN}/sales/storeproduct/{theirs.pk}/change/").status_code == 302  # "no existe"
    html = client.get(f"{ADMIN}/sales/storeproduct/{mine.pk}/change/").content.decode()
    assert 'name="stock"' not in html  # the cache is never typed in


def test_stock_movement_goes_through_the_ledger_service(client, world):
    mine, theirs = world["items"]["a1"], world["items"]["a2"]
    mine.refresh_from_db()
    before = mine.stock
    client.force_login(staff(company=world["a"], store=world["a1"], role=Role.STORE_MANAGER))
    url = f"{ADMIN}/sales/stockmovement/add/"
    foreign = client.post(url, {"store_product": theirs.pk, "kind": "purchase", "quantity": "5", "note": ""})
    assert foreign.status_code == 200
    zero = client.post(url, {"store_product": mine.pk, "kind": "purchase", "quantity": "0", "note": ""})
    assert zero.status_code == 200 and "no puede ser cero" in zero.content.decode()
    sale_kind = client.post(url, {"store_product": mine.pk, "kind": "sale", "quantity": "1", "note": ""})
    assert sale_kind.status_code == 200
    ok = client.post(url, {"store_product": mine.pk, "kind": "adjustment", "quantity": "-2.5", "note": "merma"})
    assert ok.status_code == 302
    mine.refresh_from_db()
    assert mine.stock == before - Decimal("2.5") == stock_ledger_sum(store_product=mine)
    movement = StockMovement.objects.get(note="merma")
    assert movement.store_id == world["a1"].pk and movement.company_id == world["a"].pk
    theirs.refresh_from_db()
    assert theirs.stock == stock_ledger_sum(store_product=theirs)
    # The ledger is append-only.
    assert client.post(f"{ADMIN}/sales/stockmovement/{movement.pk}/delete/", {"post": "yes"}).status_code == 403


def test_sales_are_read_only_and_searchable_by_full_number(client, world):
    client.force_login(staff(company=world["a"]))
    sale = world["sales"]["a1"]
    html = client.get(f"{ADMIN}/sales/sale/", {"q": sale.full_number}).content.decode()
    assert f"/sales/sale/{sale.pk}/change/" in html
    assert f"/sales/sale/{world['sales']['a2'].pk}/change/" not in html
    assert f"/sales/sale/{world['sales']['b1'].pk}/change/" not in client.get(f"{ADMIN}/sales/sale/").content.decode()
    assert client.get(f"{ADMIN}/sales/sale/add/").status_code == 403
    assert client.post(f"{ADMIN}/sales/sale/{sale.pk}/change/", {"total": "0.01"}).status_code == 403
    assert client.post(f"{ADMIN}/sales/sale/{sale.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Sale.objects.get(pk=sale.pk).total == Decimal("3.50")
    assert client.get(f"{ADMIN}/sales/sale/{sale.pk}/change/").status_code == 200


def test_payments_and_lines_are_scoped_to_the_store(client, world):
    client.force_login(staff(company=world["a"], store=world["a2"], role=Role.STORE_MANAGER))
    html = client.get(f"{ADMIN}/sales/saleline/").content.decode()
    assert "Azúcar Rubia" in html and "Arroz Costeño" not in html and "Leche Gloria" not in html
    html = client.get(f"{ADMIN}/sales/payment/").content.decode()
    assert world["sales"]["a2"].full_number in html and world["sales"]["a1"].full_number not in html


def test_customers_are_company_wide(client, world):
    from sales.models import Customer

    Customer.objects.create(company=world["a"], doc_type="1", doc_number="10117410", name="Juan Pérez")
    Customer.objects.create(company=world["b"], doc_type="1", doc_number="10117410", name="Cliente de B")
    client.force_login(staff(company=world["a"], store=world["a1"], role=Role.STORE_MANAGER))
    html = client.get(f"{ADMIN}/sales/customer/", {"q": "10117410"}).content.decode()
    assert "Juan Pérez" in html and "Cliente de B" not in html


def test_store_manager_cannot_add_customers_company_admin_can(client, world):
    from sales.models import Customer

    data = {"company": world["a"].pk, "doc_type": "1", "doc_number": "10117410", "name": "Juan Pérez", "address": ""}
    client.force_login(staff(company=world["a"], store=world["a1"], role=Role.STORE_MANAGER))
    assert client.post(f"{ADMIN}/sales/customer/add/", data).status_code == 403
    assert not Customer.objects.exists()
    client.force_login(staff(company=world["a"]))
    bad = client.post(f"{ADMIN}/sales/customer/add/", {**data, "doc_number": "101174103"})
    assert bad.status_code == 200 and "DNI inválido" in bad.content.decode()
    assert client.post(f"{ADMIN}/sales/customer/add/", data).status_code == 302
    assert Customer.objects.get().company_id == world["a"].pk

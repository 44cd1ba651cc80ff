"""#14, access and tenancy: deactivated stores, registers and companies sell nothing and say why;
a cashier cannot rewrite a company's customer; the database refuses a register of another
company's store."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from sales.models import Customer, Sale
from sales.tests.factories import cashier_make, company_make, product_make, store_make
from stores.models import Company, Register, Store

pytestmark = pytest.mark.django_db


def checkout(client, item, **extra):
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "document_type": "03",
        "lines": [{"barcode": item.product.barcode, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "50.00"}],
        **extra,
    }
    return client.post("/api/v1/checkout", json.dumps(body), content_type="application/json")


@pytest.fixture
def till(client):
    company = company_make()
    store, register = store_make(company=company)
    cashier = cashier_make(store=store)
    client.force_login(cashier)
    return company, store, register, product_make(store=store, price="2.00")


@pytest.mark.parametrize("what", ["store", "register", "company"])
def test_a_deactivated_store_register_or_company_sells_nothing_and_says_why(client, till, what):
    company, store, register, item = till
    assert checkout(client, item).status_code == 201  # it sold a moment ago
    target = {"store": store, "register": register, "company": company}[what]
    target.is_active = False
    target.save()  # a save of the model, as the admin does: seen at the next request
    refused = checkout(client, item)
    assert refused.status_code == 403
    message = refused.json()["errors"]["register"][0]
    assert "desactivada" in message
    page = client.get("/pos/")
    assert page.status_code == 403 and "desactivada" in page.content.decode()
    assert client.get("/api/v1/products", {"q": item.product.barcode}).status_code == 403
    assert Sale.objects.count() == 1
    target.is_active = True
    target.save()
    assert checkout(client, item).status_code == 201


def test_deactivating_through_update_also_takes_effect_at_once(client, till):
    company, store, register, item = till
    assert checkout(client, item).status_code == 201
    Store.objects.filter(pk=store.pk).update(is_active=False)
    assert checkout(client, item).status_code == 403


def test_a_cashier_cannot_rewrite_a_known_customer(client, till):
    company, store, register, item = till
    Customer.objects.create(
        company=company,
        doc_type="6",
        doc_number="20100066603",
        name="DISTRIBUIDORA EL SOL S.A.C.",
        address="JR. HUALLAGA 456",
    )
    customer = {"doc_type": "6", "doc_number": "20100066603", "name": "OTRO NOMBRE S.A.C.", "address": "OTRA DIRECCIÓN"}
    sold = checkout(client, item, document_type="01", customer=customer)
    assert sold.status_code == 201, sold.content
    known = Customer.objects.get(company=company, doc_number="20100066603")
    assert (known.name, known.address) == ("DISTRIBUIDORA EL SOL S.A.C.", "JR. HUALLAGA 456")
    sale = Sale.objects.get(public_id=sold.json()["id"])
    assert sale.customer_id == known.pk and sale.customer_name == "OTRO NOMBRE S.A.C."  # the sale's own snapshot
    # A new buyer is still added.
    new = {"doc_type": "1", "doc_number": "45678912", "name": "MARÍA PÉREZ"}
    assert checkout(client, item, customer=new).status_code == 201
    assert Customer.objects.filter(company=company, doc_number="45678912", name="MARÍA PÉREZ").exists()


def test_the_database_refuses_a_register_of_another_companys_store():
    a = company_make(ruc="20000000001")
    b = Company.objects.create(ruc="20100066603", legal_name="Otra S.A.C.", address="Av. 1", ubigeo="150101")
    store_b = Store.objects.create(company=b, code="0000", name="B", address="x", ubigeo="150101")
    with pytest.raises(IntegrityError, match="register_store_same_company"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the check runs at once, not at commit
            Register.objects.create(company=a, store=store_b, code="CAJA9")

"""The cashier's pages: /pos/ and the 80 mm receipt (login, scoping, contents, hash wait)."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from sales.schemas import CartLine, CustomerIn, PaymentIn
from sales.services.checkout import sale_checkout
from sales.tests.factories import cashier_make, company_make, product_make, session_ensure, store_make
from sunat.models import DocumentStatus, SunatDocument


def sell(*, cashier, register, items, payments, document_type="03", customer=None):
    sale, created = sale_checkout(
        cashier=cashier,
        register=register,
        idempotency_key=uuid.uuid4(),
        fingerprint=uuid.uuid4().hex,
        document_type=document_type,
        customer=customer,
        lines=[CartLine(kind="barcode", code=sp.product.barcode, quantity=Decimal(q)) for sp, q in items],
        payments=[PaymentIn(method=m, amount=Decimal(a)) for m, a in payments],
    )
    assert created
    return sale


# ---------------------------------------------------------------------------------- /pos/


def test_pos_requires_login(client, db):
    response = client.get("/pos/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/pos/")


def test_login_page_is_spanish(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Contraseña" in response.content.decode()


def test_pos_page_knows_the_cashiers_store_and_register(client, cashier, store, register):
    client.force_login(cashier)
    response = client.get("/pos/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Tienda {store.code}" in html and "Caja CAJA1" in html
    assert 'id="scan"' in html and "autofocus" in html
    assert f'"register": "{store.code}/CAJA1"' in html
    assert "sales/pos.js" in html
    assert '"icbperRate": "0.50"' in html


def test_pos_page_without_register_is_refused(client, company, db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="sin-caja", password="x")
    client.force_login(user)
    response = client.get("/pos/")
    assert response.status_code == 403
    assert "no tiene una caja asignada" in response.content.decode()


def test_pos_page_with_another_stores_register_code_is_404(client, cashier, company, db):
    store_make(company=company, code="0007", n=7)  # its register is also CAJA1, but not the cashier's
    client.force_login(cashier)
    assert client.get("/pos/", {"register": "NOEXISTE"}).status_code == 404


def test_a_manager_of_two_stores_picks_a_register_and_sells_from_it(client, company, store, db):
    """Both stores call their register CAJA1: the chooser and the API name it store/code."""
    import json

    from stores.models import Membership, Role

    store2, register2 = store_make(company=company, code="0001", n=2)
    item2 = product_make(store=store2, price="2.00")
    manager = cashier_make(store=store, username="gerente")
    Membership.objects.create(user=manager, company=company, store=store2, role=Role.STORE_MANAGER)
    session_ensure(register=register2, user=manager)
    client.force_login(manager)
    chooser = client.get("/pos/").content.decode()
    assert "?register=0001%2FCAJA1" in chooser
    page = client.get("/pos/", {"register": "0001/CAJA1"})
    assert page.status_code == 200 and '"register": "0001/CAJA1"' in page.content.decode()
    found = client.get("/api/v1/products", {"q": item2.product.barcode, "register": "0001/CAJA1"}).json()
    assert [p["barcode"] for p in found] == [item2.product.barcode]
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "register": "0001/CAJA1",
        "document_type": "03",
        "lines": [{"barcode": item2.product.barcode, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "2.00"}],
    }
    sold = client.post("/api/v1/checkout", json.dumps(body), content_type="application/json")
    assert sold.status_code == 201 and sold.json()["number"] == "B002-1"
    # The bare code names two of the manager's registers: refused, like a missing one.
    assert client.get("/pos/", {"register": "CAJA1"}).status_code == 404


# ------------------------------------------------------------------------------- receipt


def test_receipt_shows_number_totals_words_change_and_qr(client, cashier, store, register):
    rice = product_make(store=store, price="3.50", name="Arroz Costeño 1kg")
    water = product_make(store=store, price="1.20", affectation="20", name="Agua San Luis")
    bag = product_make(store=store, price="0.10", is_plastic_bag=True, name="Bolsa plástica")
    sale = sell(
        cashier=cashier, register=register, items=[(rice, "2"), (water, "1"), (bag, "1")], payments=[("cash", "20.00")]
    )
    # 2 × 3.50 + 1.20 + 0.10 + 0.50 ICBPER = 8.80; cash due 8.80; change 11.20
    client.force_login(cashier)
    response = client.get(f"/pos/receipts/{sale.public_id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "BOLETA DE VENTA ELECTRÓNICA" in html
    assert re.search(r'id="doc-number">B001-1<', html)
    assert re.search(r'id="total">S/ 8\.80<', html)
    assert re.search(r'id="icbper">S/ 0\.50<', html)
    assert re.search(r'id="change">S/ 11\.20<', html)
    assert "SON: OCHO CON 80/100 SOLES" in html
    assert "OP. GRAVADAS" in html and "OP. EXONERADAS" in html and "OP. INAFECTAS" in html
    assert "Arroz Costeño 1kg" in html and "Agua San Luis" in html
    assert "<svg" in html and "Estado SUNAT" in html and "Pendiente" in html
    assert "pendiente (se mostrará al reimprimir)" in html
    assert store.address in html and store.company.ruc in html
    assert "Imprimir" in html and "Nueva venta" in html


def test_receipt_shows_cash_rounding_in_the_customers_favour(client, cashier, store, register):
    item = product_make(store=store, price="4.37")
    sale = sell(cashier=cashier, register=register, items=[(item, "1")], payments=[("cash", "5.00")])
    client.force_login(cashier)
    html = client.get(f"/pos/receipts/{sale.public_id}/").content.decode()
    assert re.search(r'id="total">S/ 4\.37<', html)  # the fiscal total never changes
    assert re.search(r'id="rounding">-S/ 0\.07<', html)
    assert re.search(r'id="change">S/ 0\.70<', html)


def test_factura_receipt_names_the_buyer_by_ruc(client, cashier, store, register):
    item = product_make(store=store, price="100.00")
    sale = sell(
        cashier=cashier,
        register=register,
        items=[(item, "1")],
        payments=[("card", "100.00")],
        document_type="01",
        customer=CustomerIn(doc_type="6", doc_number="20100070970", name="SUPERMERCADOS PERUANOS S.A."),
    )
    client.force_login(cashier)
    html = client.get(f"/pos/receipts/{sale.public_id}/").content.decode()
    assert "FACTURA ELECTRÓNICA" in html and "F001-1" in html
    assert "RUC: 20100070970" in html and "SUPERMERCADOS PERUANOS" in html


def test_receipt_of_another_store_is_the_same_404_as_a_missing_one(client, company, cashier, store, register):
    store2, register2 = store_make(company=company, code="0001", n=2)
    cashier2 = cashier_make(store=store2)
    item2 = product_make(store=store2, price="2.00")
    sale2 = sell(cashier=cashier2, register=register2, items=[(item2, "1")], payments=[("cash", "2.00")])

    client.force_login(cashier)
    foreign = client.get(f"/pos/receipts/{sale2.public_id}/")
    missing = client.get(f"/pos/receipts/{uuid.uuid4()}/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    client.force_login(cashier2)
    assert client.get(f"/pos/receipts/{sale2.public_id}/").status_code == 200


def test_receipt_of_another_company_is_404(client, cashier, db):
    other = company_make(ruc="20100070970", name="Otra Empresa S.A.")
    store_o, register_o = store_make(company=other, code="0000", n=9)
    cashier_o = cashier_make(store=store_o)
    sale_o = sell(
        cashier=cashier_o, register=register_o, items=[(product_make(store=store_o), "1")], payments=[("yape", "10.00")]
    )
    client.force_login(cashier)
    assert client.get(f"/pos/receipts/{sale_o.public_id}/").status_code == 404


def test_receipt_requires_login(client, cashier, store, register):
    sale = sell(
        cashier=cashier, register=register, items=[(product_make(store=store), "1")], payments=[("card", "10.00")]
    )
    response = client.get(f"/pos/receipts/{sale.public_id}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_reprint_carries_the_hash_and_status(client, cashier, store, register):
    sale = sell(
        cashier=cashier, register=register, items=[(product_make(store=store), "1")], payments=[("card", "10.00")]
    )
    SunatDocument.objects.filter(pk=sale.sunat_document_id).update(
        xml_hash="5zVcyL443M1vVGhdFNi+H9jcslo=", status=DocumentStatus.ACCEPTED
    )
    client.force_login(cashier)
    html = client.get(f"/pos/receipts/{sale.public_id}/").content.decode()
    assert "5zVcyL443M1vVGhdFNi+H9jcslo=" in html
    assert "Aceptado" in html


@pytest.mark.django_db(transaction=True)
def test_receipt_waits_for_the_hash_the_worker_commits(client, settings):
    """The page polls xml_hash outside any transaction, so it sees a commit made while it waits."""
    company = company_make()
    store, register = store_make(company=company, code="0000", n=1)
    cashier = cashier_make(store=store)
    sale = sell(
        cashier=cashier, register=register, items=[(product_make(store=store), "1")], payments=[("card", "10.00")]
    )
    settings.RECEIPT_HASH_WAIT_SECONDS = 30.0  # generous: the test ends as soon as the hash lands
    started = threading.Event()

    def worker_signs() -> None:
        try:
            started.wait(10)
            time.sleep(0.3)
            SunatDocument.objects.filter(pk=sale.sunat_document_id).update(xml_hash="HASHFROMWORKER0000000000000=")
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker_signs)
    thread.start()
    client.force_login(cashier)
    started.set()
    html = client.get(f"/pos/receipts/{sale.public_id}/").content.decode()
    thread.join()
    assert "HASHFROMWORKER0000000000000=" in html
    assert "pendiente (se mostrará al reimprimir)" not in html


def test_receipt_renders_without_hash_after_the_wait(client, cashier, store, register, settings):
    settings.RECEIPT_HASH_WAIT_SECONDS = 0.2
    sale = sell(
        cashier=cashier, register=register, items=[(product_make(store=store), "1")], payments=[("card", "10.00")]
    )
    client.force_login(cashier)
    response = client.get(f"/pos/receipts/{sale.public_id}/")
    assert response.status_code == 200
    assert "pendiente (se mostrará al reimprimir)" in response.content.decode()


def test_receipt_date_is_lima_time(client, cashier, store, register):
    sale = sell(
        cashier=cashier, register=register, items=[(product_make(store=store), "1")], payments=[("card", "10.00")]
    )
    # 03:30 UTC on the 28th is 22:30 on the 27th in Lima (UTC-5).
    from datetime import datetime

    type(sale).objects.filter(pk=sale.pk).update(issued_at=datetime(2026, 11, 28, 3, 30, tzinfo=UTC))
    client.force_login(cashier)
    html = client.get(f"/pos/receipts/{sale.public_id}/").content.decode()
    assert "27/11/2026 22:30:00" in html
    assert timezone.is_aware(sale.issued_at)

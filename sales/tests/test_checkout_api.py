"""POST /api/v1/checkout: contract, bad input (4xx in Spanish, nothing written), idempotency."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from sales.models import Customer, MovementKind, Payment, Sale, SaleLine, StockMovement, StoreProduct
from sales.selectors import stock_ledger_sum
from sales.tests.factories import cashier_make, company_make, product_make, store_make
from stores.models import DocumentSeries
from sunat.models import SunatDocument, SunatJob

URL = "/api/v1/checkout"
VALID_RUC = "20100070970"  # check digit valid
VALID_DNI = "12345678"


def post(client: Client, body, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


def body_for(*lines, payments=None, document_type="03", customer=None, key=None, **more):
    body = {
        "idempotency_key": str(key or uuid.uuid4()),
        "document_type": document_type,
        "lines": [{"barcode": sp.product.barcode, "quantity": q} for sp, q in lines],
        "payments": payments or [{"method": "cash", "amount": "1000"}],
    }
    if customer is not None:
        body["customer"] = customer
    body.update(more)
    return body


def counts() -> dict[str, int]:
    return {
        "sales": Sale.objects.count(),
        "lines": SaleLine.objects.count(),
        "payments": Payment.objects.count(),
        "movements": StockMovement.objects.count(),
        "documents": SunatDocument.objects.count(),
        "jobs": SunatJob.objects.count(),
        "customers": Customer.objects.count(),
        "series": sum(DocumentSeries.objects.values_list("last_number", flat=True)),
    }


@pytest.fixture
def client_for(cashier):
    client = Client()
    client.force_login(cashier)
    return client


@pytest.fixture
def products(store):
    return {
        "gravado": product_make(store=store, price="3.50", name="Gaseosa 500 ml"),
        "exonerado": product_make(store=store, price="4.20", affectation="20", name="Pan francés x6"),
        "inafecto": product_make(store=store, price="1.05", affectation="30", name="Libro escolar"),
        "bag": product_make(store=store, price="0.10", is_plastic_bag=True, name="Bolsa plástica"),
        "kilo": product_make(store=store, price="5.99", unit_code="KGM", name="Arroz a granel"),
        "cigs": product_make(store=store, price="12.00", stock="2", name="Cigarrillos x20"),
        "bread": product_make(store=store, price="0.30", stock="0", allows_negative_stock=True, name="Pan"),
        "pricey": product_make(store=store, price="800.00", name="Televisor"),
        "candy": product_make(store=store, price="0.03", name="Caramelo"),
    }


def test_checkout_creates_sale_with_contract_body(client_for, products, store):
    p = products
    body = body_for(
        (p["gravado"], "2"),
        (p["exonerado"], "1"),
        (p["inafecto"], "3"),
        (p["bag"], "2"),
        (p["kilo"], "1.255"),
        payments=[{"method": "yape", "amount": "5.00"}, {"method": "cash", "amount": "20"}],
    )
    response = post(client_for, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == {
        "id",
        "number",
        "document_type",
        "total",
        "igv",
        "icbper",
        "change",
        "sunat_status",
        "receipt_url",
    }
    # 7.00 + 4.20 + 3.15 + 0.20 + 7.52 (5.99 × 1.255 = 7.51745 → 7.52) = 22.07, bags' ICBPER 2 × 0.50
    assert data["total"] == "23.07"
    assert data["icbper"] == "1.00"
    # IGV per gravado line: 7.00 → 5.93 + 1.07; 0.20 → 0.17 + 0.03; 7.52 → 6.37 + 1.15
    assert data["igv"] == "2.25"
    # cash part 18.07 → due 18.00, change 20 − 18.00
    assert data["change"] == "2.00"
    assert data["number"] == "B001-1"
    assert data["document_type"] == "03"
    assert data["sunat_status"] == "pending"
    assert data["receipt_url"] == f"/pos/receipts/{data['id']}/"
    sale = Sale.objects.get(public_id=data["id"])
    assert sale.cash_rounding == Decimal("0.07")
    assert sale.total == sum((line.amount + line.icbper for line in sale.lines.all()), Decimal("0"))
    cash = sale.payments.get(method="cash")
    assert (cash.amount, cash.tendered, cash.change, cash.rounding) == (
        Decimal("18.07"),
        Decimal("20.00"),
        Decimal("2.00"),
        Decimal("0.07"),
    )
    assert sale.lines.count() == 5 and sale.sunat_document.jobs.count() == 1
    snapshot = sale.sunat_document.snapshot
    assert snapshot["customer"] == {"doc_type": "0", "doc_number": "-", "name": "CLIENTES VARIOS", "address": ""}
    assert snapshot["supplier"]["establishment_code"] == store.code
    assert snapshot["totals"]["total"] == "23.07"
    for sp in StoreProduct.objects.filter(store=store):
        assert sp.stock == stock_ledger_sum(store_product=sp)
    p["kilo"].refresh_from_db()
    assert p["kilo"].stock == Decimal("98.745")


def test_each_decrement_is_recorded_as_the_sales_movement(client_for, products, cashier):
    """The stock statement writes the movements itself: every column as the model means it."""
    p = products
    before = timezone.now()
    # the same product twice: one decrement and one movement of the sum
    body = body_for((p["gravado"], "2"), (p["kilo"], "1.5"), (p["gravado"], "1"), (p["bread"], "4"))
    response = post(client_for, body)
    assert response.status_code == 201, response.content
    sale = Sale.objects.get(public_id=response.json()["id"])
    rows = {m.store_product_id: m for m in StockMovement.objects.filter(sale=sale)}
    assert sorted(rows) == sorted(sp.pk for sp in (p["gravado"], p["kilo"], p["bread"]))
    assert {pk: m.quantity for pk, m in rows.items()} == {
        p["gravado"].pk: Decimal("-3"),
        p["kilo"].pk: Decimal("-1.5"),
        p["bread"].pk: Decimal("-4"),  # a product that allows negative stock goes below zero
    }
    for m in rows.values():
        assert (m.company_id, m.store_id, m.kind, m.created_by_id, m.note) == (
            sale.company_id,
            sale.store_id,
            MovementKind.SALE,
            cashier.pk,
            sale.full_number,
        )
        assert before <= m.created_at <= timezone.now()
    for sp in (p["gravado"], p["kilo"], p["bread"]):
        sp.refresh_from_db()
        assert sp.stock == stock_ledger_sum(store_product=sp)
    assert p["bread"].stock == Decimal("-4")


def test_factura_with_ruc_gets_contado_terms_and_customer(client_for, products):
    body = body_for(
        (products["gravado"], "1"),
        document_type="01",
        customer={"doc_type": "6", "doc_number": VALID_RUC, "name": "Empresa Cliente SAC"},
        payments=[{"method": "card", "amount": "3.50"}],
    )
    response = post(client_for, body)
    assert response.status_code == 201, response.content
    assert response.json()["number"] == "F001-1"
    sale = Sale.objects.get(public_id=response.json()["id"])
    assert sale.customer.doc_number == VALID_RUC
    assert sale.sunat_document.snapshot["payment_terms"]["method"] == "Contado"
    assert sale.change == Decimal("0.00")


def test_boleta_over_700_with_dni_is_accepted(client_for, products):
    body = body_for(
        (products["pricey"], "1"), customer={"doc_type": "1", "doc_number": VALID_DNI, "name": "Juan Pérez"}
    )
    response = post(client_for, body)
    assert response.status_code == 201, response.content
    assert Sale.objects.get().customer_doc_number == VALID_DNI


def test_replay_same_key_returns_same_body_with_200(client_for, products):
    body = body_for((products["gravado"], "1"))
    first = post(client_for, body)
    second = post(client_for, body)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json() == second.json()
    assert Sale.objects.count() == 1
    products["gravado"].refresh_from_db()
    assert products["gravado"].stock == Decimal("99")


def test_a_replay_answers_with_its_sale_even_when_the_cart_would_be_refused_now(client_for, products):
    body = body_for((products["gravado"], "1"))
    first = post(client_for, body)
    assert first.status_code == 201
    before = counts()
    sp = products["gravado"]
    StoreProduct.objects.filter(pk=sp.pk).update(stock=0)  # the stock check would refuse it (409)
    stockless = post(client_for, body)
    sp.product.is_active = False  # and now the product is not sold at all (400)
    sp.product.save(update_fields=["is_active"])
    inactive = post(client_for, body)
    assert (stockless.status_code, inactive.status_code) == (200, 200)
    assert stockless.json() == inactive.json() == first.json()
    assert counts() == before  # no second sale, the series number not consumed


def test_a_replay_after_the_session_closed_answers_with_its_sale(client_for, products):
    from sales.models import CashSession

    body = body_for((products["gravado"], "1"))
    first = post(client_for, body)
    assert first.status_code == 201
    session = CashSession.objects.get(status="open")
    report = client_for.get(f"/api/v1/sessions/{session.public_id}/report").json()
    closed = client_for.post(
        f"/api/v1/sessions/{session.public_id}/close",
        json.dumps({"idempotency_key": str(uuid.uuid4()), "counted": report["expected"]}),
        content_type="application/json",
    )
    assert closed.status_code == 200, closed.content
    before = counts()
    retry = post(client_for, body)  # the till's retry of a sale whose answer it never saw
    assert retry.status_code == 200 and retry.json() == first.json()
    assert counts() == before
    fresh = post(client_for, body_for((products["gravado"], "1")))
    assert fresh.status_code == 409 and "session" in fresh.json()["errors"]


def test_same_key_different_body_is_409(client_for, products):
    body = body_for((products["gravado"], "1"))
    assert post(client_for, body).status_code == 201
    before = counts()
    body["lines"][0]["quantity"] = "2"
    response = post(client_for, body)
    assert response.status_code == 409
    assert "idempotency_key" in response.json()["errors"]
    assert counts() == before


def test_same_key_other_cashier_is_409(client_for, products, store):
    body = body_for((products["gravado"], "1"))
    assert post(client_for, body).status_code == 201
    other = Client()
    other.force_login(cashier_make(store=store))
    assert post(other, body).status_code == 409
    assert Sale.objects.count() == 1


def _bad_bodies(p, other_sp, other_company_sp):
    ok = body_for((p["gravado"], "1"))

    def with_line(**line):
        b = dict(ok)
        b["lines"] = [line]
        return b

    def with_(**kv):
        b = dict(ok)
        b.update(kv)
        return b

    bc = p["gravado"].product.barcode
    return {
        "unknown barcode": (400, "lines", with_line(barcode="7750000000000", quantity="1")),
        "unknown sku": (400, "lines", with_line(sku="NOPE", quantity="1")),
        "other store product": (400, "lines", with_line(barcode=other_sp.product.barcode, quantity="1")),
        "other company product": (400, "lines", with_line(barcode=other_company_sp.product.barcode, quantity="1")),
        "quantity zero": (400, "lines", with_line(barcode=bc, quantity="0")),
        "quantity negative": (400, "lines", with_line(barcode=bc, quantity="-1")),
        "quantity text": (400, "lines", with_line(barcode=bc, quantity="dos")),
        "quantity float": (400, "lines", with_line(barcode=bc, quantity=1.5)),
        "quantity over 9999": (400, "lines", with_line(barcode=bc, quantity="10000")),
        "quantity 4 decimals": (400, "lines", with_line(barcode=p["kilo"].product.barcode, quantity="1.0001")),
        "decimal units for NIU": (400, "lines", with_line(barcode=bc, quantity="1.5")),
        "decimal plastic bags": (400, "lines", with_line(barcode=p["bag"].product.barcode, quantity="0.5")),
        "client price on line": (400, "lines", with_line(barcode=bc, quantity="1", price="0.01")),
        "client total": (400, "total", with_(total="0.01")),
        "too many lines": (400, "lines", with_(lines=[{"barcode": bc, "quantity": "1"}] * 1000)),
        "empty cart": (400, "lines", with_(lines=[])),
        "factura without customer": (
            400,
            "customer",
            with_(document_type="01", payments=[{"method": "card", "amount": "3.50"}]),
        ),
        "factura with dni": (
            400,
            "customer.doc_type",
            with_(document_type="01", customer={"doc_type": "1", "doc_number": VALID_DNI, "name": "Juan Pérez"}),
        ),
        "factura bad ruc": (
            400,
            "customer.doc_number",
            with_(document_type="01", customer={"doc_type": "6", "doc_number": "20100070971", "name": "X SAC"}),
        ),
        "bad dni check digit": (
            400,
            "customer.doc_number",
            with_(customer={"doc_type": "1", "doc_number": "123456782", "name": "Juan Pérez"}),
        ),
        "dni wrong length": (
            400,
            "customer.doc_number",
            with_(customer={"doc_type": "1", "doc_number": "1234", "name": "Juan Pérez"}),
        ),
        "boleta over 700 anonymous": (
            400,
            "customer",
            with_(lines=[{"barcode": p["pricey"].product.barcode, "quantity": "1"}]),
        ),
        "payments short": (400, "payments", with_(payments=[{"method": "cash", "amount": "3.00"}])),
        "card short": (400, "payments", with_(payments=[{"method": "card", "amount": "3.00"}])),
        "card overpay": (400, "payments", with_(payments=[{"method": "card", "amount": "5.00"}])),
        "yape plus plin overpay": (
            400,
            "payments",
            with_(payments=[{"method": "yape", "amount": "3.00"}, {"method": "plin", "amount": "1.00"}]),
        ),
        "unknown payment method": (400, "payments", with_(payments=[{"method": "bitcoin", "amount": "3.50"}])),
        "no payments": (400, "payments", with_(payments=[])),
        "bad document type": (400, "document_type", with_(document_type="07")),
        "bad key": (400, "idempotency_key", with_(idempotency_key="abc")),
        "unknown register": (400, "register", with_(register="CAJA9")),
        "gravado line under S/ 0.04 (IGV 0.00, SUNAT 3111)": (
            400,
            "lines",
            with_line(barcode=p["candy"].product.barcode, quantity="1"),
        ),
        "stock refused": (409, "lines", with_(lines=[{"barcode": p["cigs"].product.barcode, "quantity": "3"}])),
        "stock refused second line": (
            409,
            "lines",
            with_(lines=[{"barcode": bc, "quantity": "1"}, {"barcode": p["cigs"].product.barcode, "quantity": "3"}]),
        ),
    }


BAD_CASES = [
    "unknown barcode",
    "unknown sku",
    "other store product",
    "other company product",
    "quantity zero",
    "quantity negative",
    "quantity text",
    "quantity float",
    "quantity over 9999",
    "quantity 4 decimals",
    "decimal units for NIU",
    "decimal plastic bags",
    "client price on line",
    "client total",
    "too many lines",
    "empty cart",
    "factura without customer",
    "factura with dni",
    "factura bad ruc",
    "bad dni check digit",
    "dni wrong length",
    "boleta over 700 anonymous",
    "payments short",
    "card short",
    "card overpay",
    "yape plus plin overpay",
    "unknown payment method",
    "no payments",
    "bad document type",
    "bad key",
    "unknown register",
    "gravado line under S/ 0.04 (IGV 0.00, SUNAT 3111)",
    "stock refused",
    "stock refused second line",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_refused_in_spanish_and_writes_nothing(case, client_for, products, other_store):
    other_company = company_make(ruc="20100070970", name="Otra SAC")
    other_company_store, _ = store_make(company=other_company, code="0000", n=9)
    other_sp = product_make(store=other_store)
    other_company_sp = product_make(store=other_company_store)
    status, field, body = _bad_bodies(products, other_sp, other_company_sp)[case]
    stocks = dict(StoreProduct.objects.values_list("id", "stock"))
    before = counts()
    response = post(client_for, body)
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert field in errors and all(isinstance(m, str) and m for m in errors[field])
    assert counts() == before
    assert dict(StoreProduct.objects.values_list("id", "stock")) == stocks


def test_unknown_and_foreign_products_get_the_identical_message(client_for, products, other_store):
    foreign = product_make(store=other_store)
    other_company_store, _ = store_make(company=company_make(ruc="20100070970"), code="0000", n=9)
    foreign_company = product_make(store=other_company_store)
    answers = []
    for line in (
        {"barcode": "7750000000000", "quantity": "1"},
        {"sku": "NO-EXISTE", "quantity": "1"},
        {"barcode": foreign.product.barcode, "quantity": "1"},
        {"sku": foreign.product.sku, "quantity": "1"},
        {"barcode": foreign_company.product.barcode, "quantity": "1"},
    ):
        body = body_for((products["gravado"], "1"))
        body["lines"] = [line]
        response = post(client_for, body)
        assert response.status_code == 400
        answers.append(response.json())
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["errors"]["lines"] == ["Línea 1: el producto no existe o no se vende en esta tienda."]
    assert Sale.objects.count() == 0


def test_unknown_document_type_of_customer_is_a_field_error(client_for, products):
    body = body_for((products["gravado"], "1"), customer={"doc_type": "Z", "doc_number": "123", "name": "Ana Díaz"})
    response = post(client_for, body)
    assert response.status_code == 400
    assert "customer.doc_type" in response.json()["errors"]


def test_register_of_another_store_is_refused_like_a_missing_one(client_for, products, other_store):
    missing = post(client_for, body_for((products["gravado"], "1"), register="NOPE")).json()
    # other_store has its own CAJA1; the cashier's own CAJA1 also exists, so ask for the code of
    # a register that exists only in the other store.
    from stores.models import Register

    Register.objects.create(company=other_store.company, store=other_store, code="CAJA7")
    foreign = post(client_for, body_for((products["gravado"], "1"), register="CAJA7"))
    assert foreign.status_code == 400
    assert foreign.json() == missing
    assert Sale.objects.count() == 0


def test_malformed_json_is_400(client_for):
    response = post(client_for, b"{not json")
    assert response.status_code == 400
    assert response.json() == {"errors": {"body": ["JSON inválido"]}}


def test_missing_session_is_403_json(db):
    response = post(Client(), {"idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 403
    assert "errors" in response.json()


def test_missing_csrf_is_403_json_and_valid_token_passes(cashier, products):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cashier)
    body = body_for((products["gravado"], "1"))
    refused = post(client, body)
    assert refused.status_code == 403
    assert "csrf" in refused.json()["errors"]
    assert Sale.objects.count() == 0
    client.get("/api/v1/products?q=x")  # any request; set the cookie ourselves
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    accepted = post(client, body, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content


def test_get_on_checkout_is_405(client_for):
    assert client_for.get(URL).status_code == 405


def test_query_count_does_not_grow_with_lines(client_for, store, django_assert_max_num_queries):
    items = [product_make(store=store, price="1.00") for _ in range(50)]
    cash = [{"method": "cash", "amount": "100"}]
    one_line, fifty_lines = (
        body_for((items[0], "1"), payments=cash),
        body_for(*[(sp, "1") for sp in items], payments=cash),
    )
    with django_assert_max_num_queries(30) as one:
        assert post(client_for, one_line).status_code == 201
    with django_assert_max_num_queries(len(one.captured_queries)) as fifty:
        assert post(client_for, fifty_lines).status_code == 201
    assert len(fifty.captured_queries) <= len(one.captured_queries) <= 19
    assert SaleLine.objects.count() == 51


def test_explicit_anonymous_customer_is_the_same_as_none(client_for, products):
    anonymous = {"doc_type": "0", "doc_number": "-", "name": ""}
    response = post(client_for, body_for((products["gravado"], "1"), customer=anonymous))
    assert response.status_code == 201, response.content
    assert Sale.objects.get().customer_name == "CLIENTES VARIOS"
    over = post(client_for, body_for((products["pricey"], "1"), customer=anonymous))
    assert over.status_code == 400 and "customer" in over.json()["errors"]


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["lines"][0].update(barcode="775\u0000"),
        lambda b: b.update(register="CAJA1\u0000"),
        lambda b: b.update(customer={"doc_type": "1", "doc_number": "10117410", "name": "Ana\u0000"}),
    ],
    ids=["barcode", "register", "customer name"],
)
def test_a_nul_character_anywhere_is_400_and_sells_nothing(client_for, products, change):
    body = body_for((products["gravado"], "1"))
    change(body)
    response = post(client_for, body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["body"] == ["El texto no puede contener el carácter nulo (\\u0000)."]
    assert Sale.objects.count() == 0


def test_a_form_posted_with_a_valid_csrf_token_is_400_not_500(cashier, products):
    """CSRF's check reads a form body; the checkout must still get the raw body and refuse it."""
    from django.middleware.csrf import _get_new_csrf_string

    client = Client(enforce_csrf_checks=True)
    client.force_login(cashier)
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    response = client.post(URL, {"idempotency_key": str(uuid.uuid4()), "csrfmiddlewaretoken": token})
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["body"] == ["JSON inválido"]
    assert Sale.objects.count() == 0

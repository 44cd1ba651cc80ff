"""Input at the edges answered with a 400 in Spanish that writes nothing, never a 500: text
PostgreSQL cannot store (NUL, half a surrogate pair), JSON nested deeper than a parser goes,
dates at the ends of the calendar, quantities that are not numbers."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from sales.api.history import DATE_OUT_OF_RANGE
from sales.models import CashMovement, Sale
from sales.schemas.common import INVALID_JSON, NUL_REFUSED, SURROGATE_REFUSED
from sales.tests.factories import manager_make, product_make
from stores.models import Register

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(client: Client, cashier) -> Client:
    client.force_login(cashier)
    return client


def checkout_body(**extra) -> str:
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "document_type": "03",
        "lines": [{"barcode": "7750000000001", "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "20.00"}],
    }
    return json.dumps(body | extra)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/sales?q=%00", "q"),
        ("/api/v1/sales?register=CAJA%00", "register"),
        ("/api/v1/sessions/current?register=%00", "register"),
        ("/api/v1/products?q=%00&register=CAJA1", "q"),
        ("/api/v1/products?%00=1", "query"),
        ("/api/v1/products?q%00=1", "query"),
    ],
)
def test_a_nul_in_the_query_string_is_a_400_naming_the_parameter(till, url, field):
    response = till.get(url)
    assert response.status_code == 400 and response.json() == {"errors": {field: [NUL_REFUSED]}}


@pytest.mark.parametrize("url", ["/pos/sales/?q=B%00", "/pos/?register=%00"])
def test_a_page_asked_with_a_nul_answers_a_spanish_400_page(till, url):
    response = till.get(url)
    assert response.status_code == 400 and "Solicitud inválida" in response.content.decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"lines": [{"barcode": "\\ud800", "quantity": "1"}]}', SURROGATE_REFUSED),
        ('{"register": "\\udc00"}', SURROGATE_REFUSED),
        ('{"customer": {"name": "\\u0000"}}', NUL_REFUSED),
        ('{"\\ud83d": 1}', SURROGATE_REFUSED),
        ('{"lines": ' + "[" * 50_000 + "]" * 50_000 + "}", INVALID_JSON),
        ('{"x": ' + "[" * 900 + '"\\u0000"' + "]" * 900 + "}", NUL_REFUSED),
    ],
)
def test_a_body_postgresql_could_not_store_or_parse_is_a_400_and_sells_nothing(till, text, message):
    response = till.post("/api/v1/checkout", text, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"errors": {"body": [message]}}
    assert not Sale.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [b"CAJA1\xed\xa0\x80", b"CAJA1\xff", "CAJA1".encode("utf-16")],
    ids=["utf-8 surrogate", "not utf-8", "utf-16"],
)
def test_a_body_that_is_not_utf_8_is_a_400(till, raw):
    text = checkout_body(register="@@").encode().replace(b"@@", raw)
    response = till.post("/api/v1/checkout", text, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"errors": {"body": [INVALID_JSON]}}
    assert not Sale.objects.exists()


def test_a_body_led_by_a_utf_8_bom_is_read_as_before(till, store):
    item = product_make(store=store, price="2.00")
    text = b"\xef\xbb\xbf" + checkout_body(lines=[{"barcode": item.product.barcode, "quantity": "1"}]).encode()
    assert till.post("/api/v1/checkout", text, content_type="application/json").status_code == 201


def test_a_surrogate_pair_is_one_character_and_is_stored(till, register):
    opened = till.post(
        "/api/v1/sessions",
        json.dumps({"idempotency_key": str(uuid.uuid4()), "opening_float": "0.00", "register": "CAJA1"}),
        content_type="application/json",
    )
    session = opened.json()["id"] if opened.status_code == 201 else till.get("/api/v1/sessions/current").json()["id"]
    text = '{"idempotency_key": "KEY", "kind": "in", "amount": "1.00", "reason": "Sencillo \\ud83d\\ude00"}'
    response = till.post(
        f"/api/v1/sessions/{session}/movements",
        text.replace("KEY", str(uuid.uuid4())),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert CashMovement.objects.get().reason == "Sencillo \U0001f600"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-03", "1999-12-31", "2100-01-01"])
def test_a_date_at_the_ends_of_the_calendar_is_a_400(till, store, day):
    assert till.get(f"/api/v1/sales?date={day}").json() == {"errors": {"date": [DATE_OUT_OF_RANGE]}}
    till.force_login(manager_make(store=store))
    daily = till.get(f"/api/v1/reports/daily?date={day}")
    assert daily.status_code == 400 and daily.json() == {"errors": {"date": [DATE_OUT_OF_RANGE]}}
    assert till.get(f"/reports/?date={day}").status_code == 400
    export = till.get(f"/reports/sales.csv?from={day}&to={day}")
    assert export.status_code == 400 and export.json() == {"errors": {"from": [DATE_OUT_OF_RANGE]}}


def test_a_register_named_with_its_store_and_a_long_code_sells(till, store, cashier):
    Register.objects.filter(store=store).update(code="CAJA-PRINCIPAL-0001")  # 19 characters
    item = product_make(store=store, price="2.00")
    body = checkout_body(
        register=f"{store.code}/CAJA-PRINCIPAL-0001", lines=[{"barcode": item.product.barcode, "quantity": "1"}]
    )
    response = till.post("/api/v1/checkout", body, content_type="application/json")
    assert response.status_code == 201, response.content


def test_a_body_over_the_upload_limit_is_a_spanish_json_400(till, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = till.post("/api/v1/checkout", checkout_body(note="x" * 2000), content_type="application/json")
    assert response.status_code == 400 and response.json() == {
        "errors": {"body": ["La solicitud es demasiado grande."]}
    }
    assert not Sale.objects.exists()

"""Checkout bodies, valid and invalid, and what the checkout parser makes of each.

``BODIES`` holds about a hundred raw ``POST /api/v1/checkout`` bodies covering every message of
``sales.schemas.checkout`` (JSON, types, the price-like keys refused at the top and in a line,
unknown keys ignored, the anonymous buyer, limits MAX_LINES / MAX_QUANTITY / MAX_PAYMENT, quantity
and amount decimals, stripping, truncation, the order of the messages).
``data/checkout_parse.json`` is what the hand-written parser answered for each (errors in order,
or the parsed values and the fingerprint), recorded at 951a726; ``test_checkout_schema.py`` holds
every later parser to it, so an idempotency retry sent across a deploy still matches its sale and
a till sees the same 400s (``bench/checkout_parse_bench.py`` holds its pydantic candidate to it).

Record again only when the contract changes on purpose:
``DJANGO_SETTINGS_MODULE=bodegapos.settings.test .venv/bin/python -m sales.tests.checkout_bodies``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).with_name("data") / "checkout_parse.json"
KEY = "6f1c2a4e-9b7d-4c3e-8a21-5d0f3b9e7c11"
BARCODE = "7750000000017"
DROP = object()  # a key left out of the body


def _base() -> dict[str, Any]:
    return {
        "idempotency_key": KEY,
        "document_type": "03",
        "lines": [{"barcode": BARCODE, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "10"}],
    }


def body(**changes: Any) -> bytes:
    data = _base()
    for key, value in changes.items():
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode()


def line(quantity: Any = "1", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"barcode": BARCODE, "quantity": quantity}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not DROP}


def pay(method: Any = "cash", amount: Any = "10", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"method": method, "amount": amount}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not DROP}


RUC_BUYER = {
    "doc_type": "6",
    "doc_number": "20100066603",
    "name": "DISTRIBUIDORA EL SOL S.A.C.",
    "address": "Av. Lima 1",
}
PRICE_KEYS = ["amount", "discount", "igv", "price", "subtotal", "total", "unit_price", "unit_value"]

BODIES: list[tuple[str, bytes]] = [
    # --- the body as a whole
    ("empty body", b""),
    ("not json", b"{not json"),
    ("truncated json", b'{"idempotency_key": "' + KEY.encode()),
    ("not utf-8", b'{"idempotency_key": "\xff\xfe"}'),
    ("a list", b"[]"),
    ("a string", b'"texto"'),
    ("null", b"null"),
    ("a number", b"123"),
    ("NaN literal", b"NaN"),
    ("empty object", b"{}"),
    ("object with NaN inside", b'{"x": NaN}'),
    (
        "duplicate keys: the last one counts",
        b'{"idempotency_key": "' + KEY.encode() + b'", "document_type": "01", "document_type": "03", '
        b'"lines": [{"barcode": "' + BARCODE.encode() + b'", "quantity": "1"}], '
        b'"payments": [{"method": "cash", "amount": "10"}]}',
    ),
    ("valid boleta, scanner cart", body()),
    (
        "everything wrong at once",
        body(
            idempotency_key="x",
            register="",
            document_type="02",
            customer={"doc_type": "", "doc_number": "", "name": "n" * 201, "address": "a" * 201},
            lines=[line(quantity="0"), 7, line(sku="SKU1"), line(price="1")],
            payments=[pay(method="btc"), pay(amount="0"), "x"],
            total="5.00",
            discount="1",
        ),
    ),
    # --- price-like keys: refused at the top and in a line, ignored elsewhere
    ("price at the top", body(price="1.00")),
    ("every price-like key at the top, null", body(**dict.fromkeys(PRICE_KEYS))),
    ("total null at the top", body(total=None)),
    ("price in a line", body(lines=[line(price="2.50")])),
    ("three price keys in a line", body(lines=[line(unit_price="1", amount="2", igv="0.18")])),
    ("price key in a line without a code", body(lines=[{"quantity": "1", "subtotal": "3"}])),
    ("price key in a line with a bad quantity", body(lines=[line(quantity="abc", unit_value="1")])),
    ("price keys in the second line only", body(lines=[line(), line(quantity="2", total="9", discount="1")])),
    ("discount in a payment is ignored", body(payments=[pay(discount="1", total="10")])),
    ("price in the customer is ignored", body(customer=dict(RUC_BUYER, price="1"))),
    # --- unknown keys are ignored
    (
        "unknown keys at the top",
        body(foo="bar", register_code="CAJA9", cashier="ana", lines_count=3, customer_name="x"),
    ),
    ("unknown keys in a line", body(lines=[line(name="Pan", unit="KGM", product_id=3)])),
    ("unknown keys in a payment", body(payments=[pay(reference="op-123", last4="4242")])),
    ("unknown keys in the customer", body(customer=dict(RUC_BUYER, email="a@b.pe", phone="999"))),
    # --- idempotency_key
    ("key missing", body(idempotency_key=DROP)),
    ("key null", body(idempotency_key=None)),
    ("key a number", body(idempotency_key=123)),
    ("key not a uuid", body(idempotency_key="not-a-uuid")),
    ("key empty", body(idempotency_key="")),
    ("key upper case", body(idempotency_key=KEY.upper())),
    ("key without hyphens", body(idempotency_key=KEY.replace("-", ""))),
    ("key in braces", body(idempotency_key="{" + KEY + "}")),
    ("key as urn", body(idempotency_key="urn:uuid:" + KEY)),
    ("key with spaces", body(idempotency_key=f" {KEY} ")),
    ("key a list", body(idempotency_key=[KEY])),
    # --- register
    ("register CAJA1", body(register="CAJA1")),
    ("register padded", body(register="  CAJA1  ")),
    ("register empty", body(register="")),
    ("register blank", body(register="   ")),
    ("register 42 characters", body(register="R" * 42)),
    ("register 20 characters", body(register="R" * 20)),
    ("register short but 42 with its spaces", body(register="CAJA1" + " " * 37)),
    ("register a number", body(register=1)),
    ("register null", body(register=None)),
    ("register store/code", body(register="0001/CAJA1")),
    ("register false", body(register=False)),
    # --- document_type
    ("factura with a RUC buyer", body(document_type="01", customer=RUC_BUYER)),
    ("document type 3", body(document_type="3")),
    ("document type a number", body(document_type=3)),
    ("document type padded", body(document_type=" 03")),
    ("document type null", body(document_type=None)),
    ("document type 07", body(document_type="07")),
    ("document type missing", body(document_type=DROP)),
    # --- customer
    ("customer null", body(customer=None)),
    ("customer a string", body(customer="12345678")),
    ("customer a list", body(customer=[])),
    ("customer empty object: anonymous", body(customer={})),
    ("customer CLIENTES VARIOS", body(customer={"doc_type": "0", "doc_number": "-", "name": "CLIENTES VARIOS"})),
    (
        "anonymous customer with a long address",
        body(customer={"doc_type": "0", "doc_number": "-", "name": "CLIENTES VARIOS", "address": "a" * 300}),
    ),
    ("customer DNI", body(customer={"doc_type": "1", "doc_number": "12345678", "name": "Juan Pérez"})),
    (
        "customer padded",
        body(
            customer={"doc_type": " 6 ", "doc_number": " 20100066603 ", "name": " EMPRESA SAC ", "address": " Av. 1 "}
        ),
    ),
    ("customer without doc type", body(customer={"doc_type": "", "doc_number": "123", "name": ""})),
    ("customer without doc number", body(customer={"doc_type": "1", "doc_number": "", "name": "Juan"})),
    (
        "customer with every field wrong",
        body(customer={"doc_type": "", "doc_number": "", "name": "n" * 201, "address": "a" * 201}),
    ),
    ("customer doc number a number", body(customer={"doc_type": "1", "doc_number": 12345678, "name": "Juan"})),
    ("customer doc type a number", body(customer={"doc_type": 1, "doc_number": "12345678", "name": "Juan"})),
    ("customer name of 200", body(customer={"doc_type": "1", "doc_number": "12345678", "name": "n" * 200})),
    ("customer name only", body(customer={"name": "Juan"})),
    ("customer 0 with nothing else: anonymous", body(customer={"doc_type": "0", "doc_number": "", "name": ""})),
    (
        "customer clientes varios in lower case",
        body(customer={"doc_type": "0", "doc_number": "-", "name": "Clientes varios"}),
    ),
    ("customer address of 201", body(customer=dict(RUC_BUYER, address="a" * 201))),
    # --- lines
    ("lines empty", body(lines=[])),
    ("lines a string", body(lines="abc")),
    ("lines an object", body(lines={"barcode": BARCODE, "quantity": "1"})),
    ("lines missing", body(lines=DROP)),
    ("999 lines", body(lines=[line(quantity=str(n % 7 + 1)) for n in range(999)])),
    ("1000 lines, each one wrong", body(lines=[line(quantity="0")] * 1000)),
    ("lines not objects", body(lines=[1, "x", None])),
    ("line without a code", body(lines=[{}])),
    ("line with empty codes", body(lines=[{"barcode": "", "sku": "", "quantity": "1"}])),
    ("line with barcode and sku", body(lines=[line(sku="SKU-1")])),
    ("line barcode a number", body(lines=[{"barcode": 7750000000017, "quantity": "1"}])),
    ("line by sku", body(lines=[{"sku": "ABC-1", "quantity": "2"}])),
    ("line sku blank, barcode given", body(lines=[line(sku="  ")])),
    ("line barcode padded", body(lines=[{"barcode": f"  {BARCODE} ", "quantity": "1"}])),
    ("line code of 50 characters is cut to 40", body(lines=[{"sku": "S" * 50, "quantity": "1"}])),
    ("quantity missing", body(lines=[line(quantity=DROP)])),
    ("quantity a float", body(lines=[line(quantity=1.5)])),
    ("quantity true", body(lines=[line(quantity=True)])),
    ("quantity an integer", body(lines=[line(quantity=2)])),
    ("quantity zero", body(lines=[line(quantity="0")])),
    ("quantity negative", body(lines=[line(quantity="-1")])),
    ("quantity minus zero", body(lines=[line(quantity="-0")])),
    ("quantity 9999", body(lines=[line(quantity="9999")])),
    ("quantity 9999.001", body(lines=[line(quantity="9999.001")])),
    ("quantity 10000 with four decimals", body(lines=[line(quantity="10000.0001")])),
    ("quantity huge integer", body(lines=[line(quantity=10**30)])),
    ("quantity four decimals", body(lines=[line(quantity="1.2345")])),
    ("quantity 1.000", body(lines=[line(quantity="1.000")])),
    ("quantity 1.0000", body(lines=[line(quantity="1.0000")])),
    ("quantity 0.001 (weighed)", body(lines=[line(quantity="0.001")])),
    ("quantity 0.0001", body(lines=[line(quantity="0.0001")])),
    ("quantity in exponent form", body(lines=[line(quantity="1e2")])),
    ("quantity with underscores", body(lines=[line(quantity="1_000")])),
    ("quantity in arabic-indic digits", body(lines=[line(quantity="١٢")])),
    ("quantity NaN", body(lines=[line(quantity="NaN")])),
    ("quantity Infinity", body(lines=[line(quantity="Infinity")])),
    ("quantity text", body(lines=[line(quantity="abc")])),
    ("quantity empty", body(lines=[line(quantity="")])),
    ("quantity blank", body(lines=[line(quantity="   ")])),
    ("quantity of 21 characters", body(lines=[line(quantity="0" * 20 + "1")])),
    ("quantity padded", body(lines=[line(quantity=" 2.5 ")])),
    ("quantity a list", body(lines=[line(quantity=["1"])])),
    (
        "mixed lines: good, bad, good, bad",
        body(lines=[line(quantity="1"), {"quantity": "1"}, {"sku": "A", "quantity": "2.5"}, line(quantity="-2"), None]),
    ),
    # --- payments
    ("payments empty", body(payments=[])),
    ("payments a string", body(payments="cash")),
    ("payments an object", body(payments={"method": "cash", "amount": "10"})),
    ("payments missing", body(payments=DROP)),
    ("11 payments", body(payments=[pay(amount="1")] * 11)),
    ("10 payments", body(payments=[pay(method=m, amount="1") for m in ["card", "yape", "plin", "cash", "card"] * 2])),
    ("payment not an object", body(payments=[1])),
    ("payment method unknown", body(payments=[pay(method="bitcoin")])),
    ("payment method missing", body(payments=[{"amount": "10"}])),
    ("payment method padded", body(payments=[pay(method=" cash")])),
    ("payment method upper case", body(payments=[pay(method="CASH")])),
    ("payment method a number", body(payments=[pay(method=1)])),
    ("payment method unknown and amount bad", body(payments=[pay(method="btc", amount="-1")])),
    ("payment amount missing", body(payments=[pay(amount=DROP)])),
    ("payment amount a float", body(payments=[pay(amount=10.5)])),
    ("payment amount zero", body(payments=[pay(amount="0")])),
    ("payment amount negative", body(payments=[pay(amount="-5")])),
    ("payment amount three decimals", body(payments=[pay(amount="1.234")])),
    ("payment amount over the maximum", body(payments=[pay(amount="1000000")])),
    ("payment amount at the maximum", body(payments=[pay(amount="999999.99")])),
    ("payment amount over the maximum by a fraction", body(payments=[pay(amount="999999.995")])),
    ("payment amount an integer", body(payments=[pay(amount=50)])),
    ("payment amount 10.50", body(payments=[pay(amount="10.50")])),
    ("payment amount true", body(payments=[pay(amount=True)])),
    ("payment amount padded", body(payments=[pay(amount=" 7.5 ")])),
    # --- the shapes a till sends, and fingerprints that must match
    ("scanner cart, 2 lines", body(lines=[line(quantity="2"), {"sku": "BOLSA-01", "quantity": "1"}])),
    (
        "30-line cart",
        body(
            register="CAJA1",
            lines=[{"barcode": f"77500000{n:05d}", "quantity": str(n % 3 + 1)} for n in range(30)],
            payments=[pay(amount="200")],
        ),
    ),
    (
        "factura with customer and split payment",
        body(
            document_type="01",
            register="0001/CAJA1",
            customer=RUC_BUYER,
            lines=[line(quantity="1.250"), {"sku": "ARROZ-5KG", "quantity": "3"}],
            payments=[pay(method="card", amount="80.00"), pay(method="cash", amount="20")],
        ),
    ),
    (
        "factura, same body with other decimals",
        body(
            document_type="01",
            register="0001/CAJA1",
            customer=RUC_BUYER,
            lines=[line(quantity="1.25"), {"sku": "ARROZ-5KG", "quantity": "3.0"}],
            payments=[pay(method="card", amount="80"), pay(method="cash", amount="20.00")],
        ),
    ),
    ("boleta with quantity 12.5", body(lines=[line(quantity="12.5")])),
    ("boleta with quantity 12.50", body(lines=[line(quantity="12.50")])),
]


def outcome(parse: Callable[[bytes], Any], raw: bytes) -> dict[str, Any]:
    """What ``parse`` made of ``raw``: its 400 (errors in order) or the values the service gets."""
    from sales.services.errors import TillError

    try:
        data = parse(raw)
    except TillError as exc:
        return {"status": exc.status, "errors": [[field, list(messages)] for field, messages in exc.errors.items()]}
    customer = data.customer
    return {
        "idempotency_key": str(data.idempotency_key),
        "register": data.register,
        "document_type": data.document_type,
        "customer": [customer.doc_type, customer.doc_number, customer.name, customer.address] if customer else None,
        "lines": [[line.kind, line.code, str(line.quantity)] for line in data.lines],
        "payments": [[p.method, str(p.amount)] for p in data.payments],
        "fingerprint": data.fingerprint,
    }


def record() -> None:
    from sales.schemas import checkout_body_parse

    outcomes = {name: outcome(checkout_body_parse, raw) for name, raw in BODIES}
    FIXTURE.parent.mkdir(exist_ok=True)
    entries = (
        f"{json.dumps(name, ensure_ascii=False)}: {json.dumps(o, ensure_ascii=False)}" for name, o in outcomes.items()
    )
    FIXTURE.write_text("{\n" + ",\n".join(entries) + "\n}\n")  # one body a line
    print(f"{len(outcomes)} outcomes written to {FIXTURE}")


if __name__ == "__main__":
    import django

    django.setup()
    record()

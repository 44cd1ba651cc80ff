"""Parsing of the checkout body (``POST /api/v1/checkout``) into typed input for the service.

Only structure and formats are checked here (types, decimal strings, known methods, sizes);
business rules (stock, prices, customers per document type, payments vs total) live in
``sales.services.checkout``. Messages are Spanish and keyed by field.

Client prices: a ``price``-like key (``price``, ``unit_price``, ``amount`` on a line, ``total``,
``subtotal``, ``discount`` anywhere) is **refused** with 400 — prices come from the database only.
Other unknown keys are ignored.

Hand-written on purpose: the same contract on pydantic models (``bench/checkout_parse_pydantic.py``)
is 16–26 % slower on valid carts and twice as slow on a 400 (docs/performance.md, "Parsing the
checkout body"). Every message, its key and order, and the fingerprint are pinned by
``sales/tests/data/checkout_parse.json`` (``sales/tests/test_checkout_schema.py``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sales.models import PaymentMethod
from sales.schemas.common import REGISTER_CODE_MAX, json_object_load
from sales.services.errors import TillError
from sunat import rules

MAX_LINES = 999
MAX_QUANTITY = Decimal("9999")
MAX_PAYMENT = Decimal("999999.99")
PRICE_KEYS = frozenset({"price", "unit_price", "unit_value", "amount", "total", "subtotal", "discount", "igv"})
INVALID_JSON = "JSON inválido"


@dataclass(frozen=True)
class CartLine:
    kind: str  # "barcode" or "sku"
    code: str
    quantity: Decimal  # > 0, ≤ 9999, ≤ 3 decimals (unit rules are checked by the service)


@dataclass(frozen=True)
class PaymentIn:
    method: str  # cash, card, yape, plin
    amount: Decimal  # > 0, 2 decimals at most; for cash: what the customer hands over


@dataclass(frozen=True)
class CustomerIn:
    doc_type: str
    doc_number: str
    name: str
    address: str = ""


@dataclass(frozen=True)
class CheckoutInput:
    idempotency_key: uuid.UUID
    register: str | None
    document_type: str
    customer: CustomerIn | None
    lines: tuple[CartLine, ...]
    payments: tuple[PaymentIn, ...]

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the normalized body without the key: equal bodies give equal fingerprints."""
        normalized = {
            "register": self.register or "",
            "document_type": self.document_type,
            "customer": [self.customer.doc_type, self.customer.doc_number, self.customer.name, self.customer.address]
            if self.customer
            else None,
            "lines": [[line.kind, line.code, str(line.quantity.normalize())] for line in self.lines],
            "payments": [[p.method, str(p.amount.normalize())] for p in self.payments],
        }
        return hashlib.sha256(json.dumps(normalized, separators=(",", ":"), sort_keys=True).encode()).hexdigest()


def checkout_body_parse(body: bytes) -> CheckoutInput:
    """Parse the raw JSON body; raise :class:`TillError` (400) with every problem found."""
    return checkout_input_parse(json_object_load(body, parse_float=Decimal))


def _decimal(value: Any) -> Decimal | None:
    """A decimal given as a string (or an integer); floats and booleans are refused."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 20:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


def checkout_input_parse(data: dict[str, Any]) -> CheckoutInput:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for key in sorted(PRICE_KEYS & data.keys()):
        add(key, "No se aceptan precios ni montos del cliente: los fija la tienda.")

    key: uuid.UUID | None = None
    raw_key = data.get("idempotency_key")
    try:
        key = uuid.UUID(raw_key) if isinstance(raw_key, str) else None
    except ValueError:
        key = None
    if key is None:
        add("idempotency_key", "Clave de idempotencia inválida: debe ser un UUID.")

    register = data.get("register")
    if register is not None and (
        not isinstance(register, str) or not register.strip() or len(register) > REGISTER_CODE_MAX
    ):
        add("register", "Caja inválida.")
        register = None
    register = register.strip() if isinstance(register, str) else None

    document_type = data.get("document_type")
    if document_type not in ("01", "03"):
        add("document_type", 'Tipo de comprobante inválido: use "03" (boleta) o "01" (factura).')

    customer: CustomerIn | None = None
    raw_customer = data.get("customer")
    if raw_customer is not None:
        if not isinstance(raw_customer, dict):
            add("customer", "Cliente inválido.")
        else:
            doc_type = _text(raw_customer.get("doc_type")) or ""
            doc_number = _text(raw_customer.get("doc_number")) or ""
            name = _text(raw_customer.get("name")) or ""
            address = _text(raw_customer.get("address")) or ""
            anonymous = (
                doc_type in ("", rules.ANONYMOUS_DOC_TYPE)
                and doc_number in ("", rules.ANONYMOUS_DOC_NUMBER)
                and name in ("", rules.ANONYMOUS_NAME)
            )
            if not anonymous:  # the anonymous buyer is the same as leaving the customer out
                if not doc_type:
                    add("customer.doc_type", "Indique el tipo de documento del cliente.")
                if not doc_number:
                    add("customer.doc_number", "Indique el número de documento del cliente.")
                if len(name) > 200:
                    add("customer.name", "El nombre no puede exceder 200 caracteres.")
                if len(address) > 200:
                    add("customer.address", "La dirección no puede exceder 200 caracteres.")
                if doc_type and doc_number:
                    customer = CustomerIn(doc_type=doc_type, doc_number=doc_number, name=name, address=address)

    lines: list[CartLine] = []
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        add("lines", "El carrito está vacío.")
    elif len(raw_lines) > MAX_LINES:
        add("lines", f"Demasiadas líneas: como máximo {MAX_LINES} por comprobante.")
    else:
        for n, raw in enumerate(raw_lines, start=1):
            if not isinstance(raw, dict):
                add("lines", f"Línea {n}: formato inválido.")
                continue
            for k in sorted(PRICE_KEYS & raw.keys()):
                add("lines", f"Línea {n}: no se acepta «{k}»; los precios los fija la tienda.")
            barcode, sku = _text(raw.get("barcode")), _text(raw.get("sku"))
            if bool(barcode) == bool(sku):
                add("lines", f"Línea {n}: indique un código de barras o un SKU.")
                continue
            quantity = _decimal(raw.get("quantity"))
            if quantity is None:
                add("lines", f"Línea {n}: la cantidad debe ser un número decimal.")
            elif quantity <= 0:
                add("lines", f"Línea {n}: la cantidad debe ser mayor que cero.")
            elif quantity > MAX_QUANTITY:
                add("lines", f"Línea {n}: la cantidad no puede ser mayor que 9999.")
            elif _places(quantity) > 3:
                add("lines", f"Línea {n}: la cantidad admite como máximo 3 decimales.")
            else:
                lines.append(
                    CartLine(kind="barcode" if barcode else "sku", code=(barcode or sku or "")[:40], quantity=quantity)
                )

    payments: list[PaymentIn] = []
    raw_payments = data.get("payments")
    if not isinstance(raw_payments, list) or not raw_payments:
        add("payments", "Indique al menos un pago.")
    elif len(raw_payments) > 10:
        add("payments", "Demasiados pagos: como máximo 10.")
    else:
        for n, raw in enumerate(raw_payments, start=1):
            if not isinstance(raw, dict):
                add("payments", f"Pago {n}: formato inválido.")
                continue
            method = raw.get("method")
            if method not in PaymentMethod.values:
                add("payments", f"Pago {n}: medio de pago desconocido (use cash, card, yape o plin).")
                continue
            amount = _decimal(raw.get("amount"))
            if amount is None:
                add("payments", f"Pago {n}: el monto debe ser un número decimal.")
            elif amount <= 0:
                add("payments", f"Pago {n}: el monto debe ser mayor que cero.")
            elif amount > MAX_PAYMENT or _places(amount) > 2:
                add("payments", f"Pago {n}: monto inválido (máximo 2 decimales).")
            else:
                payments.append(PaymentIn(method=method, amount=amount))

    if errors:
        raise TillError(errors, 400)
    assert key is not None
    return CheckoutInput(
        idempotency_key=key,
        register=register,
        document_type=document_type,
        customer=customer,
        lines=tuple(lines),
        payments=tuple(payments),
    )

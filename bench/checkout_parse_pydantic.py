"""The checkout body parser on pydantic: the candidate ``bench/checkout_parse_bench.py`` times
against the hand-written ``sales.schemas.checkout`` (which stays: this one is slower, see
docs/performance.md, "Parsing the checkout body").

It answers every recorded body of ``sales/tests/checkout_bodies.py`` exactly as the hand-written
parser does (the benchmark checks that before it times anything): the body is a pydantic model
parsed and turned into Spanish field errors by ``sales.schemas.common`` like the till's other
bodies, and the service would get the same frozen dataclasses. pydantic reports errors in the
order the fields are declared (a parent's first), so the fields are declared in the order the
hand-written checks run; checks that depend on an earlier field (a quantity is looked at only
when the line has one code) read it from ``ValidationInfo.data``. Fields whose before-validator
already returns the final value are typed ``Any`` so pydantic does not check them twice (the
fastest faithful version found).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from sales.models import PaymentMethod
from sales.schemas.checkout import (
    MAX_LINES,
    MAX_PAYMENT,
    MAX_QUANTITY,
    CartLine,
    CheckoutInput,
    CustomerIn,
    PaymentIn,
    _decimal,
    _places,
    _text,
)
from sales.schemas.common import REGISTER_CODE_MAX, Body, IdempotencyKey, body_parse, data_parse

MAX_PAYMENTS = 10
DOCUMENT_TYPES = ("01", "03")


def _refused(message: str) -> Any:
    def refuse(value: Any, info: ValidationInfo) -> None:
        raise PydanticCustomError("price_refused", message.format(key=info.field_name))

    return BeforeValidator(refuse)


def _object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise PydanticCustomError("item_format", "formato inválido.")
    return value


# A price-like key sent at the top of the body or in a line: its presence alone is refused.
TopPrice = Annotated[Any, _refused("No se aceptan precios ni montos del cliente: los fija la tienda.")]
LinePrice = Annotated[Any, _refused("no se acepta «{key}»; los precios los fija la tienda.")]
Text = Annotated[Any, BeforeValidator(_text)]


# --------------------------------------------------------------------------- the body


class _LinePrices(Body):
    """A line's price-like keys (declared first, sorted, so their messages come first)."""

    amount: LinePrice = None
    discount: LinePrice = None
    igv: LinePrice = None
    price: LinePrice = None
    subtotal: LinePrice = None
    total: LinePrice = None
    unit_price: LinePrice = None
    unit_value: LinePrice = None


def _one_code(value: Any, info: ValidationInfo) -> str | None:
    sku = _text(value)
    if bool(info.data.get("barcode")) == bool(sku):
        raise PydanticCustomError("line_code", "indique un código de barras o un SKU.")
    return sku


def _quantity(value: Any, info: ValidationInfo) -> Decimal | None:
    if "sku" not in info.data:  # no code, no look at the quantity
        return None
    quantity = _decimal(value)
    if quantity is None:
        raise PydanticCustomError("quantity", "la cantidad debe ser un número decimal.")
    if quantity <= 0:
        raise PydanticCustomError("quantity", "la cantidad debe ser mayor que cero.")
    if quantity > MAX_QUANTITY:
        raise PydanticCustomError("quantity", "la cantidad no puede ser mayor que 9999.")
    if _places(quantity) > 3:
        raise PydanticCustomError("quantity", "la cantidad admite como máximo 3 decimales.")
    return quantity


class LineBody(_LinePrices):
    """``{"barcode"|"sku": STR, "quantity": DECIMAL_STR}``: exactly one code."""

    barcode: Text = None
    sku: Annotated[Any, BeforeValidator(_one_code)] = Field(default=None, validate_default=True)
    quantity: Annotated[Any, BeforeValidator(_quantity)] = Field(default=None, validate_default=True)


def _method(value: Any) -> str:
    if value not in PaymentMethod.values:
        raise PydanticCustomError("method", "medio de pago desconocido (use cash, card, yape o plin).")
    return value


def _amount(value: Any, info: ValidationInfo) -> Decimal | None:
    if "method" not in info.data:  # an unknown method, no look at the amount
        return None
    amount = _decimal(value)
    if amount is None:
        raise PydanticCustomError("amount", "el monto debe ser un número decimal.")
    if amount <= 0:
        raise PydanticCustomError("amount", "el monto debe ser mayor que cero.")
    if amount > MAX_PAYMENT or _places(amount) > 2:
        raise PydanticCustomError("amount", "monto inválido (máximo 2 decimales).")
    return amount


class PaymentBody(Body):
    method: Annotated[Any, BeforeValidator(_method)] = Field(default=None, validate_default=True)
    amount: Annotated[Any, BeforeValidator(_amount)] = Field(default=None, validate_default=True)


def _filled(message: str) -> Any:
    def check(value: str) -> str:
        if not value:
            raise PydanticCustomError("customer", message)
        return value

    return BeforeValidator(check)


def _at_most_200(message: str) -> Any:
    def check(value: str) -> str:
        if len(value) > 200:
            raise PydanticCustomError("customer", message)
        return value

    return BeforeValidator(check)


class CustomerBody(Body):
    """A named buyer (the anonymous one never gets here: see :func:`_customer`)."""

    doc_type: Annotated[Any, _filled("Indique el tipo de documento del cliente.")]
    doc_number: Annotated[Any, _filled("Indique el número de documento del cliente.")]
    name: Annotated[Any, _at_most_200("El nombre no puede exceder 200 caracteres.")]
    address: Annotated[Any, _at_most_200("La dirección no puede exceder 200 caracteres.")]


def _customer(value: Any) -> dict[str, str] | None:
    """The customer's texts (a non-text value counts as empty), or None for no customer or the
    anonymous buyer, which is the same as leaving the customer out."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PydanticCustomError("customer", "Cliente inválido.")
    texts = {k: _text(value.get(k)) or "" for k in ("doc_type", "doc_number", "name", "address")}
    if texts["doc_type"] in ("", "0") and texts["doc_number"] in ("", "-") and texts["name"] in ("", "CLIENTES VARIOS"):
        return None
    return texts


def _list(empty: str, too_many: str, most: int) -> Any:
    def check(value: Any) -> list:
        if not isinstance(value, list) or not value:
            raise PydanticCustomError("list", empty)
        if len(value) > most:
            raise PydanticCustomError("list", too_many)
        return value

    return BeforeValidator(check)


def _register(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > REGISTER_CODE_MAX:
        raise PydanticCustomError("register", "Caja inválida.")
    return value.strip()


def _document_type(value: Any) -> str:
    if value not in DOCUMENT_TYPES:
        raise PydanticCustomError("document_type", 'Tipo de comprobante inválido: use "03" (boleta) o "01" (factura).')
    return value


class _TopPrices(Body):
    """The body's price-like keys (declared first, sorted, so their messages come first)."""

    amount: TopPrice = None
    discount: TopPrice = None
    igv: TopPrice = None
    price: TopPrice = None
    subtotal: TopPrice = None
    total: TopPrice = None
    unit_price: TopPrice = None
    unit_value: TopPrice = None


class CheckoutBody(_TopPrices):
    """The checkout's JSON body (ARCHITECTURE.md): a missing field gets its own message, so each
    one's check also runs on its default."""

    # Only "register" names the register ("register" itself would shadow BaseModel's).
    model_config = ConfigDict(populate_by_name=False)

    idempotency_key: IdempotencyKey = Field(default=None, validate_default=True)
    register_code: Annotated[Any, BeforeValidator(_register)] = Field(default=None, alias="register")
    document_type: Annotated[Any, BeforeValidator(_document_type)] = Field(default=None, validate_default=True)
    customer: Annotated[CustomerBody | None, BeforeValidator(_customer)] = None
    lines: Annotated[
        list[Annotated[LineBody, BeforeValidator(_object)]],
        _list("El carrito está vacío.", f"Demasiadas líneas: como máximo {MAX_LINES} por comprobante.", MAX_LINES),
    ] = Field(default=None, validate_default=True)
    payments: Annotated[
        list[Annotated[PaymentBody, BeforeValidator(_object)]],
        _list("Indique al menos un pago.", f"Demasiados pagos: como máximo {MAX_PAYMENTS}.", MAX_PAYMENTS),
    ] = Field(default=None, validate_default=True)

    def checkout_input(self) -> CheckoutInput:
        customer = self.customer
        return CheckoutInput(
            idempotency_key=self.idempotency_key,
            register=self.register_code,
            document_type=self.document_type,
            customer=CustomerIn(
                doc_type=customer.doc_type, doc_number=customer.doc_number, name=customer.name, address=customer.address
            )
            if customer
            else None,
            lines=tuple(
                CartLine(
                    kind="barcode" if line.barcode else "sku",
                    code=(line.barcode or line.sku or "")[:40],
                    quantity=line.quantity,  # set on every valid line
                )
                for line in self.lines
            ),
            payments=tuple(PaymentIn(method=p.method, amount=p.amount) for p in self.payments),
        )


def checkout_body_parse(body: bytes) -> CheckoutInput:
    """Parse the raw JSON body; raise :class:`TillError` (400) with every problem found."""
    return body_parse(CheckoutBody, body).checkout_input()


def checkout_input_parse(data: dict[str, Any]) -> CheckoutInput:
    return data_parse(CheckoutBody, data).checkout_input()

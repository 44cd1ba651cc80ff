"""Bodies of the till's session endpoints (``/api/v1/sessions…``): open, cash in/out, close.

``approval`` is left raw here: :func:`stores.services.approval_parse` reads it (a malformed
approval is a 403 like a wrong one, not a 400).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sales import money
from sales.models import ReturnReason

from .common import REGISTER_CODE_MAX, Amount, Body, IdempotencyKey, Quantity

MAX_FLOAT = Decimal("100000.00")
MAX_MOVEMENT = Decimal("100000.00")
MAX_COUNTED = Decimal("9999999.99")
# "register" (the body's key) would shadow the metaclass's ``register``: the field is ``register_code``.
REGISTER_FIELD = Field(default=None, max_length=REGISTER_CODE_MAX, alias="register")
DENOMINATION_KEYS = {format(d, ".2f"): d for d in money.DENOMINATIONS}
RETURN_REASONS = frozenset(ReturnReason.values)


def _not_negative(value: Decimal, what: str) -> Decimal:
    if value < 0:
        raise PydanticCustomError("amount_range", f"{what} no puede ser negativo.")
    return value


class SessionOpenBody(Body):
    idempotency_key: IdempotencyKey
    register_code: str | None = REGISTER_FIELD
    opening_float: Amount

    @field_validator("opening_float")
    @classmethod
    def _float_range(cls, value: Decimal) -> Decimal:
        _not_negative(value, "El fondo inicial")
        if value > MAX_FLOAT:
            raise PydanticCustomError("amount_range", "El fondo inicial no puede superar S/ 100,000.00.")
        return value


class MovementBody(Body):
    idempotency_key: IdempotencyKey
    kind: Literal["in", "out"]
    amount: Amount
    reason: str = Field(min_length=1, max_length=200)
    approval: Any = None

    @field_validator("amount")
    @classmethod
    def _amount_range(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise PydanticCustomError("amount_range", "El monto debe ser mayor que cero.")
        if value > MAX_MOVEMENT:
            raise PydanticCustomError("amount_range", "El monto no puede superar S/ 100,000.00.")
        return value


class CountedBody(Body):
    """What the cashier counted, per payment method; every method is required."""

    cash: Amount
    card: Amount
    yape: Amount
    plin: Amount

    @field_validator("cash", "card", "yape", "plin")
    @classmethod
    def _counted_range(cls, value: Decimal) -> Decimal:
        _not_negative(value, "El monto contado")
        if value > MAX_COUNTED:
            raise PydanticCustomError("amount_range", "El monto contado es demasiado grande.")
        return value


class CloseBody(Body):
    idempotency_key: IdempotencyKey
    counted: CountedBody
    denominations: dict[str, Any] | None = None
    note: str = Field(default="", max_length=500)
    approval: Any = None

    @field_validator("denominations")
    @classmethod
    def _denominations(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        problems = []
        for key, count in value.items():
            if key not in DENOMINATION_KEYS:
                problems.append(f"«{key}» no es un billete o moneda peruana (use {', '.join(DENOMINATION_KEYS)}).")
            elif isinstance(count, bool) or not isinstance(count, int):
                problems.append(f"La cantidad de {key} debe ser un número entero.")
            elif count < 0:
                problems.append(f"La cantidad de {key} no puede ser negativa.")
            elif count > 1_000_000:
                problems.append(f"La cantidad de {key} es demasiado grande.")
        if problems:
            raise PydanticCustomError("denominations", " ".join(problems))
        return value

    @model_validator(mode="after")
    def _denominations_add_up(self) -> CloseBody:
        if self.denominations is not None:
            total = money.denominations_total({DENOMINATION_KEYS[k]: n for k, n in self.denominations.items()})
            if total != self.counted.cash:
                raise PydanticCustomError(
                    "denominations",
                    "El conteo por denominación suma S/ {total} y no coincide con el efectivo contado (S/ {cash}).",
                    {"field": "denominations", "total": money.as_text(total), "cash": money.as_text(self.counted.cash)},
                )
        return self

    def denomination_counts(self) -> dict[str, int] | None:
        """The counts by denomination key (``"0.10"``…), zeros left out; None when not sent."""
        if self.denominations is None:
            return None
        return {k: self.denominations[k] for k in DENOMINATION_KEYS if self.denominations.get(k)}


# --------------------------------------------------------------------------- returns and voids

MAX_RETURN_QUANTITY = Decimal("9999")


class ReturnLineBody(Body):
    line: int = Field(ge=1, le=999)
    quantity: Quantity
    restock: bool = True

    @field_validator("quantity")
    @classmethod
    def _quantity_range(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise PydanticCustomError("quantity_range", "La cantidad a devolver debe ser mayor que cero.")
        if value > MAX_RETURN_QUANTITY:
            raise PydanticCustomError("quantity_range", "La cantidad no puede ser mayor que 9999.")
        return value


class RefundBody(Body):
    method: Literal["cash", "card", "yape", "plin"]
    amount: Amount

    @field_validator("amount")
    @classmethod
    def _amount_range(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise PydanticCustomError("amount_range", "El monto debe ser mayor que cero.")
        if value > MAX_COUNTED:
            raise PydanticCustomError("amount_range", "El monto es demasiado grande.")
        return value


class ReturnBody(Body):
    idempotency_key: IdempotencyKey
    sale: str = Field(min_length=1, max_length=64)
    reason_code: str
    reason: str = Field(min_length=1, max_length=250)
    lines: list[ReturnLineBody] = Field(min_length=1, max_length=999)
    refunds: list[RefundBody] = Field(min_length=1, max_length=10)
    register_code: str | None = REGISTER_FIELD
    approval: Any = None

    @field_validator("reason_code")
    @classmethod
    def _reason_code(cls, value: str) -> str:
        if value not in RETURN_REASONS:
            raise PydanticCustomError(
                "reason_code",
                "Motivo inválido: use 01 (anulación de la operación), 06 (devolución total) o 07 (devolución por ítem).",
            )
        return value

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())  # SUNAT refuses line breaks in the note's description (2135)

    @field_validator("lines")
    @classmethod
    def _lines_once(cls, value: list[ReturnLineBody]) -> list[ReturnLineBody]:
        seen: set[int] = set()
        twice = sorted({line.line for line in value if line.line in seen or seen.add(line.line)})
        if twice:
            raise PydanticCustomError(
                "lines",
                "Cada línea va una sola vez: se repite la línea {lines}.",
                {"lines": ", ".join(map(str, twice))},
            )
        return value


class VoidBody(Body):
    idempotency_key: IdempotencyKey
    reason: str = Field(min_length=1, max_length=100)
    register_code: str | None = REGISTER_FIELD
    approval: Any = None

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())

"""The fiscal snapshot: everything SUNAT needs about one document, frozen at issue time.

The ``sunat`` app never reads sales tables. The issuer (checkout, a return, a void) builds a
:class:`DocumentSnapshot` with every amount already rounded by ``sales.money``; builders only
format it. It is stored as JSON on ``SunatDocument.snapshot`` (Decimals as strings) so that the
document can be rebuilt identically years later.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Supplier:
    ruc: str
    legal_name: str
    trade_name: str
    address: str
    ubigeo: str
    department: str
    province: str
    district: str
    establishment_code: str  # the store's 4-digit SUNAT code (AddressTypeCode)


@dataclass(frozen=True)
class Customer:
    """The buyer. An anonymous boleta (up to S/ 700) has type ``"0"`` and number ``"-"``."""

    doc_type: str  # catalog 06: "1" DNI, "6" RUC, "4", "7", …; "0" when anonymous
    doc_number: str  # "-" when anonymous
    name: str  # "CLIENTES VARIOS" when anonymous
    address: str = ""


@dataclass(frozen=True)
class Line:
    number: int  # 1…999
    code: str  # SKU
    description: str
    unit_code: str  # NIU, ZZ, KGM
    quantity: Decimal
    unit_price: Decimal  # price with taxes (PriceTypeCode 01); the referential value for free items
    unit_value: Decimal  # valor unitario without IGV (PriceAmount), 0 for free items
    line_value: Decimal  # valor de venta (LineExtensionAmount), 2 decimals
    affectation: str  # catalog 07: 10, 20, 30; free items 11–16, 21, 31–37
    igv: Decimal
    igv_percent: Decimal = Decimal("18.00")
    icbper: Decimal = Decimal("0.00")  # plastic bags: quantity × icbper_unit
    icbper_unit: Decimal = Decimal("0.00")

    @property
    def is_free(self) -> bool:
        return self.affectation not in ("10", "20", "30", "40")


@dataclass(frozen=True)
class Totals:
    gravadas: Decimal
    exoneradas: Decimal
    inafectas: Decimal
    igv: Decimal
    icbper: Decimal
    total: Decimal  # PayableAmount
    gratuitas: Decimal = Decimal("0.00")  # valor referencial of free items
    igv_gratuitas: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Installment:
    amount: Decimal
    due_date: date


@dataclass(frozen=True)
class PaymentTerms:
    """Facturas only: ``Contado``, or ``Credito`` with its amount and installments (cuotas)."""

    method: str = "Contado"
    amount: Decimal | None = None
    installments: tuple[Installment, ...] = ()


@dataclass(frozen=True)
class Reference:
    """What a credit or debit note corrects (BillingReference + DiscrepancyResponse)."""

    document_type: str  # 01 or 03
    number: str  # "F001-123"
    reason_code: str  # catalog 09 (NC) or 10 (ND)
    description: str


@dataclass(frozen=True)
class DocumentSnapshot:
    document_type: str  # 01, 03, 07, 08
    series: str
    number: int
    issued_at: datetime  # aware; builders render it in America/Lima
    supplier: Supplier
    customer: Customer
    lines: tuple[Line, ...]
    totals: Totals
    currency: str = "PEN"
    payment_terms: PaymentTerms | None = None
    reference: Reference | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def full_number(self) -> str:
        return f"{self.series}-{self.number}"

    def to_json(self) -> dict[str, Any]:
        return _encode(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentSnapshot:
        terms = data.get("payment_terms")
        reference = data.get("reference")
        return cls(
            document_type=data["document_type"],
            series=data["series"],
            number=int(data["number"]),
            issued_at=datetime.fromisoformat(data["issued_at"]),
            supplier=Supplier(**data["supplier"]),
            customer=Customer(**data["customer"]),
            lines=tuple(Line(**_decimals(line, _LINE_DECIMALS)) for line in data["lines"]),
            totals=Totals(**{k: Decimal(v) for k, v in data["totals"].items()}),
            currency=data.get("currency", "PEN"),
            payment_terms=PaymentTerms(
                method=terms["method"],
                amount=Decimal(terms["amount"]) if terms.get("amount") is not None else None,
                installments=tuple(
                    Installment(amount=Decimal(i["amount"]), due_date=date.fromisoformat(i["due_date"]))
                    for i in terms.get("installments", ())
                ),
            )
            if terms
            else None,
            reference=Reference(**reference) if reference else None,
            extra=data.get("extra", {}),
        )


_LINE_DECIMALS = ("quantity", "unit_price", "unit_value", "line_value", "igv", "igv_percent", "icbper", "icbper_unit")


def _decimals(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: (Decimal(v) if k in keys else v) for k, v in data.items()}


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value

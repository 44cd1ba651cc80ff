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

from . import rules


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
    """The buyer. An anonymous boleta (up to S/ 700) has type ``"0"`` and number ``"-"``
    (:meth:`anonymous`; the rule is ``sunat.rules.buyer_is_anonymous``)."""

    doc_type: str  # catalog 06: "1" DNI, "6" RUC, "4", "7", …; "0" when anonymous
    doc_number: str  # "-" when anonymous
    name: str  # "CLIENTES VARIOS" when anonymous
    address: str = ""

    @classmethod
    def anonymous(cls) -> Customer:
        """The anonymous buyer of a boleta: "CLIENTES VARIOS", type ``0``, number ``-``."""
        return cls(doc_type=rules.ANONYMOUS_DOC_TYPE, doc_number=rules.ANONYMOUS_DOC_NUMBER, name=rules.ANONYMOUS_NAME)

    @property
    def is_anonymous(self) -> bool:
        return rules.buyer_is_anonymous(doc_type=self.doc_type, doc_number=self.doc_number)


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
        return _encode(self)

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


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _encode(value: Any) -> Any:
    """A snapshot as JSON values: dataclasses as dicts of their fields in order (what
    ``dataclasses.asdict`` gives, without its deep copy), Decimals and dates as strings."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if kind is Decimal:
        return str(value)
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: _encode(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# ------------------------------------------------------------------ Resumen Diario (RC)


@dataclass(frozen=True)
class SummaryLine:
    """One boleta (03) or a note (07/08) of a boleta in a Resumen Diario.

    ``condition`` is catalog 19: ``"1"`` adicionar, ``"2"`` modificar, ``"3"`` anular. Amounts are
    the document's totals as issued (already rounded by ``sales.money``). ``customer_doc_type`` /
    ``customer_doc_number`` are the buyer's catalog-06 type and number (``"0"``/``"-"`` or empty
    for an anonymous boleta up to S/ 700). Notes carry ``reference_type``/``reference_number``.
    """

    document_type: str  # 03, 07, 08
    number: str  # "B001-123"
    condition: str  # catalog 19: 1, 2, 3
    total: Decimal  # sac:TotalAmount (importe total)
    gravadas: Decimal = Decimal("0.00")
    exoneradas: Decimal = Decimal("0.00")
    inafectas: Decimal = Decimal("0.00")
    gratuitas: Decimal = Decimal("0.00")
    igv: Decimal = Decimal("0.00")
    icbper: Decimal = Decimal("0.00")
    customer_doc_type: str = ""
    customer_doc_number: str = ""
    reference_type: str = ""  # 03 for a note of a boleta
    reference_number: str = ""  # "B001-120"


@dataclass(frozen=True)
class SummarySnapshot:
    """Resumen Diario (RC): boletas and their notes of one issue date (``reference_date``)."""

    supplier: Supplier
    reference_date: date  # issue date of every reported document
    issue_date: date  # generation date of the summary (its ID and file name carry it)
    sequence: int  # correlative of that generation date (1…99999)
    lines: tuple[SummaryLine, ...]
    currency: str = "PEN"

    document_type = "RC"

    @property
    def full_number(self) -> str:
        return f"RC-{self.issue_date:%Y%m%d}-{self.sequence}"

    def to_json(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SummarySnapshot:
        return cls(
            supplier=Supplier(**data["supplier"]),
            reference_date=date.fromisoformat(data["reference_date"]),
            issue_date=date.fromisoformat(data["issue_date"]),
            sequence=int(data["sequence"]),
            lines=tuple(SummaryLine(**_decimals(line, _SUMMARY_DECIMALS)) for line in data["lines"]),
            currency=data.get("currency", "PEN"),
        )


_SUMMARY_DECIMALS = ("total", "gravadas", "exoneradas", "inafectas", "gratuitas", "igv", "icbper")


# ------------------------------------------------------------ Comunicación de Baja (RA)


@dataclass(frozen=True)
class VoidedLine:
    """A factura (01) or a note (07/08) of a factura to void, with the reason (free text)."""

    document_type: str  # 01, 07, 08
    series: str  # "F001"
    number: int
    reason: str


@dataclass(frozen=True)
class VoidedSnapshot:
    """Comunicación de Baja (RA): facturas and their notes of one issue date only."""

    supplier: Supplier
    reference_date: date  # issue date of the voided documents
    issue_date: date  # communication date (ID and file name)
    sequence: int
    lines: tuple[VoidedLine, ...]

    document_type = "RA"

    @property
    def full_number(self) -> str:
        return f"RA-{self.issue_date:%Y%m%d}-{self.sequence}"

    def to_json(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VoidedSnapshot:
        return cls(
            supplier=Supplier(**data["supplier"]),
            reference_date=date.fromisoformat(data["reference_date"]),
            issue_date=date.fromisoformat(data["issue_date"]),
            sequence=int(data["sequence"]),
            lines=tuple(VoidedLine(**{**line, "number": int(line["number"])}) for line in data["lines"]),
        )


# ------------------------------------------------------------------------------- voids

VOID_CONDITION = "3"  # catalog 19: anular


def void_kind(*, document_type: str, series: str) -> str:
    """Which summary voids a document: ``"RA"`` for a factura and the notes of facturas
    (F series), ``"RC"`` (a Resumen Diario line with ConditionCode 3) for a boleta and the notes
    of boletas (B series). Boletas can never go in an RA (SUNAT 2308)."""
    if document_type == "01" or (document_type in ("07", "08") and series.startswith("F")):
        return "RA"
    if document_type == "03" or (document_type in ("07", "08") and series.startswith("B")):
        return "RC"
    raise ValueError(f"el comprobante {document_type} {series} no se anula por resumen ni comunicación de baja")


def summary_line_from(snapshot: DocumentSnapshot, *, condition: str) -> SummaryLine:
    """The Resumen Diario line that reports ``snapshot`` (a boleta or a boleta's note) with its
    totals as issued, its buyer and, for a note, the document it modifies."""
    totals = snapshot.totals
    customer = snapshot.customer
    anonymous = customer.is_anonymous
    reference = snapshot.reference
    return SummaryLine(
        document_type=snapshot.document_type,
        number=snapshot.full_number,
        condition=condition,
        total=totals.total,
        gravadas=totals.gravadas,
        exoneradas=totals.exoneradas,
        inafectas=totals.inafectas,
        gratuitas=totals.gratuitas,
        igv=totals.igv,
        icbper=totals.icbper,
        customer_doc_type="" if anonymous else customer.doc_type,
        customer_doc_number="" if anonymous else customer.doc_number,
        reference_type=reference.document_type if reference else "",
        reference_number=reference.number if reference else "",
    )


def void_snapshot_build(
    *, original: DocumentSnapshot, reason: str, issue_date: date, sequence: int
) -> SummarySnapshot | VoidedSnapshot:
    """The RA (facturas and their notes) or RC with one ConditionCode 3 line (boletas and their
    notes) that voids ``original``: generated on ``issue_date`` (today in Lima) with the day's
    ``sequence``; its ReferenceDate is the original's issue date in Lima."""
    reference_date = rules.fiscal_date(original.issued_at)
    kind = void_kind(document_type=original.document_type, series=original.series)
    if kind == "RA":
        return VoidedSnapshot(
            supplier=original.supplier,
            reference_date=reference_date,
            issue_date=issue_date,
            sequence=sequence,
            lines=(
                VoidedLine(
                    document_type=original.document_type,
                    series=original.series,
                    number=original.number,
                    reason=" ".join(reason.split()) or "ANULACION DE LA OPERACION",
                ),
            ),
        )
    return SummarySnapshot(
        supplier=original.supplier,
        reference_date=reference_date,
        issue_date=issue_date,
        sequence=sequence,
        lines=(summary_line_from(original, condition=VOID_CONDITION),),
        currency=original.currency,
    )

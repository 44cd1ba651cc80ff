"""All money arithmetic and rounding of BodegaPOS — the only module that rounds.

Rules (SUNAT.md §2.2, §2.4; Indecopi on cash rounding):

* Amounts are ``Decimal`` built from strings or ints, never floats.
* Every rounding names its mode: ``ROUND_HALF_UP`` for fiscal amounts (Python's default
  context would round half-even), ``ROUND_DOWN`` for the cash due.
* Per line: the sale amount is ``price × quantity`` rounded to céntimos; for a gravado line
  the taxable base is that amount ÷ 1.18 rounded, and IGV is the difference — so base + IGV
  equals the line amount exactly. Exonerado and inafecto lines carry no IGV.
* Document totals are sums of rounded lines; a sum is never re-rounded.
* ICBPER is ``bags × rate`` per line, on top of the price.
* Cash: the cash part of a payment is due rounded down to S/ 0.10 in the customer's favour;
  the difference is recorded apart and the fiscal total never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
CASH_STEP = Decimal("0.1")  # the exponent is the quantum: Decimal("0.10") would be the same step
UNIT_VALUE_PLACES = Decimal("0.0000000001")  # SUNAT accepts unit values with up to 10 decimals
ZERO = Decimal("0.00")
IGV_RATE = Decimal("0.18")
IGV_PERCENT = Decimal("18.00")

# Catalog 07: IGV affectation of a sold item.
GRAVADO = "10"
EXONERADO = "20"
INAFECTO = "30"


def q2(amount: Decimal) -> Decimal:
    """Round to céntimos, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    """The fiscal amounts of one line, each already rounded."""

    amount: Decimal  # price × quantity, IGV included (what the customer pays for the goods)
    base: Decimal  # valor de venta: taxable base (gravado) or the amount itself (20, 30)
    igv: Decimal
    icbper: Decimal
    unit_value: Decimal  # valor unitario without IGV, up to 10 decimals

    @property
    def total(self) -> Decimal:
        return self.amount + self.icbper


def line_amounts(*, price: Decimal, quantity: Decimal, affectation: str, icbper_rate: Decimal = ZERO) -> LineAmounts:
    """Split a line sold at ``price`` (IGV included) into base, IGV and ICBPER.

    ``icbper_rate`` is the per-bag amount for plastic bags (0 otherwise); bags are sold in whole
    units, so ICBPER is exact before rounding.
    """
    amount = q2(price * quantity)
    if affectation == GRAVADO:
        base = q2(amount / (1 + IGV_RATE))
        unit_value = (price / (1 + IGV_RATE)).quantize(UNIT_VALUE_PLACES, rounding=ROUND_HALF_UP)
    elif affectation in (EXONERADO, INAFECTO):
        base = amount
        unit_value = price
    else:
        raise ValueError(f"afectación no soportada: {affectation}")
    return LineAmounts(
        amount=amount,
        base=base,
        igv=amount - base,
        icbper=q2(quantity * icbper_rate),
        unit_value=unit_value,
    )


@dataclass(frozen=True)
class DocumentTotals:
    """Header totals: sums of rounded lines, never re-rounded."""

    gravadas: Decimal
    exoneradas: Decimal
    inafectas: Decimal
    igv: Decimal
    icbper: Decimal
    total: Decimal  # fiscal total: Σ (price × qty) + ICBPER


def document_totals(lines: list[tuple[str, LineAmounts]]) -> DocumentTotals:
    """Sum ``(affectation, amounts)`` pairs into the document's header totals."""

    def total(values) -> Decimal:
        return sum(values, ZERO)

    return DocumentTotals(
        gravadas=total(a.base for aff, a in lines if aff == GRAVADO),
        exoneradas=total(a.base for aff, a in lines if aff == EXONERADO),
        inafectas=total(a.base for aff, a in lines if aff == INAFECTO),
        igv=total(a.igv for _, a in lines),
        icbper=total(a.icbper for _, a in lines),
        total=total(a.total for _, a in lines),
    )


def cash_due(amount: Decimal) -> Decimal:
    """What the customer pays in cash for ``amount``: rounded down to S/ 0.10 (their favour)."""
    return amount.quantize(CASH_STEP, rounding=ROUND_DOWN).quantize(CENT)


@dataclass(frozen=True)
class CashSettlement:
    """How the cash part of a sale is settled (Indecopi: rounding in the customer's favour)."""

    applied: Decimal  # the part of the fiscal total the cash settles (total − non-cash payments)
    due: Decimal  # what the customer must hand over: ``applied`` rounded down to S/ 0.10
    rounding: Decimal  # applied − due (≥ 0), recorded apart; the fiscal total is never changed
    change: Decimal  # tendered − due


def cash_settle(*, total: Decimal, non_cash: Decimal, tendered: Decimal) -> CashSettlement:
    """Settle ``total`` given exact non-cash payments and ``tendered`` cash.

    Callers check ``non_cash <= total`` and ``tendered >= due`` (the change is negative otherwise).
    """
    applied = total - non_cash
    due = cash_due(applied)
    return CashSettlement(applied=applied, due=due, rounding=applied - due, change=tendered - due)


def as_text(amount: Decimal) -> str:
    """An amount for JSON and receipts: a string with exactly two decimals.

    Amounts reaching here were already rounded to céntimos by this module; this only formats.
    """
    return f"{amount:.2f}"


# Peruvian bills and coins a drawer holds (the 5- and 1-céntimo coins are out of circulation).
DENOMINATIONS: tuple[Decimal, ...] = tuple(
    Decimal(v) for v in ("200.00", "100.00", "50.00", "20.00", "10.00", "5.00", "2.00", "1.00", "0.50", "0.20", "0.10")
)


def denominations_total(counts: dict[Decimal, int]) -> Decimal:
    """Cash counted by denomination: Σ value × count (exact; nothing to round)."""
    return sum((value * count for value, count in counts.items()), ZERO)


def cash_kept(*, applied: Decimal, rounding: Decimal) -> Decimal:
    """The cash a sale's cash payment left in the drawer (tendered − change = applied − rounding)."""
    return applied - rounding

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

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

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
    base = q2(amount / (1 + IGV_RATE)) if affectation == GRAVADO else amount
    return LineAmounts(
        amount=amount,
        base=base,
        igv=amount - base,
        icbper=q2(quantity * icbper_rate),
        unit_value=unit_value_of(price=price, affectation=affectation),
    )


def unit_value_of(*, price: Decimal, affectation: str) -> Decimal:
    """The valor unitario (without IGV, up to 10 decimals) of an item priced ``price`` with IGV."""
    if affectation == GRAVADO:
        return (price / (1 + IGV_RATE)).quantize(UNIT_VALUE_PLACES, rounding=ROUND_HALF_UP)
    if affectation in (EXONERADO, INAFECTO):
        return price
    raise ValueError(f"afectación no soportada: {affectation}")


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

    def total(values: Iterable[Decimal]) -> Decimal:
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


def return_line_amounts(
    *,
    unit_price: Decimal,
    sold_quantity: Decimal,
    sold_base: Decimal,
    affectation: str,
    icbper_rate: Decimal,
    returned_before: Decimal,
    returned_after: Decimal,
) -> LineAmounts:
    """A credit note's line for a sale line whose returned quantity goes from ``returned_before``
    to ``returned_after`` (the contract's formula).

    Each amount is the difference between the rounded amount after and before this return:
    ``amount = q2(price × after) − q2(price × before)``; for a gravado line the base the same way
    from the sale line's base, ``q2(base × after ÷ sold) − q2(base × before ÷ sold)``, and
    ``IGV = amount − base``; exonerado and inafecto lines have ``base = amount``; ICBPER
    ``q2(rate × after) − q2(rate × before)``. So any sequence of notes telescopes: they never add up
    to more than the sale line and, once it is all returned, exactly to it.
    """

    unit_value = unit_value_of(price=unit_price, affectation=affectation)  # refuses unknown affectations

    def cumulative(quantity: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        amount = q2(unit_price * quantity)
        base = q2(sold_base * quantity / sold_quantity) if affectation == GRAVADO else amount
        return amount, base, q2(icbper_rate * quantity)

    after, before = cumulative(returned_after), cumulative(returned_before)
    amount, base, icbper = (a - b for a, b in zip(after, before, strict=True))
    return LineAmounts(amount=amount, base=base, igv=amount - base, icbper=icbper, unit_value=unit_value)


def cash_refund_due(amount: Decimal) -> Decimal:
    """The cash handed back for a fiscal cash refund of ``amount``: rounded up to S/ 0.10, in the
    customer's favour."""
    return amount.quantize(CASH_STEP, rounding=ROUND_UP).quantize(CENT)


def cash_refund_handed(*, amount: Decimal, kept_left: Decimal) -> Decimal:
    """What actually leaves the drawer for a fiscal cash refund of ``amount``: rounded up to
    S/ 0.10, but never more than ``kept_left``, the cash the sale kept and earlier refunds did not
    hand back (the refund that would pass it is cut to what is left)."""
    return max(ZERO, min(cash_refund_due(amount), kept_left))


def average(total: Decimal, count: int) -> Decimal:
    """``total / count`` rounded half up to céntimos (0.00 for no items): an average ticket."""
    return q2(total / count) if count else ZERO


def as_soles(amount: Decimal) -> str:
    """An amount as Peruvians write it: ``S/ 1,234.50`` (``-S/ 1.30`` below zero). Formats only;
    amounts reaching here were already rounded by this module."""
    sign = "-" if amount < 0 else ""
    return f"{sign}S/ {abs(amount):,.2f}"

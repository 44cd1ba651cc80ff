"""SUNAT's fiscal rules, one home each: the till (sales), the receipt and the XML builders all call
these, so a sale the till accepts is one the builders build and SUNAT takes.

* Fiscal dates and times are Peru's (``LIMA``, UTC−5, no daylight saving): the XML's IssueDate
  and IssueTime, the QR's date, the RC/RA generation and reference dates, the void window and the
  ICBPER rate in force all use :func:`fiscal_date` / :func:`fiscal_time`, whatever the process's
  time zone.
* The anonymous buyer (catalog 06 type ``0``, number ``-``, "CLIENTES VARIOS";
  ``sunat.snapshot.Customer.anonymous()``) and :func:`buyer_is_anonymous`.
* A boleta (and a boleta's note) above S/ 700.00 names its buyer with a catalog 06 type other
  than ``0`` and a number (SUNAT 2396): :func:`boleta_buyer_refusal`.
* A taxed line (catalog 07 codes 10–17) with a value carries IGV; one whose IGV rounds to 0.00
  (an amount under S/ 0.04) is rejected (SUNAT 3111): :func:`taxed_line_igv_missing`.
* ICBPER per plastic bag by date (Ley 30884, D.S. 244-2019-EF; SUNAT checks the per-unit
  amount against the rate in force, 3238): :func:`icbper_rate`.

Pure functions on plain values: no database, no Django settings, no other sunat module.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

LIMA = ZoneInfo("America/Lima")

ANONYMOUS_DOC_TYPE = "0"  # catalog 06: doc. trib. no domiciliado sin RUC, the anonymous boleta's
ANONYMOUS_DOC_NUMBER = "-"
ANONYMOUS_NAME = "CLIENTES VARIOS"
BOLETA_ANONYMOUS_LIMIT = Decimal("700.00")
BOLETA_BUYER_REQUIRED = "Boleta mayor a S/ 700.00: indique el DNI u otro documento del comprador."

# (valid from, S/ per bag): the law's schedule, S/ 0.50 from 2023 on.
ICBPER_RATES: tuple[tuple[date, Decimal], ...] = (
    (date(2019, 8, 1), Decimal("0.10")),
    (date(2020, 1, 1), Decimal("0.20")),
    (date(2021, 1, 1), Decimal("0.30")),
    (date(2022, 1, 1), Decimal("0.40")),
    (date(2023, 1, 1), Decimal("0.50")),
)


def fiscal_time(moment: datetime) -> datetime:
    """``moment`` (aware) in Peru's time; raises ``ValueError`` for a naive datetime."""
    if moment.tzinfo is None:
        raise ValueError("la fecha y hora debe tener zona horaria (datetime aware)")
    return moment.astimezone(LIMA)


def fiscal_date(moment: datetime) -> date:
    """The fiscal (Peru) date of an aware ``moment``."""
    return fiscal_time(moment).date()


def buyer_is_anonymous(*, doc_type: str, doc_number: str) -> bool:
    """The buyer is not identified: no document number (empty or ``-``), as the anonymous buyer
    ``0``/``-`` of a boleta. ``doc_type`` is accepted for the callers' symmetry; without a number
    no type identifies anybody."""
    return doc_number.strip() in ("", ANONYMOUS_DOC_NUMBER)


def buyer_identifies(*, doc_type: str, doc_number: str) -> bool:
    """The buyer is named well enough for a boleta above S/ 700.00: a catalog 06 type other than
    ``0`` (DNI, CE, RUC, passport, …) and a number."""
    return doc_type.strip() not in ("", ANONYMOUS_DOC_TYPE, "-") and not buyer_is_anonymous(
        doc_type=doc_type, doc_number=doc_number
    )


def boleta_buyer_refusal(*, total: Decimal, doc_type: str, doc_number: str) -> str | None:
    """None when a boleta (or a boleta's note) of ``total`` may go to this buyer, else the
    Spanish reason (SUNAT 2396). Facturas always name a RUC: not this rule."""
    if total > BOLETA_ANONYMOUS_LIMIT and not buyer_identifies(doc_type=doc_type, doc_number=doc_number):
        return BOLETA_BUYER_REQUIRED
    return None


def taxed_line_igv_missing(*, affectation: str, base: Decimal, igv: Decimal) -> bool:
    """True when SUNAT rejects the line (3111): a taxed line (catalog 07 codes 10–17) with a
    value whose IGV is 0.00 — its amount with IGV is under S/ 0.04."""
    return affectation.startswith("1") and base > 0 and igv == 0


def icbper_rate(*, on: date) -> Decimal | None:
    """ICBPER per plastic bag in force on ``on`` (a fiscal date), or None before the tax existed."""
    rate = None
    for valid_from, amount in ICBPER_RATES:
        if valid_from <= on:
            rate = amount
    return rate

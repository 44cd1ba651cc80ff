"""Reads of cash sessions: the X report (any time, changes nothing) and the Z report (at close),
both from :func:`cash_session_figures`, plus the session's JSON and the tenancy-scoped lookups.

What each figure is (ARCHITECTURE.md, "The day at the till"):

* ``payments.cash`` = ``cash.sales`` = the cash the session's sales kept (tendered − change, so
  after cash rounding); other methods: what they paid.
* ``refunds.cash`` = ``cash.refunds`` = the cash handed out for returns and voids requested in
  the session; other methods: what was refunded by them.
* ``cash.rounding`` (informational) = what cash rounding moved: on sales (≤ 0, the customer's
  favour) and on refunds (rounded up to S/ 0.10, capped at the cash the sale kept).
* ``expected.cash = opening_float + payments.cash − refunds.cash + in − out``; each other
  method's expected is its payments minus its refunds; ``difference = counted − expected``.
* ``net_total = sales.total − returns.total − voids.total`` (a voided sale stays in ``sales``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils import timezone

from sales import money
from sales.models import (
    CashMovement,
    CashSession,
    Payment,
    PaymentMethod,
    Refund,
    Sale,
    SaleReturn,
    SaleVoid,
    SessionStatus,
)
from sales.services.errors import TillError
from stores.selectors import register_key, store_list_for_user

METHODS: tuple[str, ...] = tuple(PaymentMethod.values)
DOCUMENT_TYPES = ("03", "01")
SESSION_NOT_FOUND = "Turno de caja no encontrado."


def zero_by_method() -> dict[str, Decimal]:
    return {m: money.ZERO for m in METHODS}


@dataclass
class SessionFigures:
    """Every sum a session's X/Z report shows, read from its rows."""

    sales_count: int = 0
    sales_total: Decimal = money.ZERO
    sales_igv: Decimal = money.ZERO
    sales_icbper: Decimal = money.ZERO
    by_type: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    returns_count: int = 0
    returns_total: Decimal = money.ZERO
    voids_count: int = 0
    voids_total: Decimal = money.ZERO
    payments: dict[str, Decimal] = field(default_factory=zero_by_method)
    refunds: dict[str, Decimal] = field(default_factory=zero_by_method)
    cash_in: Decimal = money.ZERO
    cash_out: Decimal = money.ZERO
    rounding: Decimal = money.ZERO

    def expected(self, *, opening_float: Decimal) -> dict[str, Decimal]:
        expected = {m: self.payments[m] - self.refunds[m] for m in METHODS}
        expected["cash"] = opening_float + self.payments["cash"] - self.refunds["cash"] + self.cash_in - self.cash_out
        return expected


def _sum(value: Decimal | None) -> Decimal:
    return value if value is not None else money.ZERO


def cash_session_figures(*, session: CashSession) -> SessionFigures:
    """The session's sums, in a few aggregate queries over its own rows (indexed by session).
    Inside the close's transaction, after the session row is locked, it sees every committed sale
    of the session and nothing can be added until the close commits."""
    figures = SessionFigures()
    per_type = {
        f"{t}_{k}": agg
        for t in DOCUMENT_TYPES
        for k, agg in (
            ("count", Count("id", filter=Q(document_type=t))),
            ("total", Sum("total", filter=Q(document_type=t))),
        )
    }
    sales = Sale.objects.filter(company_id=session.company_id, session_id=session.pk).aggregate(
        n=Count("id"), sum_total=Sum("total"), sum_igv=Sum("igv"), sum_icbper=Sum("icbper"), **per_type
    )
    figures.sales_count = sales["n"]
    figures.sales_total, figures.sales_igv, figures.sales_icbper = (
        _sum(sales[k]) for k in ("sum_total", "sum_igv", "sum_icbper")
    )
    figures.by_type = {t: (sales[f"{t}_count"], _sum(sales[f"{t}_total"])) for t in DOCUMENT_TYPES}

    paid = (
        Payment.objects.filter(company_id=session.company_id, sale__session_id=session.pk)
        .values("method")
        .annotate(paid=Sum("amount"), rounded=Sum("rounding"))
    )
    for row in paid:
        if row["method"] == PaymentMethod.CASH:
            figures.payments["cash"] = money.cash_kept(applied=row["paid"], rounding=row["rounded"])
            figures.rounding -= row["rounded"]
        else:
            figures.payments[row["method"]] = row["paid"]

    returned = SaleReturn.objects.filter(company_id=session.company_id, session_id=session.pk).aggregate(
        n=Count("id"), sum_total=Sum("total")
    )
    figures.returns_count, figures.returns_total = returned["n"], _sum(returned["sum_total"])
    voided = SaleVoid.objects.filter(company_id=session.company_id, session_id=session.pk).aggregate(
        n=Count("id"), sum_total=Sum("sale__total")
    )
    figures.voids_count, figures.voids_total = voided["n"], _sum(voided["sum_total"])
    refunded = (
        Refund.objects.filter(company_id=session.company_id, session_id=session.pk)
        .values("method")
        .annotate(fiscal=Sum("amount"), out=Sum("handed"))
    )
    for row in refunded:
        figures.refunds[row["method"]] = row["out"]
        if row["method"] == PaymentMethod.CASH:
            figures.rounding -= row["out"] - row["fiscal"]  # rounded up for the customer: more cash out

    moved = CashMovement.objects.filter(company_id=session.company_id, session_id=session.pk).aggregate(
        moved_in=Sum("amount", filter=Q(kind="in")), moved_out=Sum("amount", filter=Q(kind="out"))
    )
    figures.cash_in, figures.cash_out = _sum(moved["moved_in"]), _sum(moved["moved_out"])
    return figures


def _local(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value is not None else None


def _by_method(values: dict[str, Decimal]) -> dict[str, str]:
    return {m: money.as_text(values[m]) for m in METHODS}


def cash_session_body(session: CashSession) -> dict:
    """The session as the API shows it (contract: ``id``, ``register``, ``status``, …)."""
    return {
        "id": str(session.public_id),
        "register": register_key(session.register),
        "status": session.status,
        "opened_at": _local(session.opened_at),
        "opened_by": session.opened_by.get_username(),
        "opening_float": money.as_text(session.opening_float),
        "closed_at": _local(session.closed_at),
        "closed_by": session.closed_by.get_username() if session.closed_by is not None else None,
        "z_number": session.z_number,
    }


def cash_session_report_build(
    *,
    session: CashSession,
    figures: SessionFigures,
    counted: dict[str, Decimal] | None = None,
    kind: str = "X",
) -> dict:
    """The X (or, with ``counted``, the Z) report's JSON from ``figures``."""
    expected = figures.expected(opening_float=session.opening_float)
    difference = {m: counted[m] - expected[m] for m in METHODS} if counted is not None else None
    return {
        "kind": kind,
        "session": cash_session_body(session),
        "sales": {
            "count": figures.sales_count,
            "total": money.as_text(figures.sales_total),
            "igv": money.as_text(figures.sales_igv),
            "icbper": money.as_text(figures.sales_icbper),
            "by_document_type": {
                t: {"count": figures.by_type[t][0], "total": money.as_text(figures.by_type[t][1])}
                for t in DOCUMENT_TYPES
            },
        },
        "returns": {"count": figures.returns_count, "total": money.as_text(figures.returns_total)},
        "voids": {"count": figures.voids_count, "total": money.as_text(figures.voids_total)},
        "net_total": money.as_text(figures.sales_total - figures.returns_total - figures.voids_total),
        "payments": _by_method(figures.payments),
        "refunds": _by_method(figures.refunds),
        "cash": {
            "opening_float": money.as_text(session.opening_float),
            "sales": money.as_text(figures.payments["cash"]),
            "refunds": money.as_text(figures.refunds["cash"]),
            "in": money.as_text(figures.cash_in),
            "out": money.as_text(figures.cash_out),
            "rounding": money.as_text(figures.rounding),
            "expected": money.as_text(expected["cash"]),
        },
        "expected": _by_method(expected),
        "counted": _by_method(counted) if counted is not None else None,
        "difference": _by_method(difference) if difference is not None else None,
    }


def cash_session_report(*, session: CashSession) -> dict:
    """The Z report as stored at close (identical on every read), or the X report of an open
    session, computed now (nothing changes)."""
    if session.status == SessionStatus.CLOSED:
        assert session.z_report is not None  # cash_session_state_consistent: a closed session has its Z
        return session.z_report
    return cash_session_report_build(session=session, figures=cash_session_figures(session=session))


def cash_session_expected_cash(*, session: CashSession) -> Decimal:
    """The cash that should be in the drawer now."""
    return cash_session_figures(session=session).expected(opening_float=session.opening_float)["cash"]


def cash_session_get_for_user(*, user: User, public_id: uuid.UUID | str) -> CashSession:
    """The session with ``public_id`` in one of the user's stores; a 404 :class:`TillError` for
    other stores' sessions and missing ones alike."""
    try:
        return (
            CashSession.objects.select_related("store", "register__store", "opened_by", "closed_by")
            .filter(store__in=store_list_for_user(user=user))
            .get(public_id=public_id)
        )
    except (CashSession.DoesNotExist, ValueError, ValidationError):
        raise TillError.single("session", SESSION_NOT_FOUND, status=404) from None


def cash_session_open_get(*, register_id: int, company_id: int) -> CashSession | None:
    """The register's open session, or None."""
    return (
        CashSession.objects.select_related("register__store", "opened_by")
        .filter(company_id=company_id, register_id=register_id, status=SessionStatus.OPEN)
        .first()
    )

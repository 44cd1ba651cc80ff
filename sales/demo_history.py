"""Demo history for ``seed_demo --history-days N``: N past days of a demo chain's till, made
through the real services (sessions, checkout, returns, voids, closes) so every figure, audit
event and stock movement is what a real day writes, only dated in the past.

Dating: each action runs with the services' clock (``django.utils.timezone.now``) set to its
moment of that day (:func:`clock_at`); days run oldest first, so audit chains and correlatives
keep their order. SUNAT: every document is issued with ``demo=True`` — already settled as
accepted, never queued (``sunat.services``) — so the worker has nothing to send and SUNAT never
sees them; the till later refuses to return or void a demo sale, saying why
(``sales.selectors.history.sale_state`` → ``"demo"``).

Deterministic: the day's sales of a store come from ``random.Random(f"{day}/{store}")``, and a
day already in the history is skipped, so running the seed again adds nothing.

A register's history never overlaps its shifts: a day that any session of the register covers
(opened that day, or open across it; the history's own sessions included) is skipped, and a register with a session open now
gets no history at all while it stays open (the till allows one open session per register, and
a past day written now would land its sales and Z behind the shift in progress). Its missing
days are written by a later run, once that session is closed, except those the session covered.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from sales import money
from sales.models import CashSession, Sale, SaleLine, SessionStatus, StoreProduct
from sales.schemas import CartLine, CustomerIn, PaymentIn
from sales.selectors.sessions import cash_session_figures
from sales.services.checkout import sale_checkout
from sales.services.returns import RefundIn, ReturnLineIn, sale_return_create, sale_return_quote
from sales.services.sessions import cash_session_close, cash_session_open
from sales.services.voids import sale_void_request
from stores.models import Register
from sunat import rules

DEMO_NAMESPACE = uuid.UUID("6f1d2a3c-4b5e-4f60-8a7b-9c0d1e2f3a4b")  # idempotency keys of the history
CHANGE_ASKED = tuple(
    Decimal(v) for v in ("0.00", "0.00", "0.50", "1.00", "2.00", "5.00", "10.00")
)  # cash over what is due
BUYER = CustomerIn(doc_type="6", doc_number="20100066603", name="DISTRIBUIDORA EL SOL S.A.C.")


@contextmanager
def clock_at(when: datetime) -> Iterator[None]:
    """The services' clock reads ``when`` inside the block (single-threaded seeding only)."""
    with mock.patch.object(timezone, "now", return_value=when):
        yield


def _at(day: date, minutes: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min)) + timedelta(
        minutes=minutes
    )  # the till's day (TIME_ZONE)


@dataclass(frozen=True)
class StoreCrew:
    register: Register
    cashier: AbstractBaseUser
    manager: AbstractBaseUser


@dataclass
class HistoryCounts:
    days: int = 0
    sessions: int = 0
    sales: int = 0
    returns: int = 0
    voids: int = 0
    registers_skipped: list[str] = field(default_factory=list)  # "store/register" with a session open


def demo_history_seed(*, crews: list[StoreCrew], days: int, today: date | None = None) -> HistoryCounts:
    """Write ``days`` past days (yesterday and before) for each crew's register: a session from
    08:00 opened by the cashier, 8–24 sales (cash with rounding, card, Yape, Plin, some split,
    facturas, bags with ICBPER), a return by the manager every few days and a void now and then,
    and the close at 21:30 with a small cash difference on some days. Each action is its own
    transaction through the real service, with ``demo=True``.

    A crew whose register has a session open is left out (``registers_skipped``), and a day any
    session of a register covers is skipped for that register (see the module's docstring)."""
    today = today or timezone.localdate()
    counts = HistoryCounts()
    writable = []
    for crew in crews:
        if _has_open_session(crew.register):
            counts.registers_skipped.append(f"{crew.register.store.code}/{crew.register.code}")
        else:
            writable.append(crew)
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        counts.days += 1
        for crew in writable:
            _store_day(crew=crew, day=day, counts=counts)
    return counts


def _has_open_session(register: Register) -> bool:
    return CashSession.objects.filter(
        company_id=register.company_id, register=register, status=SessionStatus.OPEN
    ).exists()


def _products(register: Register) -> tuple[list[StoreProduct], StoreProduct | None]:
    rows = list(
        StoreProduct.objects.select_related("product")
        .filter(store_id=register.store_id, company_id=register.company_id, is_active=True, product__is_active=True)
        .order_by("product__sku")
    )
    bag = next((sp for sp in rows if sp.product.is_plastic_bag), None)
    return [sp for sp in rows if not sp.product.is_plastic_bag], bag


def _store_day(*, crew: StoreCrew, day: date, counts: HistoryCounts) -> None:
    register = crew.register
    lo, hi = _at(day, 0), _at(day, 24 * 60)
    if (
        CashSession.objects.filter(company_id=register.company_id, register=register, opened_at__lt=hi)
        .filter(Q(closed_at__gte=lo) | Q(closed_at__isnull=True))
        .exists()
    ):
        return  # already in the history, or a real shift covers (part of) that day
    rng = random.Random(f"{day.isoformat()}/{register.store.code}")
    items, bag = _products(register)
    popular = items[: max(1, len(items) // 3)]
    with clock_at(_at(day, 8 * 60)):
        session = cash_session_open(user=crew.cashier, register=register, opening_float=Decimal("150.00"))
    counts.sessions += 1
    sold: list[Sale] = []
    n_sales = rng.randint(8, 24)
    minutes = sorted(rng.sample(range(8 * 60 + 5, 21 * 60), n_sales))
    for n, minute in enumerate(minutes):
        sale = _sell(
            crew=crew, day=day, minute=minute, n=n, rng=rng, items=popular if rng.random() < 0.8 else items, bag=bag
        )
        if sale is not None:
            sold.append(sale)
    counts.sales += len(sold)
    if sold and rng.random() < 0.35:
        _return_some(crew=crew, sale=rng.choice(sold), when=_at(day, 21 * 60 + 10), rng=rng)
        counts.returns += 1
    voidable = [s for s in sold if not s.lines.filter(returned_quantity__gt=0).exists()]
    if voidable and rng.random() < 0.2:
        with clock_at(_at(day, 21 * 60 + 15)):
            sale_void_request(
                user=crew.manager,
                sale=rng.choice(voidable),
                register=register,
                reason="Venta duplicada",
                approver=None,
                demo=True,
            )
        counts.voids += 1
    expected = cash_session_figures(session=session).expected(opening_float=session.opening_float)
    counted = dict(expected)
    if rng.random() < 0.3:  # a drawer off by a few coins
        counted["cash"] = expected["cash"] + rng.choice(
            [Decimal("-2.00"), Decimal("-0.50"), Decimal("-0.20"), Decimal("0.10"), Decimal("1.00")]
        )
    with clock_at(_at(day, 21 * 60 + 30)):
        cash_session_close(
            user=crew.manager, session=session, counted=counted, denominations=None, note="", approver=None
        )


def _sell(*, crew: StoreCrew, day: date, minute: int, n: int, rng: random.Random, items, bag) -> Sale | None:
    lines = []
    for sp in rng.sample(items, k=min(len(items), rng.randint(1, 4))):
        quantity = (
            Decimal(rng.choice(["0.250", "0.500", "1.000", "1.500"]))
            if sp.product.unit_code == "KGM"
            else Decimal(rng.randint(1, 3))
        )
        lines.append(CartLine(kind="barcode", code=sp.product.barcode, quantity=quantity))
    if bag is not None and rng.random() < 0.3:
        lines.append(CartLine(kind="barcode", code=bag.product.barcode, quantity=Decimal(rng.randint(1, 2))))
    factura = rng.random() < 0.1
    total = _total(lines=lines, items={sp.product.barcode: sp for sp in [*items, *([bag] if bag else [])]}, day=day)
    method = rng.choices(["cash", "card", "yape", "plin", "split"], weights=[55, 20, 15, 5, 5])[0]
    if method == "cash":
        payments = [PaymentIn(method="cash", amount=money.cash_due(total) + rng.choice(CHANGE_ASKED))]
    elif method == "split" and total > Decimal("2.00"):
        part = money.q2(total / 2)
        payments = [
            PaymentIn(method="card", amount=part),
            PaymentIn(method="cash", amount=money.cash_due(total - part) + rng.choice(CHANGE_ASKED)),
        ]
    else:
        payments = [PaymentIn(method="yape" if method == "split" else method, amount=total)]
    key = uuid.uuid5(DEMO_NAMESPACE, f"{crew.register.pk}/{day.isoformat()}/{n}")
    with clock_at(_at(day, minute)):
        sale, _ = sale_checkout(
            cashier=crew.cashier,
            register=crew.register,
            idempotency_key=key,
            fingerprint=key.hex,
            document_type="01" if factura else "03",
            customer=BUYER if factura else None,
            lines=lines,
            payments=payments,
            demo=True,
        )
    return sale


def _total(*, lines: list[CartLine], items: dict[str, StoreProduct], day: date) -> Decimal:
    """The cart's fiscal total as checkout will price it (``sales.money``), to pay it exactly."""
    total = money.ZERO
    for line in lines:
        sp = items[line.code]
        rate = (rules.icbper_rate(on=day) or money.ZERO) if sp.product.is_plastic_bag else money.ZERO
        total += money.line_amounts(
            price=sp.price, quantity=line.quantity, affectation=sp.product.affectation, icbper_rate=rate
        ).total
    return total


def _return_some(*, crew: StoreCrew, sale: Sale, when: datetime, rng: random.Random) -> None:
    line = rng.choice(list(SaleLine.objects.filter(sale=sale, company_id=sale.company_id).order_by("line_no")))
    quantity = line.quantity if line.unit_code == "KGM" else Decimal(1)
    quote = sale_return_quote(
        sale_lines={line.line_no: line}, lines=[ReturnLineIn(line=line.line_no, quantity=quantity, restock=True)]
    )
    method = sale.payments.order_by("pk").values_list("method", flat=True).first()
    with clock_at(when):
        sale_return_create(
            user=crew.manager,
            sale=sale,
            register=crew.register,
            reason_code="07",
            reason="Producto en mal estado",
            lines=[ReturnLineIn(line=line.line_no, quantity=quantity, restock=True)],
            refunds=[RefundIn(method=method, amount=quote.totals.total)],
            approver=None,
            demo=True,
        )

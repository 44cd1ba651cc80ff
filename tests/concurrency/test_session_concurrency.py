"""Cash sessions under real concurrency (invariant 11): real threads, real PostgreSQL transactions.

* Two cashiers opening one register at once make one session (the partial unique index decides).
* A checkout racing a close either lands in the session before the close (and in its Z) or is
  refused (409): never a sale outside every session, never a Z that misses a committed sale.
"""

from __future__ import annotations

import random
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from sales.models import CashSession, Sale
from sales.schemas import CartLine, PaymentIn
from sales.services.checkout import sale_checkout
from sales.services.errors import TillError
from sales.services.sessions import cash_session_close, cash_session_open
from sales.tests.factories import cashier_make, company_make, manager_make, product_make, store_make

from .test_checkout_concurrency import run_threads

pytestmark = pytest.mark.django_db(transaction=True)

METHODS = ("cash", "card", "yape", "plin")


@pytest.fixture
def shop():
    company = company_make()
    store, register = store_make(company=company)
    return store, register


def test_two_racing_opens_make_one_session(shop):
    store, register = shop
    cashiers = [cashier_make(store=store, open_session=False) for _ in range(2)]
    for _ in range(5):
        results = run_threads(
            2, lambda i: cash_session_open(user=cashiers[i], register=register, opening_float=Decimal("10.00"))
        )
        opened = [r for r in results if isinstance(r, CashSession)]
        refused = [r for r in results if isinstance(r, TillError)]
        assert len(opened) == 1 and len(refused) == 1 and refused[0].status == 409, results
        assert CashSession.objects.filter(register=register, status="open").count() == 1
        session = opened[0]
        cash_session_close(
            user=cashiers[0],
            session=session,
            counted={m: Decimal("10.00") if m == "cash" else Decimal("0") for m in METHODS},
            denominations=None,
            note="",
            approver=None,
        )


def test_a_checkout_racing_a_close_lands_in_the_z_or_is_refused(shop):
    store, register = shop
    manager = manager_make(store=store)
    cashier = cashier_make(store=store, open_session=False)
    item = product_make(store=store, price="1.00", stock="100000")
    rounds, refused_total, sold_total = 12, 0, 0
    for n in range(rounds):
        session = cash_session_open(user=cashier, register=register, opening_float=Decimal("0.00"))
        outcomes: list[str] = []

        def checkouts(outcomes: list[str] = outcomes) -> None:
            while True:
                try:
                    sale_checkout(
                        cashier=cashier,
                        register=register.code,
                        idempotency_key=uuid.uuid4(),
                        fingerprint="f",
                        document_type="03",
                        customer=None,
                        lines=[CartLine(kind="barcode", code=item.product.barcode, quantity=Decimal("1"))],
                        payments=[PaymentIn(method="card", amount=Decimal("1.00"))],
                    )
                    outcomes.append("sold")
                except TillError as exc:
                    assert exc.status == 409 and "session" in exc.errors, exc.errors
                    outcomes.append("refused")
                    return
                finally:
                    connection.close()

        def closer(session: CashSession = session) -> CashSession:
            time.sleep(random.uniform(0.01, 0.08))
            try:
                # A manager closes: the difference (card sales not counted) needs no approval.
                return cash_session_close(
                    user=manager,
                    session=session,
                    counted={m: Decimal("0") for m in METHODS},
                    denominations=None,
                    note="",
                    approver=None,
                )
            finally:
                connection.close()

        results = run_threads(2, lambda i: checkouts() if i == 0 else closer())
        assert not isinstance(results[1], BaseException), results[1]
        assert not any(isinstance(r, BaseException) for r in results), results
        closed = CashSession.objects.get(pk=session.pk)
        in_session = Sale.objects.filter(session=closed)
        z = closed.z_report
        assert z["sales"]["count"] == in_session.count() == outcomes.count("sold"), (n, outcomes, z["sales"])
        assert Decimal(z["payments"]["card"]) == sum((s.total for s in in_session), Decimal("0"))
        refused_total += outcomes.count("refused")
        sold_total += outcomes.count("sold")
    assert not Sale.objects.filter(session__isnull=True).exists()
    assert sold_total > 0 and refused_total == rounds  # each round ended with a refused sale

"""Invariant 12 under real concurrency: a sale line's returned quantity never exceeds what was
sold, with two processes (and many threads) returning the same line at once."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest

from sales.models import Refund, SaleLine, SaleReturn
from sales.schemas import CartLine, PaymentIn
from sales.services.checkout import sale_checkout
from sales.services.errors import TillError
from sales.services.returns import RefundIn, ReturnLineIn, sale_return_create
from sales.tests.factories import company_make, manager_make, product_make, session_ensure, store_make
from worker.tests.procs import PROJECT, worker_env

from .test_checkout_concurrency import run_threads

pytestmark = pytest.mark.django_db(transaction=True)

# One process: wait for the start file, return 2 of line 1, print the outcome.
CHILD = """
import os, sys, time, uuid
from decimal import Decimal
import django
django.setup()
from sales.models import Sale
from sales.services.errors import TillError
from sales.services.returns import RefundIn, ReturnLineIn, sale_return_create
from django.contrib.auth import get_user_model
from stores.models import Register
start, sale_id, register_id, username = sys.argv[1:5]
sale = Sale.objects.select_related("store").get(public_id=sale_id)
register = Register.objects.select_related("store", "company").get(pk=register_id)
user = get_user_model().objects.get(username=username)
while not os.path.exists(start):
    time.sleep(0.001)
try:
    sale_return_create(user=user, sale=sale, register=register, reason_code="07", reason="x",
                       lines=[ReturnLineIn(line=1, quantity=Decimal("2"), restock=True)],
                       refunds=[RefundIn(method="card", amount=Decimal("5.00"))], approver=None)
    print("created")
except TillError as exc:
    print(f"refused {exc.status}")
"""


@pytest.fixture
def sold():
    company = company_make()
    store, register = store_make(company=company)
    manager = manager_make(store=store)
    session_ensure(register=register, user=manager)
    item = product_make(store=store, price="2.50", stock="100")
    sale, _ = sale_checkout(
        cashier=manager,
        register=register,
        idempotency_key=__import__("uuid").uuid4(),
        fingerprint="f",
        document_type="03",
        customer=None,
        lines=[CartLine(kind="barcode", code=item.product.barcode, quantity=Decimal("3"))],
        payments=[PaymentIn(method="card", amount=Decimal("7.50"))],
    )
    return sale, register, manager


def test_two_processes_returning_the_same_line_never_return_more_than_was_sold(sold):
    sale, register, manager = sold
    with tempfile.TemporaryDirectory() as tmp:
        start = Path(tmp) / "go"
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(start), str(sale.public_id), str(register.pk), manager.username],
                cwd=PROJECT,
                env=worker_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        time.sleep(2.0)  # both have imported Django and loaded their rows
        start.touch()
        outcomes = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err[-3000:]
            outcomes.append(out.strip())
    assert sorted(outcomes) == ["created", "refused 409"], outcomes
    line = SaleLine.objects.get(sale=sale)
    assert line.returned_quantity == Decimal("2") and SaleReturn.objects.count() == 1
    assert sum((r.amount for r in Refund.objects.all()), Decimal("0")) == Decimal("5.00")


def test_many_threads_returning_one_unit_each_return_exactly_what_was_sold(sold):
    sale, register, manager = sold

    def give_back(i: int):
        return sale_return_create(
            user=manager,
            sale=sale,
            register=register,
            reason_code="07",
            reason="x",
            lines=[ReturnLineIn(line=1, quantity=Decimal("1"), restock=True)],
            refunds=[RefundIn(method="card", amount=Decimal("2.50"))],
            approver=None,
        )

    results = run_threads(8, give_back)
    created = [r for r in results if isinstance(r, SaleReturn)]
    refused = [r for r in results if isinstance(r, TillError)]
    assert len(created) == 3 and len(refused) == 5 and all(r.status in (400, 409) for r in refused), results
    assert SaleLine.objects.get(sale=sale).returned_quantity == Decimal("3")
    assert sorted(r.number for r in created) == [1, 2, 3]  # the note series stays gap-free
    assert sum((r.total for r in created), Decimal("0")) == sale.total

"""Managers' PINs under real concurrency: the five-failure lock holds however many guesses
arrive at once (``stores.services.approval_verify`` serializes one username's attempts)."""

from __future__ import annotations

import pytest

from sales.tests.factories import cashier_make, company_make, manager_make, store_make
from stores.models import ApprovalFailure
from stores.services import PIN_MAX_FAILURES, ApprovalError, ApprovalIn, approval_verify

from .test_checkout_concurrency import run_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_guesses_never_check_more_pins_than_the_lock_allows():
    company = company_make()
    store, _ = store_make(company=company)
    manager_make(store=store, username="gerente1", pin="2468")
    cashier = cashier_make(store=store, open_session=False)
    pins = [f"{1000 + i}" for i in range(PIN_MAX_FAILURES + 4)] + ["2468"]  # wrong guesses, then the PIN

    def attempt(i: int) -> object:
        try:
            approval_verify(store=store, actor=cashier, approval=ApprovalIn("gerente1", pins[i]), action="cash.out")
        except ApprovalError as exc:
            return exc.status
        return "granted"

    results = run_threads(len(pins), attempt)
    # More wrong guesses than the lock allows: exactly that many are checked and refused, the rest
    # are locked out; the right PIN is granted only if it ran before the lock closed.
    assert results.count(403) == PIN_MAX_FAILURES, results
    assert results.count(429) == len(pins) - PIN_MAX_FAILURES - results.count("granted"), results
    assert ApprovalFailure.objects.filter(username="gerente1").count() == PIN_MAX_FAILURES

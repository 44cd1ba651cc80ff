"""``register_access`` with a generation caches its answer per process and reuses it only while the
reference generation (stores 0002) stands still: committed changes are seen by the very next call."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bodegapos.generation import GENERATION_SQL, generation_read
from sales.tests.factories import cashier_make, company_make, store_make
from stores import selectors
from stores.models import Company, Membership, Register
from stores.selectors import NotFound, register_access

pytestmark = pytest.mark.django_db(transaction=True)  # the cache is used outside transactions only


@pytest.fixture(autouse=True)
def _empty_cache():
    selectors._REGISTERS.clear()
    yield
    selectors._REGISTERS.clear()


@pytest.fixture
def till():
    company = company_make()
    store, register = store_make(company=company)
    return cashier_make(store=store), register


def _access(user, code=None):
    """``register_access`` as the checkout calls it (generation first) and the statements it ran."""
    with CaptureQueriesContext(connection) as queries:
        register = register_access(user=user, code=code, generation=generation_read())
    return register, [q["sql"] for q in queries.captured_queries]


def test_a_repeated_call_runs_one_single_row_query_and_returns_a_copy(till):
    cashier, register = till
    first, statements = _access(cashier)
    assert first.pk == register.pk and any("stores_membership" in sql for sql in statements)
    again, statements = _access(cashier)
    assert statements == [GENERATION_SQL]
    assert again.pk == register.pk and again is not first
    assert again.store.code == first.store.code and again.company.ruc == first.company.ruc
    again.code = "CAMBIADO"  # a caller's changes stay in its copy
    assert _access(cashier)[0].code == "CAJA1"


def test_a_removed_membership_is_refused_on_the_next_call(till):
    cashier, _ = till
    _access(cashier)
    Membership.objects.filter(user=cashier).delete()
    with pytest.raises(NotFound):
        _access(cashier)


def test_edited_company_data_reach_the_next_call(till):
    cashier, register = till
    _access(cashier, "CAJA1")
    Company.objects.filter(pk=register.company_id).update(address="Av. Nueva 456")  # no save(), no signal
    assert _access(cashier, "CAJA1")[0].company.address == "Av. Nueva 456"


def test_a_second_register_makes_the_implicit_one_ambiguous(till):
    cashier, register = till
    _access(cashier)
    Register.objects.create(company_id=register.company_id, store_id=register.store_id, code="CAJA2")
    with pytest.raises(NotFound):
        _access(cashier)


def test_inside_a_transaction_nothing_is_reused_nor_kept(till):
    cashier, _ = till
    with transaction.atomic():
        for _ in range(2):
            _, statements = _access(cashier)
            assert any("stores_membership" in sql for sql in statements)
    assert selectors._REGISTERS._entries == {}


def test_without_a_generation_the_query_always_runs(till):
    cashier, _ = till
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            register_access(user=cashier, code=None)
        assert any("stores_membership" in q["sql"] for q in queries.captured_queries)


def test_cashiers_of_two_stores_with_the_same_register_code_each_get_their_own(till):
    cashier_a, register_a = till
    store_b, register_b = store_make(company=register_a.company, code="0001", n=2)
    cashier_b = cashier_make(store=store_b)
    for _ in range(2):  # the second round comes from the cache
        assert _access(cashier_a, "CAJA1")[0].pk == register_a.pk
        assert _access(cashier_b, "CAJA1")[0].pk == register_b.pk
    with pytest.raises(NotFound):  # not theirs: no cached answer of another cashier serves it
        _access(cashier_b, "0000/CAJA1")

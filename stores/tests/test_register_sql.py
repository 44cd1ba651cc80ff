"""``register_access`` reads the till's register with one cursor ``SELECT`` that writes the tenancy
rule in SQL; the ``QuerySet`` path (``register_list_for_user``) is the rule's other spelling. Over
every kind of user (cashier, manager of two stores reusing a register code, company admin,
superuser, stranger, signed out) and every way of naming a register (none, a code, store/code,
codes of another company, of an inactive register, store or company), both must give the same
register or the same refusal."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from sales.tests.factories import company_make, store_make
from stores import selectors
from stores.models import Membership, Register, Role

pytestmark = pytest.mark.django_db


def _answer(fn, **kwargs):
    try:
        register = fn(**kwargs)
    except selectors.RegisterInactive as exc:
        return ("inactive", exc.message)
    except selectors.NotFound:
        return ("not found",)
    return ("register", register.pk, register.store.pk, register.company.pk, register.store.code)


def _by_queryset(*, user, code):
    found = selectors._register_find(user=user, code=code)
    reason = selectors.register_inactive_reason(found)
    if reason:
        raise selectors.RegisterInactive(reason)
    return found


@pytest.fixture
def chain():
    User = get_user_model()
    a, b = company_make(ruc="20000000001"), company_make(ruc="20100066603", name="Otra S.A.C.")
    a1, _ = store_make(company=a, code="0001", n=1)
    a2, _ = store_make(company=a, code="0002", n=2)
    a3, a3_register = store_make(company=a, code="0003", n=3)
    b1, _ = store_make(company=b, code="0001", n=4)
    Register.objects.create(company=a, store=a1, code="CAJA2", is_active=False)
    a3_register.is_active = False
    a3_register.save()
    a2.is_active = False
    a2.save()
    users = {
        "cashier": User.objects.create_user("c1", password="x"),
        "two stores": User.objects.create_user("m1", password="x"),
        "admin": User.objects.create_user("ad", password="x"),
        "other company": User.objects.create_user("cb", password="x"),
        "stranger": User.objects.create_user("st", password="x"),
        "superuser": User.objects.create_superuser("su", password="x"),
        "inactive only": User.objects.create_user("c3", password="x"),
    }
    Membership.objects.create(user=users["cashier"], company=a, store=a1, role=Role.CASHIER)
    Membership.objects.create(user=users["two stores"], company=a, store=a1, role=Role.STORE_MANAGER)
    Membership.objects.create(user=users["two stores"], company=a, store=a2, role=Role.STORE_MANAGER)
    Membership.objects.create(user=users["admin"], company=a, store=None, role=Role.COMPANY_ADMIN)
    Membership.objects.create(user=users["other company"], company=b, store=b1, role=Role.CASHIER)
    Membership.objects.create(user=users["inactive only"], company=a, store=a3, role=Role.CASHIER)
    users["signed out"] = AnonymousUser()
    return users


CODES = [None, "CAJA1", "CAJA2", "CAJA9", "0001/CAJA1", "0002/CAJA1", "0003/CAJA1", "0009/CAJA1", "/CAJA1"]


def _candidates_by_queryset(*, user, code):
    registers = selectors.register_list_for_user(user=user, active=not code)
    if code:
        store_code, _, register_code = code.rpartition("/")
        registers = registers.filter(code=register_code)
        if store_code:
            registers = registers.filter(store__code=store_code)
    return set(registers.values_list("pk", flat=True))


def test_the_sql_finds_what_the_queryset_finds(chain):
    for who, user in chain.items():
        if not user.is_authenticated:
            continue
        for code in CODES:
            found = selectors._register_select(user=user, code=code)
            candidates = _candidates_by_queryset(user=user, code=code)
            # At most two (one register or "several"), all of them the QuerySet's.
            assert len(found) == min(2, len(candidates)), (who, code)
            assert {r.pk for r in found} <= candidates, (who, code)
            for register in found:  # built whole, with its store and company
                assert register.store.pk == register.store_id and register.company.pk == register.company_id


def test_the_sql_and_the_queryset_give_the_same_register_or_refusal(chain):
    answers = {}
    for who, user in chain.items():
        for code in CODES:
            expected = _answer(_by_queryset, user=user, code=code)
            assert _answer(selectors.register_access, user=user, code=code) == expected, (who, code)
            answers[(who, code)] = expected
    # The matrix covers every outcome (a test of equal answers that are all "not found" proves little).
    kinds = {answer[0] for answer in answers.values()}
    assert kinds == {"register", "inactive", "not found"}
    assert answers[("cashier", None)][0] == "register"
    assert answers[("two stores", "CAJA1")] == ("not found",)  # two stores reuse the code
    assert answers[("two stores", "0002/CAJA1")][0] == "inactive"
    assert answers[("other company", "0002/CAJA1")] == ("not found",)
    assert answers[("inactive only", None)][0] == "inactive"

import pytest

from sales.tests.factories import cashier_make, company_make, store_make


@pytest.fixture
def company(db):
    return company_make()


@pytest.fixture
def store_register(company):
    return store_make(company=company, code="0000", n=1)


@pytest.fixture
def store(store_register):
    return store_register[0]


@pytest.fixture
def register(store_register):
    return store_register[1]


@pytest.fixture
def cashier(store):
    return cashier_make(store=store)


@pytest.fixture
def other_store(company):
    return store_make(company=company, code="0001", n=2)[0]

"""Fixtures of the worker tests: a company and a store."""

from __future__ import annotations

import pytest

from .factories import company_create, store_create


@pytest.fixture
def company(db):
    return company_create()


@pytest.fixture
def store(company):
    return store_create(company)

"""Project-wide pytest setup: the embedded PostgreSQL is started by the test settings."""

import os

import pytest

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

# The SUNAT double as a fixture (`fake_sunat`) for every app's tests.
pytest_plugins = ["sunat.fake.fixtures"]


@pytest.fixture(autouse=True)
def _data_migration_rows(request):
    """A transactional test flushes every table when it ends, the rows data migrations wrote
    included (sales 0002's ICBPER rates): put them back before each such test, so that no test
    depends on running before one (pytest-django runs the transactional tests last)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        request.getfixturevalue("transactional_db")
        from importlib import import_module

        from django.apps import apps

        import_module("sales.migrations.0002_icbper_rates").add_rates(apps, None)
    yield

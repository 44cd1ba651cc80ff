"""The pool's borrow check (ops.postgresql): no query for a healthy connection; a connection
the server closed is replaced before it is lent, so the request that borrows it does not fail."""

from __future__ import annotations

import time

import pytest
from django.db import connections
from psycopg_pool import ConnectionPool

ALIAS = "poolcheck"


def _register_one_connection_alias() -> None:
    """A mirror of ``default`` whose pool holds one connection, so every borrow gets the same one."""
    base = connections.settings["default"]
    connections.settings[ALIAS] = {
        **base,
        "OPTIONS": {**base["OPTIONS"], "pool": {**base["OPTIONS"]["pool"], "min_size": 0, "max_size": 1}},
        "TEST": {**base.get("TEST", {}), "MIRROR": "default"},
    }


_register_one_connection_alias()


def _backend_pid() -> int:
    """Borrow the alias's connection, ask for its server process, give it back to the pool."""
    try:
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    finally:
        connections[ALIAS].close()


@pytest.fixture
def one_connection_pool():
    yield
    connections[ALIAS].close_pool()  # its connection would keep the test database from being dropped


@pytest.mark.django_db(transaction=True, databases=["default", ALIAS])
def test_a_connection_the_server_closed_is_replaced_before_it_is_lent(one_connection_pool, monkeypatch):
    assert connections[ALIAS].pool is not None
    checked = []
    round_trip_check = ConnectionPool.check_connection
    monkeypatch.setattr(
        ConnectionPool, "check_connection", staticmethod(lambda conn: (checked.append(conn), round_trip_check(conn))[1])
    )

    pid = _backend_pid()
    assert _backend_pid() == pid
    assert checked == []  # a healthy connection is lent again without a check query

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)

    replacement = _backend_pid()  # would raise "terminating connection" without the check
    assert replacement != pid
    assert len(checked) == 1

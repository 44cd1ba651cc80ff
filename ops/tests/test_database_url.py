from __future__ import annotations

import pytest

from bodegapos.settings.database import DatabaseUrlError, database_config


def test_seed_parameters_are_translated_not_passed_to_libpq():
    config = database_config(
        "postgresql://u:p@db:5432/bodega?connection_limit=10&pool_timeout=20&connect_timeout=10&sslmode=require"
    )
    pool = config["OPTIONS"]["pool"]
    assert pool["max_size"] == 10 and pool["timeout"] == 20.0
    assert config["OPTIONS"]["connect_timeout"] == 10
    assert config["OPTIONS"]["sslmode"] == "require"
    for key in ("connection_limit", "pool_timeout", "pgbouncer"):
        assert key not in config["OPTIONS"]
    assert config["CONN_MAX_AGE"] == 0
    assert config["ENGINE"] == "ops.postgresql"  # the pool checks a lent connection without a query
    assert config["PGBOUNCER"] is False and not config["DISABLE_SERVER_SIDE_CURSORS"]
    # Direct: parameters bound on the server, statements prepared after a few runs.
    assert config["OPTIONS"]["server_side_binding"] is True
    assert config["OPTIONS"]["prepare_threshold"] == 5


def test_defaults():
    config = database_config("postgres://u@h/db")
    assert config["OPTIONS"]["pool"]["max_size"] == 10
    assert config["OPTIONS"]["pool"]["timeout"] == 20.0
    assert config["OPTIONS"]["connect_timeout"] == 10


def test_unix_socket_host_passes_through():
    config = database_config("postgresql://postgres@/bodegapos?host=/run/pg&connection_limit=3")
    assert config["OPTIONS"]["pool"]["max_size"] == 3
    assert "/run/pg" in (config.get("HOST", "") + str(config["OPTIONS"].get("host", "")))


@pytest.mark.parametrize(
    "url, message",
    [
        ("", "vacío"),
        ("mysql://u@h/db", "postgres"),
        ("postgresql://u@h/db?connection_limit=abc", "connection_limit"),
        ("postgresql://u@h/db?pool_timeout=0", "pool_timeout"),
        ("postgresql://u@h/db?connect_timeout=-1", "connect_timeout"),
    ],
)
def test_bad_urls_say_what_is_wrong(url, message):
    with pytest.raises(DatabaseUrlError, match=message):
        database_config(url)


@pytest.mark.django_db
def test_a_repeated_query_is_prepared_once_on_a_direct_connection():
    from django.contrib.auth import get_user_model
    from django.db import connection

    if connection.settings_dict.get("PGBOUNCER"):
        pytest.skip("the suite's default database is reached through PgBouncer: nothing is prepared there")
    users = get_user_model().objects
    for _ in range(6):  # PREPARE_THRESHOLD (5) runs, then the prepared statement serves the 6th
        list(users.filter(username="nadie-prepara"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any('"auth_user"."username" = $1' in s for s in statements), statements

"""Translate a seed-style ``DATABASE_URL`` into Django's ``DATABASES`` entry.

The seed (Prisma) put pool settings in the URL's query string. django-environ would hand
unknown query parameters to libpq verbatim (``invalid connection option
"connection_limit"``), so we strip ours first and map them to Django's native psycopg pool:

==================  ===============================================================
``connection_limit``  pool ``max_size`` per process (default 10)
``pool_timeout``      seconds a request waits for a pooled connection (default 20)
``connect_timeout``   libpq connect timeout in seconds (default 10)
``pgbouncer=true``    transaction-pooling mode: no server-side cursors, no LISTEN, no
                      prepared statements
==================  ===============================================================

Direct connections bind parameters on the server and let psycopg prepare a statement once it has
run ``PREPARE_THRESHOLD`` times on a connection (as Prisma does unless ``pgbouncer=true``): a
checkout's statements are planned once per pooled connection instead of on every sale. PgBouncer
in transaction mode (1.18, Debian 12's) hands each transaction a different server connection,
where a named prepared statement does not exist, so there Django's default stays: parameters
inlined on the client, nothing prepared.

Every other query parameter (``sslmode``, ``host`` for a Unix socket, ``application_name``)
passes through to libpq unchanged. The engine is :mod:`ops.postgresql` (Django's, whose pool
checks a connection it lends without a round trip).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ

SEED_PARAMS = ("connection_limit", "pool_timeout", "connect_timeout", "pgbouncer")
PREPARE_THRESHOLD = 5  # psycopg's own default


class DatabaseUrlError(ValueError):
    """The URL cannot be used; the message names the bad part."""


def _split_seed_params(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    kept: list[tuple[str, str]] = []
    seed: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in SEED_PARAMS:
            seed[key] = value
        else:
            kept.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), seed


def _positive(seed: dict[str, str], key: str, default: float, cast: type) -> Any:
    raw = seed.get(key)
    if raw is None or raw == "":
        return cast(default)
    try:
        value = cast(raw)
    except ValueError:
        raise DatabaseUrlError(f"DATABASE_URL: {key}={raw!r} no es un número válido") from None
    if value <= 0:
        raise DatabaseUrlError(f"DATABASE_URL: {key} debe ser mayor que cero")
    return value


def database_config(
    url: str, *, pool_min_size: int = 1, pool: bool = True, connect_timeout_default: int = 10
) -> dict[str, Any]:
    """Return a ``DATABASES["default"]`` dict for ``url`` with the native pool configured.

    ``CONN_MAX_AGE`` is 0 because Django requires it with ``OPTIONS["pool"]``; the pool, not
    persistent connections, keeps connections warm. The returned dict carries the private key
    ``PGBOUNCER`` so that code which needs a session (LISTEN) can refuse to use this alias.

    ``pool=False`` (the reports' replica): no pool, one connection per request, so a replica that
    went down fails the next request's connect at once instead of after ``pool_timeout``.
    """
    if not url:
        raise DatabaseUrlError("DATABASE_URL está vacío")
    clean_url, seed = _split_seed_params(url)
    config = environ.Env.db_url_config(clean_url)
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise DatabaseUrlError("DATABASE_URL debe ser una URL postgres:// o postgresql://")

    limit = _positive(seed, "connection_limit", 10, int)
    pool_timeout = _positive(seed, "pool_timeout", 20, float)
    connect_timeout = _positive(seed, "connect_timeout", connect_timeout_default, int)
    pgbouncer = seed.get("pgbouncer", "false").lower() in ("1", "true", "yes")

    options = dict(config.get("OPTIONS", {}))
    options["connect_timeout"] = connect_timeout
    if not pgbouncer:
        options["server_side_binding"] = True
        options["prepare_threshold"] = PREPARE_THRESHOLD
    if pool:
        options["pool"] = {
            "min_size": min(pool_min_size, limit),
            "max_size": limit,
            "timeout": pool_timeout,
            "max_idle": 300,
            "max_lifetime": 1800,
        }
    config.update(
        ENGINE="ops.postgresql",  # Django's, with a pool check without a round trip
        OPTIONS=options,
        CONN_MAX_AGE=0,
        CONN_HEALTH_CHECKS=False,  # the engine's pool checks each connection it lends
        ATOMIC_REQUESTS=False,
        DISABLE_SERVER_SIDE_CURSORS=pgbouncer,
        PGBOUNCER=pgbouncer,
    )
    return config

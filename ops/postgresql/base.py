"""Django's PostgreSQL backend, with a borrow check for the native pool that costs no round trip.

``ENGINE = "ops.postgresql"`` (set by :func:`bodegapos.settings.database.database_config`). The only
difference from ``django.db.backends.postgresql``: the pool checks a connection it lends with
:func:`connection_check`. Django passes psycopg's ``ConnectionPool.check_connection`` when
``CONN_HEALTH_CHECKS`` is on (an empty query: one round trip on every borrow, i.e. on every
request, 1 of a checkout's 17) and no check at all when it is off (a request after a database or
PgBouncer restart fails on a dead connection); it has no way to pass another one. So
``CONN_HEALTH_CHECKS`` means nothing here.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def connection_check(conn: psycopg.Connection) -> None:
    """Raise if the pooled ``conn`` is unusable, so that the pool replaces it before lending it.

    An idle connection's socket has nothing to read unless the server (or PgBouncer) spoke first:
    a restart, ``pg_terminate_backend``, an idle timeout or a bouncer restart leave an error
    message or end-of-file there. A zero-timeout ``poll`` of the socket therefore decides: nothing
    to read means usable (the common case, no round trip); anything to read, or a hang-up, gets
    psycopg's own check, which raises on a dead connection.
    """
    if conn.closed:
        raise psycopg.OperationalError("the pooled connection is closed")
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        ConnectionPool.check_connection(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool | None:
        options = self.settings_dict["OPTIONS"].get("pool")
        if options and self.alias != NO_DB_ALIAS and self.alias not in self._connection_pools:
            if options is True:
                options = {}
            kwargs = self.get_connection_params()
            kwargs["autocommit"] = True  # as Django's pool: Django sets it per use
            pool = ConnectionPool(
                kwargs=kwargs, open=False, configure=self._configure_connection, check=connection_check, **options
            )
            self._connection_pools.setdefault(self.alias, pool)  # as Django: the first thread's wins
        return super().pool

"""Where the reports read: the ``reports`` database alias (``REPORTS_DATABASE_URL``, a streaming
read replica) while it answers, the primary (``default``) otherwise.

:class:`ReportsRouter` (``DATABASE_ROUTERS``) sends a read to the alias that
:func:`reports_reading` has set for the code running inside it, and every other read and every
write to ``default``: only the reports' reads ever reach the replica, and nothing is written or
migrated there. ``reports_reading`` first asks the replica how fresh it is
(``pg_last_xact_replay_timestamp()``); when it does not answer (down, not reachable, not a
replica) the reports read the primary and the page says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPORTS_ALIAS = "reports"
REPLICA_DOWN = "La réplica de reportes no responde: se muestran los datos de la base principal."
NOT_A_REPLICA = "REPORTS_DATABASE_URL no apunta a una réplica: se muestran los datos de la base principal."

logger = logging.getLogger(__name__)
_reading: ContextVar[str | None] = ContextVar("reports_reading", default=None)


class ReportsRouter:
    """Reads inside :func:`reports_reading` go to its alias; everything else is Django's default."""

    def db_for_read(self, model, **hints) -> str | None:
        return _reading.get()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool | None:
        return False if db == REPORTS_ALIAS else None


@dataclass(frozen=True)
class ReportSource:
    """Which database a report was read from, and how fresh that data is."""

    alias: str
    replica: bool  # True: the reports alias answered, as a server in recovery
    replayed_at: datetime | None  # the last transaction the replica replayed (None on the primary)
    lag_seconds: float | None  # now − replayed_at on the replica's clock (grows while the primary is idle)
    caught_up: bool | None  # the replica has replayed everything it received
    warning: str | None  # Spanish, for the page: why the primary is being read

    @property
    def label(self) -> str:
        return "réplica" if self.replica else "base principal"


def reports_replica_configured() -> bool:
    return REPORTS_ALIAS in settings.DATABASES


def report_source_probe() -> ReportSource:
    """Ask the reports alias whether it is up and how far it has replayed: one round trip. Any
    database error (down, refused, timeout) closes that connection and answers with the
    primary, and a warning."""
    if not reports_replica_configured():
        return ReportSource(DEFAULT_DB_ALIAS, False, None, None, None, None)
    connection = connections[REPORTS_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp(),"
                " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()),"
                " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()"
            )
            in_recovery, replayed_at, lag, caught_up = cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("reports replica unavailable", extra={"error": str(exc)[:200]})
        try:
            connection.close()
        except DatabaseError:  # pragma: no cover - closing a broken connection
            pass
        return ReportSource(DEFAULT_DB_ALIAS, False, None, None, None, REPLICA_DOWN)
    if not in_recovery:
        return ReportSource(DEFAULT_DB_ALIAS, False, None, None, None, NOT_A_REPLICA)
    return ReportSource(
        REPORTS_ALIAS, True, replayed_at, float(lag) if lag is not None else None, bool(caught_up), None
    )


@contextmanager
def reports_reading(source: ReportSource | None = None) -> Iterator[ReportSource]:
    """Run the block's reads against the reports' database (probed now unless ``source`` is given)."""
    source = source or report_source_probe()
    token = _reading.set(source.alias)
    try:
        yield source
    finally:
        _reading.reset(token)

"""LISTEN/NOTIFY wake-up on a dedicated, direct (never PgBouncer) psycopg connection.

Every insert of a pending job fires the ``sunat_jobs_notify`` trigger (``pg_notify('sunat_jobs',
company_id)``) in the enqueuing transaction, so the notification arrives after the commit. The listener only sets an
``Event``: any number of notifications between two claims coalesce into one wake-up, and the
claim itself still decides what runs (notifications carry no job data). Polling stays the
safety net; behind PgBouncer in transaction mode without ``DIRECT_URL`` there is no listener.
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import structlog
from django.conf import settings
from django.db import connections

from sunat.services import NOTIFY_CHANNEL

log = structlog.get_logger("worker.listen")

_SEED_PARAMS = ("connection_limit", "pool_timeout", "connect_timeout", "pgbouncer")


def listen_conninfo() -> str | dict | None:
    """Where to LISTEN: ``DIRECT_URL``, or the default database when it is not PgBouncer.

    Returns a URL, a dict of connection keywords, or ``None`` (poll only).
    """
    direct = getattr(settings, "DIRECT_URL", "") or ""
    if direct:
        parts = urlsplit(direct)
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _SEED_PARAMS]
        return urlunsplit(parts._replace(query=urlencode(kept)))
    db = settings.DATABASES["default"]
    if db.get("PGBOUNCER"):
        return None
    return default_connection_params()


def default_connection_params() -> dict:
    """psycopg.connect() keywords for the default database, without Django's pool options."""
    params = dict(connections["default"].get_connection_params())
    for key in ("cursor_factory", "context", "prepare_threshold", "pool", "server_side_binding", "isolation_level"):
        params.pop(key, None)
    return params


class Listener(threading.Thread):
    """A daemon thread that LISTENs on ``sunat_jobs`` and sets ``wake`` on every notification.

    It reconnects after a lost connection (polling covers the gap) and stops when ``stop`` is
    set. ``connected`` is true while LISTEN is active.
    """

    def __init__(self, *, conninfo: str | dict, wake: threading.Event, stop: threading.Event) -> None:
        super().__init__(name="sunat-listen", daemon=True)
        self.conninfo = conninfo
        self.wake = wake
        self.stop = stop
        self.connected = threading.Event()
        self.notifications = 0

    def _connect(self) -> psycopg.Connection:
        if isinstance(self.conninfo, dict):
            params = dict(self.conninfo)
            params.setdefault("connect_timeout", 10)
            return psycopg.connect(autocommit=True, **params)
        return psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.connected.set()
                    log.info("worker.listen.connected", channel=NOTIFY_CHANNEL)
                    # A notification may have been sent before LISTEN took effect: wake once.
                    self.wake.set()
                    while not self.stop.is_set():
                        for _notify in conn.notifies(timeout=1.0):
                            self.notifications += 1
                            self.wake.set()
            except psycopg.Error as exc:
                log.warning("worker.listen.lost", error=str(exc).strip().splitlines()[0] if str(exc) else repr(exc))
            finally:
                self.connected.clear()
            self.stop.wait(3.0)

"""Answering a request the database cannot serve with a fast 503 instead of a 500.

Two causes, one answer (``503`` with ``Retry-After``; ``{"errors": {"database": [message]}}`` for
the API and JSON callers, the Spanish ``503.html`` page otherwise):

* the pool had no connection to lend within ``pool_timeout`` (:func:`is_pool_exhausted`);
* the database went away under the request — a crash, a failover, a restart, the server
  refusing connections (:func:`is_database_unavailable`);
* the database gave up on a statement that the same request, sent again, may pass — a
  statement or lock timeout, a deadlock, a serialization failure (:func:`is_database_transient`).
  The statement's transaction rolled back and a retry with the same idempotency key is safe; the
  error is still logged at ERROR (and so reaches Sentry): a deadlock is a bug in lock order to fix.
  A write refused by a server a failover has just made a standby (``read_only_sql_transaction``)
  is an outage of the primary, not a retry that may pass: it answers as a lost database.

``ops.middleware.RequestContextMiddleware.process_exception`` answers errors raised in views;
``ops.views.server_error`` (``handler500``) those raised elsewhere (middleware saving a session).
"""

from __future__ import annotations

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

log = structlog.get_logger("ops.db")

POOL_MESSAGE = "El servicio está ocupado. Intenta de nuevo en unos segundos."
TRANSIENT_MESSAGE = "La base de datos no pudo completar la operación. Intenta de nuevo en unos segundos."
DATABASE_MESSAGE = "La base de datos no está disponible en este momento. Intenta de nuevo en unos segundos."
# A failover or a restart takes seconds; clients retry after this many.
DATABASE_RETRY_AFTER = 5
# SQLSTATEs that mean "this server cannot serve you now", beside class 08 (connection exception):
# admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}
# read_only_sql_transaction: a write reaching a server that a failover demoted to standby.
_DEMOTED_SQLSTATE = "25006"
# serialization_failure, deadlock_detected, lock_not_available, query_canceled (statement_timeout).
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014"}
TRANSIENT_RETRY_AFTER = 1


def _chain(exc: BaseException | None):
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc = exc.__cause__ or exc.__context__
        seen += 1


def is_pool_exhausted(exc: BaseException | None) -> bool:
    """True when ``exc`` (or its cause chain) is psycopg_pool's ``PoolTimeout``.

    Django wraps it as ``django.db.utils.OperationalError("couldn't get a connection after N
    sec")``; both the wrapped and the raw forms are recognised.
    """
    from psycopg_pool import PoolTimeout, TooManyRequests

    return any(
        isinstance(e, (PoolTimeout, TooManyRequests)) or "couldn't get a connection" in str(e) for e in _chain(exc)
    )


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True when ``exc`` (or its cause chain) says the connection to PostgreSQL is gone or refused.

    psycopg raises ``OperationalError`` without a SQLSTATE when the socket dies mid-statement
    ("server closed the connection unexpectedly", "consuming input failed") or a connection is
    refused, ``InterfaceError`` on a connection already closed, and a SQLSTATE of class 08 or one
    of :data:`_UNAVAILABLE_SQLSTATES` when the server says so, and a write refused by a demoted
    primary (:data:`_DEMOTED_SQLSTATE`). A statement the server gave up on is not an outage
    (:func:`is_database_transient`).
    """
    import psycopg
    from django.db import utils

    for e in _chain(exc):
        if isinstance(e, psycopg.InterfaceError) or getattr(e, "sqlstate", None) == _DEMOTED_SQLSTATE:
            return True
        if isinstance(e, psycopg.OperationalError):
            sqlstate = getattr(e, "sqlstate", None)
            return sqlstate is None or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
        if isinstance(e, utils.InterfaceError) and e.__cause__ is None:
            return True  # Django's own "connection already closed"
    return False


def transient_sqlstate(exc: BaseException | None) -> str | None:
    """The SQLSTATE of :data:`_TRANSIENT_SQLSTATES` that ``exc`` (or its cause chain) carries."""
    return next((e.sqlstate for e in _chain(exc) if getattr(e, "sqlstate", None) in _TRANSIENT_SQLSTATES), None)


def is_database_transient(exc: BaseException | None) -> bool:
    """True when the database gave up on the statement behind ``exc`` (:func:`transient_sqlstate`)."""
    return transient_sqlstate(exc) is not None


def wants_json(request: HttpRequest) -> bool:
    """Whether an error answer to ``request`` is JSON (the API, or a caller asking for JSON)
    rather than a page."""
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def retry_after_seconds() -> int:
    try:
        timeout = float(settings.DATABASES["default"]["OPTIONS"]["pool"]["timeout"])
    except (KeyError, TypeError, ValueError):
        timeout = 5.0
    return max(1, min(30, int(timeout)))


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """The 503 for ``exc`` when it is a pool timeout, a lost database or a statement the database
    gave up on, else ``None``."""
    from ops import metrics

    if is_pool_exhausted(exc):
        metrics.POOL_EXHAUSTED.inc()
        log.warning("db_pool_exhausted", path=request.path, error=str(exc)[:200])
        message, retry_after, title = POOL_MESSAGE, retry_after_seconds(), "Servicio ocupado"
    elif is_database_unavailable(exc):
        log.error("db_unavailable", path=request.path, error=type(exc).__name__, detail=str(exc).strip()[:200])
        message, retry_after, title = DATABASE_MESSAGE, DATABASE_RETRY_AFTER, "Servicio no disponible"
    elif is_database_transient(exc):
        log.error(
            "db_statement_failed", path=request.path, sqlstate=transient_sqlstate(exc), detail=str(exc).strip()[:200]
        )
        message, retry_after, title = TRANSIENT_MESSAGE, TRANSIENT_RETRY_AFTER, "Intente de nuevo"
    else:
        return None
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"errors": {"database": [message]}}, status=503, json_dumps_params={"ensure_ascii": False}
        )
    else:
        # No request context: the page must render without the session or the user (no database).
        body = render_to_string("503.html", {"title": title, "message": message, "retry_after": retry_after})
        response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    add_never_cache_headers(response)
    return response

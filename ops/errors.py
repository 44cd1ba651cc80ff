"""Recognising an exhausted connection pool and answering it with a fast 503."""

from __future__ import annotations

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

log = structlog.get_logger("ops.db")

POOL_MESSAGE = "El servicio está ocupado. Intenta de nuevo en unos segundos."


def is_pool_exhausted(exc: BaseException | None) -> bool:
    """True when ``exc`` (or its cause chain) is psycopg_pool's ``PoolTimeout``.

    Django wraps it as ``django.db.utils.OperationalError("couldn't get a connection after N
    sec")``; both the wrapped and the raw forms are recognised.
    """
    from psycopg_pool import PoolTimeout, TooManyRequests

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (PoolTimeout, TooManyRequests)):
            return True
        if "couldn't get a connection" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def retry_after_seconds() -> int:
    try:
        timeout = float(settings.DATABASES["default"]["OPTIONS"]["pool"]["timeout"])
    except (KeyError, TypeError, ValueError):
        timeout = 5.0
    return max(1, min(30, int(timeout)))


def pool_exhausted_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 with ``Retry-After``; JSON for the API and JSON callers, a short page otherwise."""
    from ops import metrics

    metrics.POOL_EXHAUSTED.inc()
    log.warning("db_pool_exhausted", path=request.path, error=str(exc)[:200])
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"detail": POOL_MESSAGE}, status=503)
    else:
        response = HttpResponse(
            f"<!doctype html><html lang=\"es\"><title>Servicio ocupado</title><p>{POOL_MESSAGE}</p></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after_seconds())
    add_never_cache_headers(response)
    return response

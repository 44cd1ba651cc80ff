"""Operations endpoints: ``/health``, ``/metrics`` and the 500 handler (thin views)."""

from __future__ import annotations

import hmac
import sys

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from ops import health
from ops.errors import is_pool_exhausted, pool_exhausted_response


@require_GET
def health_view(request: HttpRequest) -> HttpResponse:
    """Liveness without ``deep``; the deep check with ``deep=true`` (503 only when down)."""
    if request.GET.get("deep", "").lower() not in ("1", "true", "yes"):
        response = JsonResponse({"status": "ok"})
    else:
        status, checks = health.health_deep()
        response = JsonResponse({"status": status, "checks": checks}, status=503 if status == health.DOWN else 200)
    add_never_cache_headers(response)
    return response


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text; with ``METRICS_TOKEN`` set it wants ``Authorization: Bearer <token>``."""
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = JsonResponse({"detail": "Token de métricas inválido o ausente."}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    from ops.metrics import metrics_payload

    body, content_type = metrics_payload()
    response = HttpResponse(body, content_type=content_type)
    add_never_cache_headers(response)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an exhausted pool becomes a 503 with ``Retry-After``; anything else a
    plain 500 page (JSON under ``/api/``)."""
    exc = sys.exc_info()[1]
    if is_pool_exhausted(exc):
        return pool_exhausted_response(request, exc)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Error interno del servidor."}, status=500)
    return HttpResponse(
        '<!doctype html><html lang="es"><title>Error</title><p>Error interno del servidor.</p></html>',
        status=500,
        content_type="text/html; charset=utf-8",
    )

"""Operations endpoints: ``/health``, ``/metrics`` and the 500 handler (thin views)."""

from __future__ import annotations

import hmac
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_safe

from ops import health
from ops.errors import unavailable_response, wants_json

TOKEN_MISSING = "Métricas deshabilitadas: defina METRICS_TOKEN y envíe Authorization: Bearer <token>."


def ops_token_state(request: HttpRequest) -> str:
    """Whether ``request`` may read operational details (``/metrics``, deep health's checks).

    ``"ok"``: ``METRICS_TOKEN`` is set and the request carries ``Authorization: Bearer <token>``,
    or no token is set outside production (``METRICS_TOKEN_REQUIRED`` false: development, tests).
    ``"bad"``: a token is set and the request does not carry it. ``"unset"``: production
    (``METRICS_TOKEN_REQUIRED``) without ``METRICS_TOKEN``: nobody may read them.
    """
    token = getattr(settings, "METRICS_TOKEN", "")
    if not token:
        return "unset" if getattr(settings, "METRICS_TOKEN_REQUIRED", False) else "ok"
    given = request.headers.get("Authorization", "")
    return "ok" if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()) else "bad"


@require_safe
def health_view(request: HttpRequest) -> HttpResponse:
    """Liveness without ``deep``; the deep check with ``deep=true`` (503 only when down). ``HEAD``
    answers as ``GET`` does, without the body (monitors that probe with ``HEAD``).

    Everyone gets the deep check's status and status code (all an uptime monitor needs); its
    ``checks`` (RUCs, certificate expiry, queue and worker details) only a caller with the
    metrics token (:func:`ops_token_state`).
    """
    if request.GET.get("deep", "").lower() not in ("1", "true", "yes"):
        response = JsonResponse({"status": "ok"})
    else:
        status, checks = health.health_deep()
        body = {"status": status, "checks": checks} if ops_token_state(request) == "ok" else {"status": status}
        response = JsonResponse(body, status=503 if status == health.DOWN else 200)
    add_never_cache_headers(response)
    return response


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text for a caller with the metrics token (:func:`ops_token_state`): 401 with a
    wrong or missing token, 403 in production while ``METRICS_TOKEN`` is unset."""
    state = ops_token_state(request)
    if state == "unset":
        return JsonResponse({"detail": TOKEN_MISSING}, status=403)
    if state == "bad":
        response = JsonResponse({"detail": "Token de métricas inválido o ausente."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from ops.metrics import metrics_payload

    body, content_type = metrics_payload()
    response = HttpResponse(body, content_type=content_type)
    add_never_cache_headers(response)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an exhausted pool or a lost database becomes a 503 with ``Retry-After``
    (``ops.errors``); anything else a plain 500 page (JSON under ``/api/``)."""
    exc = sys.exc_info()[1]
    if exc is not None and (unavailable := unavailable_response(request, exc)) is not None:
        return unavailable
    if wants_json(request):
        return JsonResponse({"detail": "Error interno del servidor."}, status=500)
    return HttpResponse(
        '<!doctype html><html lang="es"><title>Error</title><p>Error interno del servidor.</p></html>',
        status=500,
        content_type="text/html; charset=utf-8",
    )


TOO_BIG = "La solicitud es demasiado grande."
BAD_REQUEST = "La solicitud no se pudo procesar."


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: what Django refuses before a view can (a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, a disallowed host, a malformed form), answered in Spanish:
    ``{"errors": {"body": [message]}}`` under ``/api/`` or to a JSON caller, the 400 page
    otherwise."""
    message = TOO_BIG if isinstance(exception, RequestDataTooBig) else BAD_REQUEST
    if wants_json(request):
        return JsonResponse({"errors": {"body": [message]}}, status=400, json_dumps_params={"ensure_ascii": False})
    body = render_to_string("400.html", {"message": message})
    return HttpResponse(body, status=400, content_type="text/html; charset=utf-8")

"""JSON API of the till (thin views: parse, call a service or selector, render).

* ``checkout``: ``GET /api/v1/products``, ``POST /api/v1/checkout``;
* ``sessions``: ``/api/v1/sessions…`` (open, current, movements, report, close);
* ``history``: ``GET /api/v1/sales``, ``GET /api/v1/sales/<id>``.

Every view is wrapped by :func:`api_view`: allowed methods, session auth and (for unsafe
methods) CSRF, each failing as JSON; a :class:`~sales.services.errors.TillError` or an
approval error raised by the view becomes its JSON answer (``{"errors": {field: [message]}}``
with its status, and ``Retry-After`` on a 429). A missing session or CSRF token is a 403 JSON
answer here (pages redirect to the login instead).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from sales.services.errors import TillError
from stores.services import ApprovalError

SESSION_REQUIRED = "Inicie sesión para continuar."
CSRF_FAILED = "Falta el token CSRF o no es válido; recargue la página."


def json_response(body: object, *, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def errors_response(errors: dict[str, list[str]], status: int, *, retry_after: int | None = None) -> JsonResponse:
    response = json_response({"errors": errors}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def csrf_passes(request: HttpRequest) -> bool:
    """Django's CSRF check for an API request (a pass is remembered on the request, so a second
    call costs nothing). The body is read first: once the check has parsed a form out of it,
    Django refuses the raw body (``RawPostDataException``) the view then parses."""
    request.body  # noqa: B018 - read and kept by Django for the view
    return CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {}) is None


def api_view(methods: tuple[str, ...]) -> Callable:
    """Allowed methods, session auth and (for unsafe methods) CSRF, each failing as JSON."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = errors_response({"method": [f"Método {request.method} no permitido."]}, 405)
                response["Allow"] = ", ".join(methods)
                return response
            if not request.user.is_authenticated:
                return errors_response({"session": [SESSION_REQUIRED]}, 403)
            if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_passes(request):
                return errors_response({"csrf": [CSRF_FAILED]}, 403)
            try:
                return view(request, *args, **kwargs)
            except TillError as exc:
                return errors_response(exc.errors, exc.status, retry_after=exc.retry_after)
            except ApprovalError as exc:
                return errors_response({"approval": [exc.message]}, exc.status, retry_after=exc.retry_after)

        return wrapper

    return decorate

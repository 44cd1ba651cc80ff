"""Request context, cache headers and fail-fast answers for an exhausted connection pool.

``RequestContextMiddleware`` sits right after ``SecurityMiddleware``:

* honours an incoming ``X-Request-ID`` (when it is a short token of safe characters) or makes
  one, binds it to structlog's context vars together with ``user`` and ``store``, and returns
  it in the ``X-Request-ID`` response header;
* logs one ``request_finished`` line (method, path, status, duration) and feeds the request
  metrics;
* adds ``Cache-Control: no-store`` (Django's never-cache headers) to HTML and ``/api/``
  answers that did not set their own, so no CDN or browser keeps a till page or a sale;
* turns a view's "no pooled connection within pool_timeout" or "the database went away" into a
  503 with ``Retry-After`` instead of a 500 (``ops.errors``; ``ops.views.server_error`` does the
  same for errors raised elsewhere);
* refuses, before any view runs, a query string that carries a NUL character (``%00``) with a
  400 naming the parameter: PostgreSQL's text cannot hold it, so a view passing it to a query
  would fail with a database error instead of a field error. (Form and JSON bodies are checked
  by Django's form fields and ``sales.schemas.common.json_object_load``.)
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.functional import empty

from ops import metrics
from ops.errors import unavailable_response, wants_json
from sales.schemas.common import NUL_REFUSED

log = structlog.get_logger("ops.request")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
REQUEST_ID_HEADER = "X-Request-ID"


def request_id_from(request: HttpRequest) -> str:
    """The caller's ``X-Request-ID`` when it is safe to log, otherwise a new one."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _REQUEST_ID_RE.match(incoming):
        return incoming
    return uuid.uuid4().hex


def _wants_no_store(request: HttpRequest, response: HttpResponse) -> bool:
    if response.has_header("Cache-Control"):
        return False
    if request.path.startswith("/api/"):
        return True
    content_type = response.get("Content-Type", "")
    return content_type.startswith("text/html") or content_type.startswith("application/json")


_QUIET_PREFIXES = ("/static/", "/health", "/metrics")
_STORE_CACHE: dict[int, tuple[float, str | None]] = {}
_STORE_CACHE_SECONDS = 60.0


def _store_label(request: HttpRequest, user_obj: object | None, *, lookup: bool = True) -> str | None:
    """The store a request acts for: ``request.store``/``request.register`` when a view set
    them, else the user's only store (cached per process for a minute), else ``None``."""
    store = getattr(request, "store", None)
    if store is not None:
        return getattr(store, "code", None) or str(getattr(store, "pk", store))
    register = getattr(request, "register", None)
    if register is not None and getattr(register, "store_id", None):
        return str(register.store_id)
    if user_obj is None or getattr(user_obj, "pk", None) is None or request.path.startswith(_QUIET_PREFIXES):
        return None
    now = time.monotonic()
    cached = _STORE_CACHE.get(user_obj.pk)
    if cached and (now - cached[0] < _STORE_CACHE_SECONDS or not lookup):
        return cached[1]
    if not lookup:
        return None
    label: str | None = None
    try:
        from stores.selectors import store_list_for_user

        codes = list(store_list_for_user(user=user_obj).values_list("code", flat=True)[:2])
        label = codes[0] if len(codes) == 1 else None
    except Exception:  # logging context must never break a request
        label = None
    if len(_STORE_CACHE) > 10_000:
        _STORE_CACHE.clear()
    _STORE_CACHE[user_obj.pk] = (now, label)
    return label


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request_id_from(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, user=None, store=None)
        try:
            response = self.get_response(request)
            self._bind_identity(request, lookup=False)
            duration = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request_id
            if _wants_no_store(request, response):
                add_never_cache_headers(response)
            route = metrics.route_label(request)
            metrics.request_observed(
                method=request.method or "", route=route, status=response.status_code, seconds=duration
            )
            if not request.path.startswith(_QUIET_PREFIXES):
                log.info(
                    "request_finished",
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                    duration_ms=round(duration * 1000, 1),
                )
            return response
        finally:
            structlog.contextvars.clear_contextvars()

    def _bind_identity(self, request: HttpRequest, *, lookup: bool = True) -> None:
        # Only read a user the request already resolved (AuthenticationMiddleware's lazy
        # object): never force a session or database lookup just to log.
        user = getattr(request, "user", None)
        wrapped = getattr(user, "_wrapped", user)
        label = None
        user_obj = None
        if wrapped is not None and wrapped is not empty and getattr(wrapped, "is_authenticated", False):
            label = wrapped.get_username()
            user_obj = wrapped
        structlog.contextvars.bind_contextvars(user=label, store=_store_label(request, user_obj, lookup=lookup))

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if "%00" in request.META.get("QUERY_STRING", ""):
            refused = _nul_query_response(request)
            if refused is not None:
                return refused
        if not request.path.startswith(_QUIET_PREFIXES):
            # Resolve the session user now so every line the view logs carries it.
            user = getattr(request, "user", None)
            if user is not None:
                getattr(user, "is_authenticated", None)
        self._bind_identity(request)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return unavailable_response(request, exception)


def _nul_query_response(request: HttpRequest) -> HttpResponse | None:
    """The 400 for a query string holding a NUL character (in a name or a value), else None."""
    fields = sorted(
        {
            "query" if "\x00" in name or not name else name
            for name, values in request.GET.lists()
            if "\x00" in name + "".join(values)
        }
    )
    if not fields:
        return None
    if wants_json(request):
        return JsonResponse(
            {"errors": {name: [NUL_REFUSED] for name in fields}}, status=400, json_dumps_params={"ensure_ascii": False}
        )
    body = render_to_string("400.html", {"message": NUL_REFUSED})
    return HttpResponse(body, status=400, content_type="text/html; charset=utf-8")

"""Rate limits shared by every process: Redis when ``CACHE_URL`` points at Redis, otherwise a
PostgreSQL counter (one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per hit: atomic, and safe
behind PgBouncer in transaction mode).

Windows are fixed (``10/5m`` = at most 10 hits per key in each 5-minute window). Keys are
hashed, so usernames and IPs never land in the table or in Redis in clear.

* ``ratelimit_hit(*, scope, key, rate) -> RateLimitResult`` — count one hit.
* ``ratelimited_response(result, request)`` — the 429 (JSON, Spanish, ``Retry-After``).
* ``checkout_ratelimited`` — decorator for ``POST /api/v1/checkout``, keyed per register.
* ``RateLimitedLoginView`` — Django's ``LoginView`` limited per (client IP, username).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

import structlog

log = structlog.get_logger("ops.ratelimit")

_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MESSAGE = "Demasiadas solicitudes. Intenta de nuevo en {seconds} segundos."


class RateError(ValueError):
    pass


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    hits: int
    limit: int
    retry_after: int  # seconds until the window ends


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/5m"`` → ``(10, 300)``; ``"600/m"`` → ``(600, 60)``."""
    match = _RATE_RE.match(rate or "")
    if not match:
        raise RateError(f"Límite inválido {rate!r}: use N/periodo, p. ej. 10/5m o 600/m")
    count, multiplier, unit = match.groups()
    seconds = int(multiplier or 1) * _UNIT_SECONDS[unit]
    if int(count) <= 0 or seconds <= 0:
        raise RateError(f"Límite inválido {rate!r}")
    return int(count), seconds


def _hashed(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()[:40]


def _uses_redis() -> bool:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return "redis" in backend.lower()


def _hit_redis(hashed: str, limit: int, period: int) -> RateLimitResult:
    from django.core.cache import cache

    now = time.time()
    window = int(now // period) * period
    cache_key = f"rl:{hashed}:{window}"
    cache.add(cache_key, 0, timeout=period + 5)
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=period + 5)
        hits = 1
    retry = max(1, int(window + period - now))
    return RateLimitResult(hits <= limit, hits, limit, retry)


def _hit_postgres(hashed: str, limit: int, period: int) -> RateLimitResult:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH t AS (SELECT extract(epoch FROM now()) AS e)
            INSERT INTO ops_ratelimit (key, window_start, window_seconds, hits)
            SELECT %s, (floor(t.e / %s) * %s)::bigint, %s, 1 FROM t
            ON CONFLICT (key, window_start) DO UPDATE SET hits = ops_ratelimit.hits + 1
            RETURNING hits, ceil(window_start + window_seconds - (SELECT e FROM t))::int
            """,
            [hashed, period, period, period],
        )
        hits, retry = cursor.fetchone()
    return RateLimitResult(hits <= limit, hits, limit, max(1, int(retry)))


def ratelimit_hit(*, scope: str, key: str, rate: str) -> RateLimitResult:
    """Count one hit of ``key`` in ``scope`` against ``rate`` and say whether it is allowed.

    The hit is counted even when refused. Runs in autocommit (its own statement); calling it
    inside a caller's transaction works too but then holds the row lock until that commits.
    """
    limit, period = parse_rate(rate)
    hashed = _hashed(scope, key)
    result = _hit_redis(hashed, limit, period) if _uses_redis() else _hit_postgres(hashed, limit, period)
    if not result.allowed:
        log.warning("rate_limited", scope=scope, hits=result.hits, limit=limit)
    return result


def ratelimit_prune(*, older_than_seconds: int = 86400) -> int:
    """Delete finished windows (PostgreSQL backend). Returns rows removed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM ops_ratelimit WHERE window_start + window_seconds < extract(epoch FROM now()) - %s",
            [older_than_seconds],
        )
        return cursor.rowcount


def ratelimited_response(result: RateLimitResult, request: HttpRequest | None = None) -> HttpResponse:
    response = JsonResponse(
        {"detail": MESSAGE.format(seconds=result.retry_after), "retry_after": result.retry_after}, status=429
    )
    response["Retry-After"] = str(result.retry_after)
    return response


def _trusted(address: str) -> bool:
    trusted = settings.FORWARDED_ALLOW_IPS
    if "*" in trusted:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: HttpRequest) -> str:
    """The address of the client, not of our proxy.

    gunicorn leaves ``REMOTE_ADDR`` as the socket peer (its ``forwarded_allow_ips`` only decides
    whether to believe ``X-Forwarded-Proto``). When the peer is a trusted proxy
    (``FORWARDED_ALLOW_IPS``, the same variable), ``X-Forwarded-For`` is read from the right —
    each proxy appends the address it saw — skipping our own proxies; with ``*`` only the
    nearest proxy is ours, so its entry (the rightmost) is the client.
    """
    peer = request.META.get("REMOTE_ADDR", "") or "-"
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if not forwarded or not _trusted(peer):
        return peer
    if "*" in settings.FORWARDED_ALLOW_IPS:
        return forwarded[-1]
    for address in reversed(forwarded):
        if not _trusted(address):
            return address
    return forwarded[0]


# (user id, register code) -> counter key, per process for a minute: membership changes are rare
# and a stale entry only means the old register's counter is used for up to a minute.
_REGISTER_KEYS: dict[tuple[int, str | None], tuple[float, str]] = {}
_REGISTER_KEY_SECONDS = 60.0


def _checkout_key(request: HttpRequest) -> str:
    """The register the checkout sells from: the body's ``register`` or the cashier's only one,
    resolved within the cashier's stores (so codes of two stores never share a counter)."""
    code = None
    try:
        body = json.loads(request.body or b"{}")
        if isinstance(body, dict) and isinstance(body.get("register"), str):
            code = body["register"][:40]
    except (ValueError, UnicodeDecodeError):
        code = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        cache_key = (user.pk, code)
        now = time.monotonic()
        cached = _REGISTER_KEYS.get(cache_key)
        if cached and now - cached[0] < _REGISTER_KEY_SECONDS:
            return cached[1]
        from stores.selectors import NotFound, register_access

        try:
            key = f"register:{register_access(user=user, code=code).pk}"
        except NotFound:
            key = f"user:{user.pk}:{code or '-'}"
        if len(_REGISTER_KEYS) > 10_000:
            _REGISTER_KEYS.clear()
        _REGISTER_KEYS[cache_key] = (now, key)
        return key
    return f"ip:{client_ip(request)}"


def checkout_ratelimited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Limit a checkout view to ``RATELIMIT_CHECKOUT`` per register (429 past it)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        if request.method == "POST":
            result = ratelimit_hit(scope="checkout", key=_checkout_key(request), rate=settings.RATELIMIT_CHECKOUT)
            if not result.allowed:
                return ratelimited_response(result, request)
        return view(request, *args, **kwargs)

    return wrapper


def login_ratelimit_check(request: HttpRequest) -> HttpResponse | None:
    """Count a login POST against ``RATELIMIT_LOGIN`` per (client IP, username); the 429 answer
    past the limit (the password is then not checked), else ``None``.

    One key for the pair: a whole store behind one NAT address logs in freely, and nobody can
    lock a cashier out from another address by mistyping their password on purpose.
    """
    if request.method != "POST":
        return None
    username = (request.POST.get("username") or "").strip().lower()[:150]
    result = ratelimit_hit(scope="login", key=f"{client_ip(request)}|{username}", rate=settings.RATELIMIT_LOGIN)
    return None if result.allowed else ratelimited_response(result, request)


def login_ratelimited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator for any login view (the admin's): same limits as ``RateLimitedLoginView``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        return login_ratelimit_check(request) or view(request, *args, **kwargs)

    return wrapper


class RateLimitedLoginView(auth_views.LoginView):
    """Django's login view; each POST counts against ``RATELIMIT_LOGIN`` per IP and per
    username. Past either limit it answers 429 without checking the password."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        return login_ratelimit_check(request) or super().post(request, *args, **kwargs)

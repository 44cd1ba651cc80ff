"""Rate limits shared by every process: Redis when ``CACHE_URL`` points at Redis, otherwise a
PostgreSQL counter (one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per hit: atomic, and safe
behind PgBouncer in transaction mode).

Windows are fixed (``10/5m`` = at most 10 hits per key in each 5-minute window). Keys are
hashed, so usernames and IPs never land in the table or in Redis in clear.

* ``ratelimit_hit(*, scope, key, rate) -> RateLimitResult`` — count one hit.
* ``ratelimit_release(*, result)`` — take back a hit (a sign-in that succeeded or was refused).
* ``ratelimited_response(result, request)`` — the 429 (JSON, Spanish, ``Retry-After``).
* ``checkout_ratelimited`` — wraps the checkout view for ``POST /api/v1/checkout`` (``ops.urls``
  routes it, so sales never imports ops), keyed per register.
* ``RateLimitedLoginView`` / ``login_ratelimited`` — failed sign-ins limited per (client IP,
  username), per client IP and per username (``RATELIMIT_LOGIN``, ``_IP``, ``_USER``).
* ``ratelimit_prune(*, older_than_seconds)`` — delete finished windows; ``ratelimit_windows_prune()``
  does it with ``RATELIMIT_RETENTION_HOURS`` for the worker's retention loop, which calls it
  through ``WORKER_RETENTION_TASKS`` (the worker never imports ops).

Why not django-axes for sign-ins: axes has one ``AXES_FAILURE_LIMIT`` for every lockout
parameter set (the contract wants 10 per pair, 30 per IP, 20 per username), measures its cool-off
from the last failure (an attacker who keeps failing keeps a cashier locked out for as long as he
likes), stores usernames and addresses in clear in its own tables, and needs its own
authentication backend, middleware and a second counter store beside this one (Redis or
PostgreSQL), which the checkout limit needs anyway. Fixed windows bound a lockout by the window:
it ends when the window does, whatever the attacker sends meanwhile.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from sales.api import csrf_passes
from sales.schemas.common import text_refusal

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
    counter: tuple[str, int] = ("", 0)  # (hashed key, window start): what ratelimit_release takes back


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
    return RateLimitResult(hits <= limit, hits, limit, retry, (hashed, window))


def _hit_postgres(hashed: str, limit: int, period: int) -> RateLimitResult:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH t AS (SELECT extract(epoch FROM clock_timestamp()) AS e)
            INSERT INTO ops_ratelimit (key, window_start, window_seconds, hits)
            SELECT %s, (floor(t.e / %s) * %s)::bigint, %s, 1 FROM t
            ON CONFLICT (key, window_start) DO UPDATE SET hits = ops_ratelimit.hits + 1
            RETURNING hits, ceil(window_start + window_seconds - (SELECT e FROM t))::int, window_start
            """,
            [hashed, period, period, period],
        )
        hits, retry, window = cursor.fetchone()
    return RateLimitResult(hits <= limit, hits, limit, max(1, int(retry)), (hashed, int(window)))


def ratelimit_hit(*, scope: str, key: str, rate: str) -> RateLimitResult:
    """Count one hit of ``key`` in ``scope`` against ``rate`` and say whether it is allowed.

    The hit is counted even when refused (``ratelimit_release`` takes it back). Windows follow the
    database's ``clock_timestamp()``, not the start of an enclosing transaction. Runs in autocommit
    (its own statement); calling it inside a caller's transaction works too but then holds the
    row lock until that commits.
    """
    limit, period = parse_rate(rate)
    hashed = _hashed(scope, key)
    result = _hit_redis(hashed, limit, period) if _uses_redis() else _hit_postgres(hashed, limit, period)
    if not result.allowed:
        log.warning("rate_limited", scope=scope, hits=result.hits, limit=limit)
    return result


def ratelimit_release(*, result: RateLimitResult) -> None:
    """Take back the hit ``result`` counted, in the window it was counted in (never below 0).

    A window that has ended meanwhile is left alone: its counter no longer limits anything.
    """
    hashed, window = result.counter
    if not hashed:
        return
    if _uses_redis():
        from django.core.cache import cache

        try:
            if cache.decr(f"rl:{hashed}:{window}") < 0:
                cache.incr(f"rl:{hashed}:{window}")
        except ValueError:  # expired with its window
            pass
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ops_ratelimit SET hits = hits - 1 WHERE key = %s AND window_start = %s AND hits > 0",
            [hashed, window],
        )


def ratelimit_prune(*, older_than_seconds: float) -> int:
    """Delete the PostgreSQL counter's windows that ended more than ``older_than_seconds`` ago
    (a window still running is never touched). Returns rows removed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM ops_ratelimit WHERE window_start + window_seconds < extract(epoch FROM now()) - %s",
            [older_than_seconds],
        )
        return cursor.rowcount


def ratelimit_windows_prune() -> int:
    """The windows that ended more than ``RATELIMIT_RETENTION_HOURS`` ago, deleted. ops' task in
    the SUNAT worker's hourly retention loop (``WORKER_RETENTION_TASKS``, logged as
    ``ratelimit_windows`` in ``worker.purged``). Returns rows removed."""
    hours = float(getattr(settings, "RATELIMIT_RETENTION_HOURS", 1))
    return ratelimit_prune(older_than_seconds=hours * 3600)


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


def _register_code(body: bytes) -> str | None:
    """The ``register`` of a checkout body as the schema reads it (``sales.schemas.checkout``:
    stripped), or ``None`` when the body names none or cannot be read (not JSON, nested past the
    parser's recursion limit, not a JSON object)."""
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("register"), str):
        return None
    return data["register"].strip()[:40]


def _checkout_key(request: HttpRequest) -> str:
    """The register the checkout sells from: the body's ``register`` (stripped, as the schema
    strips it) or the cashier's only one, resolved within the cashier's stores (so codes of two
    stores never share a counter). A code no register can have (NUL, a lone surrogate) is a
    register not found, without a query: it is counted on the user's own counter."""
    code = _register_code(request.body)
    user = request.user  # signed in: checkout_ratelimited counts nobody else
    cache_key = (user.pk, code)
    now = time.monotonic()
    cached = _REGISTER_KEYS.get(cache_key)
    if cached and now - cached[0] < _REGISTER_KEY_SECONDS:
        return cached[1]
    from stores.selectors import NotFound, register_access

    if code is not None and text_refusal(code):
        key = f"user:{user.pk}:\x00"  # no register's code holds NUL; the key must hash, so not the code itself
    else:
        try:
            key = f"register:{register_access(user=user, code=code).pk}"
        except NotFound:
            key = f"user:{user.pk}:{code or '-'}"
    if len(_REGISTER_KEYS) > 10_000:
        _REGISTER_KEYS.clear()
    _REGISTER_KEYS[cache_key] = (now, key)
    return key


def checkout_ratelimited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Limit a checkout view to ``RATELIMIT_CHECKOUT`` per register (429 past it).

    Only a request the view would serve costs a hit: a POST of a signed-in user that passes CSRF.
    Anything else goes straight to the view, which refuses it (405, or 403 JSON), so an anonymous,
    forged or stale-page POST never spends a register's limit.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and request.user.is_authenticated and csrf_passes(request):
            result = ratelimit_hit(scope="checkout", key=_checkout_key(request), rate=settings.RATELIMIT_CHECKOUT)
            if not result.allowed:
                return ratelimited_response(result, request)
        return view(request, *args, **kwargs)

    return wrapper


def _login_username(raw: str) -> str:
    """The username a sign-in counts against: NFKC-normalised as Django's ``UsernameField`` does
    before authenticating (so ``ｇｅｒente2`` and ``gerente2`` are one user and one counter),
    then stripped and case-folded."""
    return unicodedata.normalize("NFKC", raw).strip().casefold()[:150]


def _login_limits(request: HttpRequest) -> list[tuple[str, str, str]]:
    """``(scope, key, rate)`` of each limit one sign-in counts against."""
    username = _login_username(request.POST.get("username") or "")
    ip = client_ip(request)
    return [
        ("login", f"{ip}|{username}", settings.RATELIMIT_LOGIN),
        ("login-ip", ip, settings.RATELIMIT_LOGIN_IP),
        ("login-user", username, settings.RATELIMIT_LOGIN_USER),
    ]


def _mark_login_succeeded(sender, request: HttpRequest | None = None, **kwargs) -> None:
    if request is not None:
        request._ratelimit_login_succeeded = True  # type: ignore[attr-defined]


user_logged_in.connect(_mark_login_succeeded, dispatch_uid="ops.ratelimit.login_succeeded")


def login_ratelimited_call(request: HttpRequest, view: Callable[[], HttpResponse]) -> HttpResponse:
    """Run the login ``view`` for ``request`` under the three sign-in limits.

    A POST first takes one hit of each limit — per (client IP, username) ``RATELIMIT_LOGIN``, per
    client IP ``RATELIMIT_LOGIN_IP``, per username ``RATELIMIT_LOGIN_USER`` — atomically per
    counter, so parallel guesses cannot overshoot. Past any of them it gives every hit back and
    answers 429 without checking the password (a refused attempt costs nobody a try, so hammering
    one pair never spends the username's limit). Otherwise the view runs; a sign-in that
    succeeded (Django's ``user_logged_in`` fired for this request) gives its hits back too, so only
    failed sign-ins count. Windows are fixed: a lockout ends with its window, whatever is sent
    meanwhile.
    """
    if request.method != "POST":
        return view()
    results = [ratelimit_hit(scope=scope, key=key, rate=rate) for scope, key, rate in _login_limits(request)]
    refused = [r for r in results if not r.allowed]
    if refused:
        for result in results:
            ratelimit_release(result=result)
        return ratelimited_response(max(refused, key=lambda r: r.retry_after), request)
    response = view()
    if getattr(request, "_ratelimit_login_succeeded", False):
        for result in results:
            ratelimit_release(result=result)
    return response


def login_ratelimited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator for any login view (the admin's): the same limits as ``RateLimitedLoginView``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return login_ratelimited_call(request, lambda: view(request, *args, **kwargs))

    return wrapper


class RateLimitedLoginView(auth_views.LoginView):
    """Django's login view under the sign-in limits of :func:`login_ratelimited_call`."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return login_ratelimited_call(request, lambda: super(RateLimitedLoginView, self).post(request, *args, **kwargs))

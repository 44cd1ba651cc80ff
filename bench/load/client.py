"""The load client: many cashiers across stores, each logged in with its own session, driving
``POST /api/v1/checkout`` like the till does (session cookie + ``X-CSRFToken``).

Processes × threads: each thread is one cashier (one store) on its own keep-alive connection;
results are per-request latencies and status codes.

With ``preconnect`` a cashier behaves like a browser (and like a load balancer's pool): whenever
its connection is closed (the server answered ``Connection: close``, or it timed out) it opens a
new one at once and leaves it idle until the next sale, instead of connecting when it has
something to send. A server that gives each accepted connection a thread holds that thread for
the whole pause.

It speaks ``http.client`` directly rather than ``requests``: the client shares the machine's two
cores with gunicorn and PostgreSQL, and ``requests`` spent ~4× the CPU per request of a bare
connection, CPU the server then did not get (the raw-SQL baseline has no HTTP client at all).
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

# The server closed an idle keep-alive connection before our request reached it: reconnect and
# send again (safe for a checkout: the idempotency key makes a resend return the same sale).
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Cashier:
    """One cashier's keep-alive connection and cookies."""

    def __init__(self, base: str, *, preconnect: bool = False) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.referer = f"{base}/pos/"
        self.cookies: dict[str, str] = {}
        self.preconnect = preconnect
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def idle_open(self) -> None:
        """With ``preconnect``: make sure a connection is open (and idle) before the pause."""
        if self.preconnect and self.conn.sock is None:
            try:
                self.conn.connect()
            except OSError:
                self.conn.close()  # the next request connects again and reports the error

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                break
            except _STALE:
                self.conn.close()
                if attempt == 2:
                    raise
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, data

    def login(self, username: str, password: str) -> str:
        self.request("GET", "/accounts/login/")
        form = urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        )
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": self.referer},
        )
        if status != 302:
            raise RuntimeError(f"login {username}: HTTP {status}")
        return self.cookies.get("csrftoken", "")


def checkout_body(barcodes: list[str], rng: random.Random) -> str:
    lines = [
        {"barcode": code, "quantity": str(rng.randint(1, 2))} for code in rng.sample(barcodes, k=min(2, len(barcodes)))
    ]
    return json.dumps(
        {
            "idempotency_key": str(uuid.uuid4()),
            "document_type": "03",
            "lines": lines,
            "payments": [{"method": "cash", "amount": "200.00"}],
        }
    )


def cashier_run(
    base: str,
    username: str,
    password: str,
    barcodes: list[str],
    count: int,
    start: threading.Barrier,
    out: list,
    seed: int,
    think: float = 0.0,
    preconnect: bool = False,
    path: str = "/api/v1/checkout",
) -> None:
    rng = random.Random(seed)
    cashier = Cashier(base, preconnect=preconnect)
    try:
        token = cashier.login(username, password)
        headers = {"X-CSRFToken": token, "Content-Type": "application/json", "Referer": cashier.referer}
        # The cashier opens the register (201), or finds it open from an earlier run (409).
        opened = json.dumps({"idempotency_key": str(uuid.uuid4()), "opening_float": "0.00"})
        status, body = cashier.request("POST", "/api/v1/sessions", opened, headers)
        if status not in (201, 409):
            raise RuntimeError(f"open the register {username}: HTTP {status} {body[:200]!r}")
        # one unmeasured warm-up sale per cashier
        cashier.request("POST", path, checkout_body(barcodes, rng), headers)
    except Exception as exc:
        start.abort()
        out.append(("login_error", str(exc)))
        return
    try:
        start.wait(timeout=120)
    except threading.BrokenBarrierError:
        return
    if think:
        time.sleep(rng.uniform(0, think))  # spread the cashiers' first sales
    for _ in range(count):
        body = checkout_body(barcodes, rng)
        began = time.perf_counter()
        try:
            status, _ = cashier.request("POST", path, body, headers)
        except (OSError, http.client.HTTPException):
            status = 0
            cashier.conn.close()
        out.append((time.perf_counter() - began, status))
        cashier.idle_open()
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))  # the cashier scans the next customer's items


def process_run(
    base: str,
    cashiers: list[tuple[str, list[str]]],
    password: str,
    per_cashier: int,
    seed: int,
    think: float = 0.0,
    preconnect: bool = False,
    path: str = "/api/v1/checkout",
) -> dict:
    """One client process: a thread per cashier posting checkouts to ``path``; returns latencies
    (s), statuses, wall and CPU time."""
    out: list = []
    barrier = threading.Barrier(len(cashiers) + 1)
    threads = [
        threading.Thread(
            target=cashier_run,
            args=(base, user, password, codes, per_cashier, barrier, out, seed + i, think, preconnect, path),
        )
        for i, (user, codes) in enumerate(cashiers)
    ]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=180)
    except threading.BrokenBarrierError:
        pass
    began, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    errors = [o for o in out if o[0] == "login_error"]
    results = [o for o in out if o[0] != "login_error"]
    return {
        "latencies": [r[0] for r in results],
        "statuses": [r[1] for r in results],
        "wall": wall,
        "login_errors": errors,
        "started_at": time.time() - wall,
        "cpu": time.process_time() - cpu,
    }

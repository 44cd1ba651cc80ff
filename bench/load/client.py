"""The load client: many cashiers across stores, each logged in with its own session, driving
``POST /api/v1/checkout`` like the till does (session cookie + ``X-CSRFToken``).

Processes × threads: each thread is one cashier (one store); results are per-request latencies
and status codes.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid

import requests


def cashier_session(base: str, username: str, password: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=30)
    token = session.cookies.get("csrftoken", "")
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login {username}: HTTP {response.status_code}")
    return session, session.cookies.get("csrftoken", "")


def checkout_body(barcodes: list[str], rng: random.Random) -> str:
    lines = [{"barcode": code, "quantity": str(rng.randint(1, 2))} for code in rng.sample(barcodes, k=min(2, len(barcodes)))]
    return json.dumps(
        {
            "idempotency_key": str(uuid.uuid4()),
            "document_type": "03",
            "lines": lines,
            "payments": [{"method": "cash", "amount": "200.00"}],
        }
    )


def cashier_run(base: str, username: str, password: str, barcodes: list[str], count: int, start: threading.Barrier,
                out: list, seed: int, think: float = 0.0) -> None:
    rng = random.Random(seed)
    try:
        session, token = cashier_session(base, username, password)
        headers = {"X-CSRFToken": token, "Content-Type": "application/json", "Referer": f"{base}/pos/"}
        # one unmeasured warm-up sale per cashier
        session.post(f"{base}/api/v1/checkout", data=checkout_body(barcodes, rng), headers=headers, timeout=60)
    except Exception as exc:  # noqa: BLE001
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
            status = session.post(f"{base}/api/v1/checkout", data=body, headers=headers, timeout=60).status_code
        except requests.RequestException:
            status = 0
        out.append((time.perf_counter() - began, status))
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))  # the cashier scans the next customer's items


def process_run(base: str, cashiers: list[tuple[str, list[str]]], password: str, per_cashier: int, seed: int,
                think: float = 0.0) -> dict:
    """One client process: a thread per cashier; returns latencies (s), statuses and wall time."""
    out: list = []
    barrier = threading.Barrier(len(cashiers) + 1)
    threads = [
        threading.Thread(target=cashier_run, args=(base, user, password, codes, per_cashier, barrier, out, seed + i, think))
        for i, (user, codes) in enumerate(cashiers)
    ]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=180)
    except threading.BrokenBarrierError:
        pass
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    errors = [o for o in out if o[0] == "login_error"]
    results = [o for o in out if o[0] != "login_error"]
    return {"latencies": [r[0] for r in results], "statuses": [r[1] for r in results], "wall": wall, "login_errors": errors,
            "started_at": time.time() - wall}

"""Per-checkout CPU with and without the ops layer (in process, Django test client, bench DB).

.venv/bin/python -m bench.load.overhead [--n 150] [--skip-prepare]

The cashier opens its register first (a checkout needs an open cash session). With the
project's session reads (stores.session_auth), the stack runs once more with Django's own session
engine and ModelBackend, then again with the project's, in the same process.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Callable

from bench.load.database import app_env, bench_url, prepare


def checkout_body_maker(*, user, lines: int = 2) -> Callable[[], str]:
    """Bodies for ``POST /api/v1/checkout`` as ``user`` (a cashier of one store): ``lines`` of the
    store's products (the same ones, by id), one unit each, paid in cash, a fresh key each time.
    Needs ``django.setup()``."""
    from sales.models import StoreProduct

    store_id = user.memberships.first().store_id
    codes = list(
        StoreProduct.objects.filter(
            store_id=store_id, product__is_plastic_bag=False, product__unit_code="NIU", stock__gt=100
        )
        .order_by("product_id")
        .values_list("product__barcode", flat=True)[:lines]
    )

    if len(codes) != lines:
        raise SystemExit(f"--lines {lines}: la tienda solo vende {len(codes)} productos con stock para el carrito")

    def body() -> str:
        return json.dumps(
            {
                "idempotency_key": str(uuid.uuid4()),
                "document_type": "03",
                "lines": [{"barcode": c, "quantity": "1"} for c in codes],
                "payments": [{"method": "cash", "amount": "200"}],
            }
        )

    return body


def till_client(*, user):
    """A Django test client signed in as ``user`` whose register is open (a checkout needs an
    open cash session): opened now, or still open from an earlier run."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    opened = json.dumps({"idempotency_key": str(uuid.uuid4()), "opening_float": "0.00"})
    status = client.post("/api/v1/sessions", opened, content_type="application/json").status_code
    assert status in (201, 409), status
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--skip-prepare", action="store_true", help="do not migrate, seed and top up stock first")
    args = parser.parse_args()
    if not args.skip_prepare:
        prepare(url=bench_url(), stores=50, products=20)
    os.environ.update(app_env(bench_url() + "&connection_limit=4", LOG_LEVEL="INFO"))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    import ops.ratelimit as rl

    user = get_user_model().objects.get(username="cajero7")
    body = checkout_body_maker(user=user)

    def bench(label: str) -> None:
        client = till_client(user=user)
        for _ in range(10):
            client.post("/api/v1/checkout", body(), content_type="application/json")
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.n):
            assert client.post("/api/v1/checkout", body(), content_type="application/json").status_code == 201
        print(
            f"{label}: wall {(time.perf_counter() - wall) * 1000 / args.n:.2f} ms, "
            f"cpu {(time.process_time() - cpu) * 1000 / args.n:.2f} ms per checkout",
            flush=True,
        )

    bench("full stack")
    stock_auth = {
        "SESSION_ENGINE": "django.contrib.sessions.backends.db",
        "AUTHENTICATION_BACKENDS": ["django.contrib.auth.backends.ModelBackend"],
    }
    if stock_auth["SESSION_ENGINE"] != settings.SESSION_ENGINE:
        with override_settings(**stock_auth):
            bench("full stack, Django's session engine and ModelBackend")
        bench("full stack (again)")
    original = rl.ratelimit_hit
    rl.ratelimit_hit = lambda **kw: rl.RateLimitResult(True, 1, 1, 1)
    bench("without rate limit")
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if not m.startswith("ops.")]):
        bench("without rate limit and ops middleware")
    rl.ratelimit_hit = original


if __name__ == "__main__":
    main()

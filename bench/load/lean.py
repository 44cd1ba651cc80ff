"""The lean Django view: what a checkout costs in Django without the checkout's own code, measured
beside it in the same run (``bench.load.run --lean``, ``bench.load.instructions --path``).

``POST /bench/lean-checkout`` exists only under the bench settings (``bench.load.urls``). It takes
the checkout's body, behind the same middleware, session, user, CSRF check and rate limit
(``ops.ratelimit.checkout_ratelimited``). Then it reads the cashier's register with one cursor
``SELECT`` and makes the raw-SQL baseline's writes (``bench.load.baseline.sale_write``) on
Django's own pooled psycopg connection: plain statements, no model instances, no checks of the
body beyond what the writes need. Its SUNAT snapshot is the baseline's short one. So it is a
floor, not a second till: what the issue's "lean Django view" measured, kept runnable against the
checkout of the same commit on the same machine.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from django.db import connection
from django.http import HttpRequest, JsonResponse

from bench.load.baseline import sale_write

_REGISTER_SQL = """
SELECT r.id, r.store_id, r.company_id FROM stores_register r
JOIN stores_membership m ON m.store_id = r.store_id AND m.user_id = %s
WHERE r.is_active ORDER BY r.id LIMIT 1
"""


def lean_checkout(request: HttpRequest) -> JsonResponse:
    if request.method != "POST" or not request.user.is_authenticated:
        return JsonResponse({"errors": {"__all__": ["POST de un usuario con sesión"]}}, status=403)
    body = json.loads(request.body)
    quantities = {line["barcode"]: Decimal(line["quantity"]) for line in body["lines"]}
    with connection.cursor() as cursor:
        cursor.execute(_REGISTER_SQL, [request.user.pk])
        register_id, store_id, company_id = cursor.fetchone()
    cashier = {"company_id": company_id, "store_id": store_id, "register_id": register_id, "user_id": request.user.pk}
    try:
        number, total = sale_write(
            connection.connection, cashier=cashier, quantities=quantities, key=uuid.UUID(body["idempotency_key"])
        )
    except RuntimeError:
        return JsonResponse({"errors": {"lines": ["Stock insuficiente."]}}, status=409)
    return JsonResponse({"number": number, "total": str(total)}, status=201)

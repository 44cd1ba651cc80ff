"""How many times a warm checkout waits for the database (round trips, not statements).

Through PgBouncer every wait is two more hops, and under load each hop may wait for a core
(docs/performance.md, "Where a checkout's time goes"), so the count is a budget: a new query in
the sale's transaction or before it shows up here. Counted from libpq's own protocol trace of the
request's connection: each turn from the client sending to the server answering is one wait.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from psycopg.pq import Trace

from bodegapos.settings.database import PREPARE_THRESHOLD
from sales.models import Sale
from sales.tests.factories import product_make

pytestmark = pytest.mark.django_db(transaction=True)  # BEGIN and COMMIT as in production

# session, user, rate-limit counter, register, products; then the sale's transaction: BEGIN,
# series, the document with its job (one statement), the sale with its payments (one statement),
# the lines, stock (lock, UPDATE and movements, one statement), COMMIT. Each statement is waited
# for (plain statements: docs/performance.md, "A lean checkout").
WARM_CHECKOUT_WAITS = 12


def _waits(trace: str) -> list[str]:
    """The first client message of each turn that the server then answered."""
    turns, sending, first = [], False, ""
    for line in trace.splitlines():
        direction, _, message = line.partition("\t")
        if direction == "F" and not sending:
            sending, first = True, message
        elif direction == "B" and sending:
            sending = False
            turns.append(first)
    return turns


def _sell_traced(client: Client, tmp_path: Path, barcodes: list[str]) -> list[str]:
    body = json.dumps(
        {
            "idempotency_key": str(uuid.uuid4()),
            "document_type": "03",
            "lines": [{"barcode": code, "quantity": "1"} for code in barcodes],
            "payments": [{"method": "cash", "amount": "1000"}],
        }
    )
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    path = tmp_path / f"trace-{uuid.uuid4().hex}.txt"
    with path.open("w") as out:
        pgconn.trace(out.fileno())
        pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        try:
            response = client.post("/api/v1/checkout", data=body, content_type="application/json")
        finally:
            pgconn.untrace()
    assert response.status_code == 201, response.content
    return _waits(path.read_text())


def test_a_warm_checkout_waits_for_the_database_as_often_whatever_its_size(cashier, store, tmp_path):
    client = Client()
    client.force_login(cashier)
    items = [product_make(store=store, price="1.00").product.barcode for _ in range(5)]
    # Warm as a till is after its first minutes: each statement run often enough on this
    # connection for psycopg to have prepared it (the run that prepares one waits once more).
    for _ in range(PREPARE_THRESHOLD + 1):
        _sell_traced(client, tmp_path, items[:1])
        _sell_traced(client, tmp_path, items)

    one = _sell_traced(client, tmp_path, items[:1])
    five = _sell_traced(client, tmp_path, items)

    assert len(one) == WARM_CHECKOUT_WAITS, one
    assert len(five) == WARM_CHECKOUT_WAITS, five
    assert any("BEGIN" in m for m in one) and "COMMIT" in one[-1]
    assert Sale.objects.count() == 2 * (PREPARE_THRESHOLD + 2)

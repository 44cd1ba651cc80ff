"""The till's sales list (``GET /api/v1/sales``): a Lima day is ``start <= issued_at < next day``."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from sales.models import Sale
from sales.tests.factories import product_make

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 30)


def sell(client, barcode: str) -> Sale:
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "document_type": "03",
        "lines": [{"barcode": barcode, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": "10.00"}],
    }
    response = client.post("/api/v1/checkout", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return Sale.objects.get(public_id=response.json()["id"])


@pytest.mark.parametrize("search", [True, False], ids=["searched by number", "listed by day"])
def test_a_sale_at_midnight_belongs_to_the_day_it_opens_only(client, cashier, store, search):
    client.force_login(cashier)
    item = product_make(store=store, price="2.00")
    midnight = timezone.make_aware(datetime.combine(DAY + timedelta(days=1), time.min))
    last, first = sell(client, item.product.barcode), sell(client, item.product.barcode)
    Sale.objects.filter(pk=last.pk).update(issued_at=midnight - timedelta(microseconds=1))
    Sale.objects.filter(pk=first.pk).update(issued_at=midnight)
    for day, expected in ((DAY, last), (DAY + timedelta(days=1), first)):
        query = f"date={day.isoformat()}" + (f"&q={expected.full_number}" if search else "")
        rows = client.get(f"/api/v1/sales?{query}").json()
        assert [row["number"] for row in rows] == [expected.full_number], (day, rows)
        if search:
            other = first if expected is last else last
            assert client.get(f"/api/v1/sales?date={day.isoformat()}&q={other.full_number}").json() == []

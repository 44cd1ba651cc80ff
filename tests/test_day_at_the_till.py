"""A whole day at one register over the API: open, 20 mixed sales (cash with rounding, card, Yape,
Plin, split payments, a factura, a bag with ICBPER), cash in and out, an X report, and a close
with a S/ 1.00 shortfall. Every figure of the Z is recomputed here from the rows the day wrote."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from sales import money as sales_money
from sales.models import CashMovement, CashSession, Payment, Sale
from sales.tests.factories import cashier_make, company_make, manager_make, product_make, store_make
from stores.audit import audit_chain_verify
from stores.models import AuditEvent
from sunat import rules

pytestmark = pytest.mark.django_db

D = Decimal
METHODS = ("cash", "card", "yape", "plin")


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def test_a_day_at_the_till_adds_up(client):
    company = company_make()
    store, register = store_make(company=company)
    cashier = cashier_make(store=store, open_session=False)
    manager = manager_make(store=store, pin="2468")
    rice = product_make(store=store, price="4.27")  # gravado, odd céntimos: cash rounding
    book = product_make(store=store, price="25.00", affectation="20")
    potato = product_make(store=store, price="3.59", affectation="30", unit_code="KGM")
    bag = product_make(store=store, price="0.10", is_plastic_bag=True)
    client.force_login(cashier)

    opened = post(client, "/api/v1/sessions", {"idempotency_key": str(uuid.uuid4()), "opening_float": "150.00"})
    assert opened.status_code == 201
    session_id = opened.json()["id"]

    ruc = {"doc_type": "6", "doc_number": "20100066603", "name": "DISTRIBUIDORA EL SOL S.A.C."}
    carts = []
    for i in range(20):
        lines = [{"barcode": rice.product.barcode, "quantity": str(1 + i % 3)}]
        if i % 4 == 0:
            lines.append({"barcode": book.product.barcode, "quantity": "1"})
        if i % 5 == 0:
            lines.append({"barcode": potato.product.barcode, "quantity": "1.235"})
        if i % 3 == 0:
            lines.append({"barcode": bag.product.barcode, "quantity": "2"})
        carts.append(lines)

    prices = {item.product.barcode: item for item in (rice, book, potato, bag)}
    rate = rules.icbper_rate(on=rules.fiscal_date(timezone.now()))

    def total_of(lines) -> Decimal:  # what the till will charge (the page computes it the same way)
        total = D("0.00")
        for line in lines:
            item = prices[line["barcode"]]
            amounts = sales_money.line_amounts(
                price=item.price,
                quantity=D(line["quantity"]),
                affectation=item.product.affectation,
                icbper_rate=rate if item.product.is_plastic_bag else D("0.00"),
            )
            total += amounts.total
        return total

    for i, lines in enumerate(carts):
        total = total_of(lines)
        body = {"idempotency_key": str(uuid.uuid4()), "document_type": "03", "lines": lines}
        kind = i % 6
        if kind == 0:  # cash with change
            body["payments"] = [{"method": "cash", "amount": "200.00"}]
        elif kind in (1, 2, 3):  # exact card, Yape or Plin
            body["payments"] = [{"method": ("card", "yape", "plin")[kind - 1], "amount": money(total)}]
        elif kind == 4:  # split: Yape for half, the rest in cash
            body["payments"] = [
                {"method": "yape", "amount": money((total / 2).quantize(D("0.01")))},
                {"method": "cash", "amount": "100.00"},
            ]
        else:  # a factura: half by Plin, the rest in cash
            body["document_type"] = "01"
            body["customer"] = ruc
            body["payments"] = [
                {"method": "plin", "amount": money((total / 2).quantize(D("0.01")))},
                {"method": "cash", "amount": "100.00"},
            ]
        sold = post(client, "/api/v1/checkout", body)
        assert sold.status_code == 201, sold.content
        assert D(sold.json()["total"]) == total

    moved_in = post(
        client,
        f"/api/v1/sessions/{session_id}/movements",
        {"idempotency_key": str(uuid.uuid4()), "kind": "in", "amount": "50.00", "reason": "Sencillo del banco"},
    )
    moved_out = post(
        client,
        f"/api/v1/sessions/{session_id}/movements",
        {
            "idempotency_key": str(uuid.uuid4()),
            "kind": "out",
            "amount": "120.00",
            "reason": "Pago a proveedor",
            "approval": {"username": manager.username, "pin": "2468"},
        },
    )
    assert moved_in.status_code == 201 and moved_out.status_code == 201

    x = client.get(f"/api/v1/sessions/{session_id}/report").json()
    assert x["kind"] == "X"

    # Recompute everything from the rows.
    session = CashSession.objects.get(public_id=session_id)
    sales = list(Sale.objects.filter(session=session))
    payments = list(Payment.objects.filter(sale__session=session))
    assert len(sales) == 20 and {s.document_type for s in sales} == {"01", "03"}
    paid = {m: sum((p.amount for p in payments if p.method == m), D("0.00")) for m in METHODS}
    cash_kept = sum(((p.tendered - p.change) for p in payments if p.method == "cash"), D("0.00"))
    rounding = sum((p.rounding for p in payments if p.method == "cash"), D("0.00"))
    assert rounding > 0  # some cash sale was rounded down in the customer's favour
    assert {p.method for p in payments} == set(METHODS) and any(
        len({p.method for p in s.payments.all()}) > 1 for s in sales
    )
    moves = CashMovement.objects.filter(session=session)
    cash_in = sum((m.amount for m in moves if m.kind == "in"), D("0.00"))
    cash_out = sum((m.amount for m in moves if m.kind == "out"), D("0.00"))
    expected = {m: paid[m] for m in METHODS}
    expected["cash"] = D("150.00") + cash_kept + cash_in - cash_out
    assert x["expected"] == {m: money(v) for m, v in expected.items()}

    counted = {m: money(v) for m, v in expected.items()}
    counted["cash"] = money(expected["cash"] - D("1.00"))
    closed = post(
        client, f"/api/v1/sessions/{session_id}/close", {"idempotency_key": str(uuid.uuid4()), "counted": counted}
    )
    assert closed.status_code == 200, closed.content
    z = closed.json()

    assert z["kind"] == "Z" and z["session"]["z_number"] == 1
    assert z["sales"]["count"] == len(sales)
    assert z["sales"]["total"] == money(sum((s.total for s in sales), D("0.00")))
    assert z["sales"]["igv"] == money(sum((s.igv for s in sales), D("0.00")))
    assert z["sales"]["icbper"] == money(sum((s.icbper for s in sales), D("0.00")))
    assert D(z["sales"]["icbper"]) > 0
    for doc_type in ("01", "03"):
        of_type = [s for s in sales if s.document_type == doc_type]
        assert z["sales"]["by_document_type"][doc_type] == {
            "count": len(of_type),
            "total": money(sum((s.total for s in of_type), D("0.00"))),
        }
    assert z["payments"] == {
        "cash": money(cash_kept),
        "card": money(paid["card"]),
        "yape": money(paid["yape"]),
        "plin": money(paid["plin"]),
    }
    assert z["refunds"] == {m: "0.00" for m in METHODS}
    assert z["returns"] == {"count": 0, "total": "0.00"} and z["voids"] == {"count": 0, "total": "0.00"}
    assert z["net_total"] == z["sales"]["total"]
    assert z["cash"] == {
        "opening_float": "150.00",
        "sales": money(cash_kept),
        "refunds": "0.00",
        "in": money(cash_in),
        "out": money(cash_out),
        "rounding": money(-rounding),
        "expected": money(expected["cash"]),
    }
    assert z["expected"] == {m: money(v) for m, v in expected.items()}
    assert z["counted"] == counted
    assert z["difference"] == {"cash": "-1.00", "card": "0.00", "yape": "0.00", "plin": "0.00"}
    # Within the S/ 5.00 threshold: the cashier closed without an approval.
    assert CashSession.objects.get(pk=session.pk).close_approved_by is None
    assert client.get(f"/api/v1/sessions/{session_id}/report").json() == z
    # The printable Z shows the same figures, and the rounding on its own line.
    page = client.get(f"/pos/sessions/{session_id}/report/").content.decode()
    assert "REPORTE Z N.º 1" in page and money(expected["cash"]) in page and f"S/ {money(-rounding)}" in page
    actions = list(AuditEvent.objects.filter(company=company).order_by("seq").values_list("action", flat=True))
    assert actions == ["approval.pin_set", "session.open", "cash.in", "approval.granted", "cash.out", "session.close"]
    assert audit_chain_verify(company_id=company.pk) is None

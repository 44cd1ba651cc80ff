"""Returns (credit notes 07) and voids over the API: amounts by the contract's formula, refunds,
restock, approvals, the SUNAT documents they issue, the reports they reach, and every bad input
the contract names (400s checked before the 409s; each writes nothing)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from sales import money
from sales.models import Refund, Sale, SaleLine, SaleReturn, SaleVoid, StockMovement
from sales.selectors import stock_ledger_sum
from sales.tests.factories import cashier_make, manager_make, product_make, session_ensure, store_make
from stores.models import AuditEvent
from sunat.models import DocumentStatus, SunatDocument
from sunat.snapshot import DocumentSnapshot, SummarySnapshot, VoidedSnapshot

pytestmark = pytest.mark.django_db

D = Decimal


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def shop(client, store, register):
    """A manager signed in (no approvals needed), a session open, four products."""
    manager = manager_make(store=store)
    session_ensure(register=register, user=manager)
    client.force_login(manager)
    return {
        "manager": manager,
        "rice": product_make(store=store, price="2.50"),
        "potato": product_make(store=store, price="3.59", affectation="30", unit_code="KGM"),
        "book": product_make(store=store, price="25.00", affectation="20"),
        "bag": product_make(store=store, price="0.10", is_plastic_bag=True),
    }


def sell(client, lines, *, payments=None, document_type="03", customer=None):
    body = {
        "idempotency_key": key(),
        "document_type": document_type,
        "lines": lines,
        "payments": payments or [{"method": "cash", "amount": "500.00"}],
    }
    if customer:
        body["customer"] = customer
    response = post(client, "/api/v1/checkout", body)
    assert response.status_code == 201, response.content
    return Sale.objects.get(public_id=response.json()["id"])


def line(item, quantity):
    return {"barcode": item.product.barcode, "quantity": quantity}


def give_back(client, sale, lines, *, refunds=None, reason_code="07", total=None, **extra):
    if refunds is None:
        refunds = [{"method": "cash", "amount": total}]
    body = {
        "idempotency_key": key(),
        "sale": str(sale.public_id),
        "reason_code": reason_code,
        "reason": "Producto vencido",
        "lines": lines,
        "refunds": refunds,
        **extra,
    }
    return post(client, "/api/v1/returns", body)


def quote(client, sale, pairs) -> str:
    query = "&".join(f"line={n}&quantity={q}" for n, q in pairs)
    return client.get(f"/api/v1/sales/{sale.public_id}/return-quote?{query}").json()["total"]


def test_a_boleta_returned_in_two_notes_then_the_rest_adds_up_exactly(client, shop):
    sale = sell(client, [line(shop["rice"], "3"), line(shop["potato"], "1.235")])
    notes = []
    for pairs in ([(1, "1"), (2, "0.5")], [(1, "1"), (2, "0.4")], [(1, "1"), (2, "0.335")]):
        total = quote(client, sale, pairs)
        response = give_back(client, sale, [{"line": n, "quantity": q, "restock": True} for n, q in pairs], total=total)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["document_type"] == "07" and body["number"].startswith("BC01-") and body["total"] == total
        notes.append(SaleReturn.objects.get(public_id=body["id"]))
    assert [n.number for n in notes] == [1, 2, 3]
    for field in ("gravadas", "inafectas", "igv", "icbper", "total"):
        assert sum((getattr(n, field) for n in notes), D("0")) == getattr(sale, field), field
    assert all(line.returned_quantity == line.quantity for line in SaleLine.objects.filter(sale=sale))
    detail = client.get(f"/api/v1/sales/{sale.public_id}").json()
    assert detail["status"] == "returned" and [r["number"] for r in detail["returns"]] == ["BC01-1", "BC01-2", "BC01-3"]
    # Every note went to SUNAT as a 07 that names the boleta, numbered in its own series.
    for note in notes:
        document = SunatDocument.objects.get(pk=note.sunat_document_id)
        snapshot = DocumentSnapshot.from_json(document.snapshot)
        assert (document.document_type, snapshot.reference.number, snapshot.reference.document_type) == (
            "07",
            sale.full_number,
            "03",
        )
        assert document.original_id == sale.sunat_document_id
    # Restocked: the ledger and the cached stock agree.
    for item in (shop["rice"], shop["potato"]):
        item.refresh_from_db()
        assert item.stock == D("100") and stock_ledger_sum(store_product=item) == item.stock
    # Nothing is left: one more unit is a 409.
    over = give_back(client, sale, [{"line": 1, "quantity": "1"}], total="2.50")
    assert over.status_code == 409 and "quedan 0" in over.json()["errors"]["lines"][0]


def test_a_factura_returned_whole_gets_an_f_series_note(client, shop):
    ruc = {"doc_type": "6", "doc_number": "20100066603", "name": "DISTRIBUIDORA EL SOL S.A.C."}
    sale = sell(
        client,
        [line(shop["rice"], "2"), line(shop["book"], "1")],
        document_type="01",
        customer=ruc,
        payments=[{"method": "card", "amount": "30.00"}],
    )
    response = give_back(
        client,
        sale,
        [{"line": 1, "quantity": "2"}, {"line": 2, "quantity": "1"}],
        reason_code="06",
        refunds=[{"method": "card", "amount": "30.00"}],
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["number"] == "FC01-1"
        and body["total"] == "30.00"
        and body["refunded"] == {"cash": "0.00", "card": "30.00", "yape": "0.00", "plin": "0.00"}
    )
    note = SaleReturn.objects.get()
    assert (note.gravadas, note.exoneradas, note.igv) == (sale.gravadas, sale.exoneradas, sale.igv)
    snapshot = DocumentSnapshot.from_json(SunatDocument.objects.get(pk=note.sunat_document_id).snapshot)
    assert snapshot.customer.doc_number == "20100066603" and snapshot.reference.reason_code == "06"


def test_returned_bags_take_their_icbper_back(client, shop):
    sale = sell(client, [line(shop["rice"], "1"), line(shop["bag"], "3")])
    assert sale.icbper == D("1.50")
    total = quote(client, sale, [(2, "2")])
    response = give_back(client, sale, [{"line": 2, "quantity": "2"}], total=total)
    assert response.status_code == 201, response.content
    assert response.json()["icbper"] == "1.00" and total == "1.20"  # 2 × 0.10 + 2 × 0.50


def test_a_return_without_restock_moves_no_stock(client, shop):
    sale = sell(client, [line(shop["rice"], "2")])
    response = give_back(client, sale, [{"line": 1, "quantity": "1", "restock": False}], total="2.50")
    assert response.status_code == 201
    shop["rice"].refresh_from_db()
    assert shop["rice"].stock == D("98") and not StockMovement.objects.filter(kind="return").exists()


def test_cash_is_handed_back_rounded_up_and_never_more_than_the_sale_kept(client, shop, store):
    item = product_make(store=store, price="3.33")
    sale = sell(client, [line(item, "3")], payments=[{"method": "cash", "amount": "10.00"}])  # 9.99 due 9.90
    first = give_back(client, sale, [{"line": 1, "quantity": "1"}], total="3.33")
    assert first.json()["refunded"]["cash"] == "3.40"  # 3.33 rounded up to S/ 0.10
    second = give_back(client, sale, [{"line": 1, "quantity": "1"}], total="3.33")
    assert second.json()["refunded"]["cash"] == "3.40"
    third = give_back(client, sale, [{"line": 1, "quantity": "1"}], total="3.33")
    assert third.json()["refunded"]["cash"] == "3.10"  # 9.90 kept − 6.80 handed back
    assert sum((r.handed for r in Refund.objects.filter(sale=sale)), D("0")) == D("9.90")


@pytest.mark.parametrize(
    "lines, refunds, field",
    [
        ([{"line": 9, "quantity": "1"}], None, "lines"),  # unknown line
        ([{"line": 1, "quantity": "1"}, {"line": 1, "quantity": "1"}], None, "lines"),  # twice
        ([{"line": 1, "quantity": "0"}], None, "lines"),
        ([{"line": 1, "quantity": "-1"}], None, "lines"),
        ([{"line": 1, "quantity": "0.0001"}], None, "lines"),
        ([{"line": 1, "quantity": "0.5"}], None, "lines"),  # units are returned whole
        ([{"line": 1, "quantity": "1"}], [{"method": "cash", "amount": "2.49"}], "refunds"),  # do not add up
        ([{"line": 1, "quantity": "1"}], [{"method": "yape", "amount": "2.50"}], "refunds"),  # Yape paid nothing
    ],
)
def test_bad_returns_are_400_and_write_nothing(client, shop, lines, refunds, field):
    sale = sell(client, [line(shop["rice"], "2")])
    response = give_back(client, sale, lines, refunds=refunds or [{"method": "cash", "amount": "2.50"}])
    assert response.status_code == 400 and field in response.json()["errors"], response.content
    assert not SaleReturn.objects.exists() and not Refund.objects.exists()
    assert SaleLine.objects.get(sale=sale).returned_quantity == 0


def test_a_bad_reason_code_is_400(client, shop):
    sale = sell(client, [line(shop["rice"], "1")])
    response = give_back(client, sale, [{"line": 1, "quantity": "1"}], reason_code="02", total="2.50")
    assert response.status_code == 400 and "reason_code" in response.json()["errors"]


def test_the_400s_come_before_the_quantity_409(client, shop):
    sale = sell(client, [line(shop["rice"], "1")])
    both = give_back(client, sale, [{"line": 1, "quantity": "5"}, {"line": 7, "quantity": "1"}], total="2.50")
    assert both.status_code == 400 and "La venta no tiene la línea 7." in both.json()["errors"]["lines"]
    over = give_back(client, sale, [{"line": 1, "quantity": "5"}], total="12.50")
    assert over.status_code == 409 and "lines" in over.json()["errors"]


def test_a_cashier_needs_an_approval_and_another_stores_sale_is_404(client, shop, store, company):
    sale = sell(client, [line(shop["rice"], "2")])
    cashier = cashier_make(store=store, open_session=False)
    client.force_login(cashier)
    refused = give_back(client, sale, [{"line": 1, "quantity": "1"}], total="2.50")
    assert refused.status_code == 403 and "approval" in refused.json()["errors"]
    approved = give_back(
        client,
        sale,
        [{"line": 1, "quantity": "1"}],
        total="2.50",
        approval={"username": shop["manager"].username, "pin": "2468"},
    )
    assert approved.status_code == 201 and SaleReturn.objects.get().approved_by == shop["manager"]
    other_store, other_register = store_make(company=company, code="0001", n=2)
    other_cashier = cashier_make(store=other_store)
    client.force_login(other_cashier)
    foreign = give_back(client, sale, [{"line": 1, "quantity": "1"}], total="2.50")
    assert foreign.status_code == 404
    assert client.get(f"/api/v1/sales/{sale.public_id}").status_code == 404


def test_no_open_session_on_the_refunding_register_is_409(client, shop, register):
    sale = sell(client, [line(shop["rice"], "1")])
    from sales.models import CashSession
    from sales.services.sessions import cash_session_close

    session = CashSession.objects.get(status="open")
    counted = {"cash": D("100.00") + D("2.50"), "card": D("0"), "yape": D("0"), "plin": D("0")}
    cash_session_close(
        user=shop["manager"], session=session, counted=counted, denominations=None, note="", approver=shop["manager"]
    )
    response = give_back(client, sale, [{"line": 1, "quantity": "1"}], total="2.50")
    assert response.status_code == 409 and "session" in response.json()["errors"]


def test_a_sale_sunat_rejected_is_refused_at_the_till(client, shop):
    sale = sell(client, [line(shop["rice"], "1")])
    SunatDocument.objects.filter(pk=sale.sunat_document_id).update(status=DocumentStatus.REJECTED)
    response = give_back(client, sale, [{"line": 1, "quantity": "1"}], total="2.50")
    assert response.status_code == 409 and "rechazó" in response.json()["errors"]["sale"][0]
    void = post(client, f"/api/v1/sales/{sale.public_id}/void", {"idempotency_key": key(), "reason": "x"})
    assert void.status_code == 409


def test_returns_reach_the_session_report(client, shop):
    sale = sell(
        client,
        [line(shop["rice"], "4")],
        payments=[
            {"method": "cash", "amount": "10.00"},
        ],
    )
    give_back(client, sale, [{"line": 1, "quantity": "1"}], total="2.50")
    report = client.get("/api/v1/sessions/current").json()
    x = client.get(f"/api/v1/sessions/{report['id']}/report").json()
    assert x["returns"] == {"count": 1, "total": "2.50"} and x["refunds"]["cash"] == "2.50"
    assert x["cash"]["refunds"] == "2.50" and x["expected"]["cash"] == "107.50"  # 100 + 10 − 2.50
    assert x["net_total"] == "7.50"


# ------------------------------------------------------------------------------------ voids


def void(client, sale, **extra):
    return post(
        client, f"/api/v1/sales/{sale.public_id}/void", {"idempotency_key": key(), "reason": "Venta duplicada", **extra}
    )


def test_voiding_a_boleta_issues_an_rc_with_condition_3_restocks_and_refunds(client, shop):
    sale = sell(
        client, [line(shop["rice"], "2"), line(shop["bag"], "1")], payments=[{"method": "cash", "amount": "20.00"}]
    )
    response = void(client, sale)
    assert response.status_code == 202, response.content
    assert response.json() == {"id": str(sale.public_id), "status": "voiding", "sunat_status": "pending"}
    record = SaleVoid.objects.get(sale=sale)
    document = SunatDocument.objects.get(pk=record.sunat_document_id)
    summary = SummarySnapshot.from_json(document.snapshot)
    assert document.document_type == "RC" and [(row.number, row.condition) for row in summary.lines] == [
        (sale.full_number, "3")
    ]
    shop["rice"].refresh_from_db()
    assert shop["rice"].stock == D("100")
    refunds = list(Refund.objects.filter(sale_void=record))
    assert [(r.method, r.amount, r.handed) for r in refunds] == [("cash", sale.total, money.cash_due(sale.total))]
    assert client.get(f"/api/v1/sales/{sale.public_id}").json()["status"] == "voiding"
    SunatDocument.objects.filter(pk=document.pk).update(status=DocumentStatus.ACCEPTED)
    assert client.get(f"/api/v1/sales/{sale.public_id}").json()["status"] == "voided"
    x = client.get(f"/api/v1/sessions/{client.get('/api/v1/sessions/current').json()['id']}/report").json()
    assert x["voids"] == {"count": 1, "total": money.as_text(sale.total)} and x["sales"]["count"] == 1
    assert x["net_total"] == "0.00"  # the voided sale stays in sales and counts in voids
    assert AuditEvent.objects.filter(action="sale.void", object_id=str(sale.public_id)).exists()


def test_voiding_a_factura_issues_an_ra(client, shop):
    ruc = {"doc_type": "6", "doc_number": "20100066603", "name": "DISTRIBUIDORA EL SOL S.A.C."}
    sale = sell(
        client,
        [line(shop["book"], "1")],
        document_type="01",
        customer=ruc,
        payments=[{"method": "plin", "amount": "25.00"}],
    )
    assert void(client, sale).status_code == 202
    document = SunatDocument.objects.get(pk=SaleVoid.objects.get().sunat_document_id)
    voided = VoidedSnapshot.from_json(document.snapshot)
    assert document.document_type == "RA" and [(row.series, row.number) for row in voided.lines] == [
        (sale.series, sale.number)
    ]
    assert [(r.method, r.handed) for r in Refund.objects.all()] == [("plin", D("25.00"))]


def test_a_void_is_refused_after_returns_twice_and_past_the_window(client, shop, settings):
    with_return = sell(client, [line(shop["rice"], "2")])
    give_back(client, with_return, [{"line": 1, "quantity": "1"}], total="2.50")
    refused = void(client, with_return)
    assert refused.status_code == 409 and "devoluciones" in refused.json()["errors"]["sale"][0]
    once = sell(client, [line(shop["rice"], "1")])
    assert void(client, once).status_code == 202
    again = void(client, once)
    assert again.status_code == 409 and "anul" in again.json()["errors"]["sale"][0]
    old = sell(client, [line(shop["rice"], "1")])
    long_ago = timezone.now() - timedelta(days=settings.SUNAT_VOID_WINDOW_DAYS + 1)
    Sale.objects.filter(pk=old.pk).update(issued_at=long_ago)
    SunatDocument.objects.filter(pk=old.sunat_document_id).update(issued_at=long_ago)
    late = void(client, old)
    assert late.status_code == 409 and "01" in late.json()["errors"]["sale"][0]
    assert SaleVoid.objects.count() == 1


def test_a_cashier_voids_only_with_an_approval(client, shop, store):
    sale = sell(client, [line(shop["rice"], "1")])
    client.force_login(cashier_make(store=store, open_session=False))
    assert void(client, sale).status_code == 403
    assert void(client, sale, approval={"username": shop["manager"].username, "pin": "9999"}).status_code == 403
    assert not SaleVoid.objects.exists()
    ok = void(client, sale, approval={"username": shop["manager"].username, "pin": "2468"})
    assert ok.status_code == 202 and SaleVoid.objects.get().approved_by == shop["manager"]


def test_a_void_without_an_open_session_on_the_register_used_is_409(client, shop):
    from sales.models import CashSession
    from sales.services.sessions import cash_session_close

    sale = sell(client, [line(shop["rice"], "1")], payments=[{"method": "card", "amount": "2.50"}])
    session = CashSession.objects.get(status="open")
    zero = {"cash": D("100.00"), "card": D("2.50"), "yape": D("0"), "plin": D("0")}
    cash_session_close(user=shop["manager"], session=session, counted=zero, denominations=None, note="", approver=None)
    refused = void(client, sale)
    assert refused.status_code == 409 and "session" in refused.json()["errors"]
    assert not SaleVoid.objects.exists() and not Refund.objects.exists()


@pytest.mark.parametrize("method", ["cash", "yape"])
def test_a_return_on_a_sale_being_voided_is_409_whatever_it_was_paid_with(client, shop, method):
    # The void refunded every payment: the refunds' 400 ("la venta pagó S/ 0.00") would hide why.
    sale = sell(client, [line(shop["rice"], "1")], payments=[{"method": method, "amount": "2.50"}])
    assert void(client, sale).status_code == 202
    refused = give_back(client, sale, [{"line": 1, "quantity": "1"}], refunds=[{"method": method, "amount": "2.50"}])
    assert refused.status_code == 409 and "anulando" in refused.json()["errors"]["sale"][0]
    assert not SaleReturn.objects.exists()


@pytest.mark.parametrize(
    "quantity", ["NaN", "Infinity", "-Infinity", "sNaN", "1E30", "10000", "0", "-1", "1.0001", "x"]
)
def test_a_return_quote_with_a_quantity_a_return_refuses_is_400(client, shop, quantity):
    sale = sell(client, [line(shop["rice"], "1")])
    response = client.get(f"/api/v1/sales/{sale.public_id}/return-quote?line=1&quantity={quantity}")
    assert response.status_code == 400 and response.json()["errors"]["lines"]

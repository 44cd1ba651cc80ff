"""``GET /api/v1/reports/daily``: every figure against sums recomputed here, in Python, from the
rows the scenario wrote (sales with cash rounding, card, Yape, Plin and split payments, a factura,
bags with ICBPER, returns by the cashier and by the manager, a void, closed sessions with a
difference, and documents on the day before and after); who may read it; bad input."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from sales import money
from sales.models import CashSession, Payment, Refund, Sale, SaleLine, SaleReturn, SaleVoid
from sales.tests.factories import cashier_make, company_make, manager_make, product_make, store_make
from stores.models import Membership, Role
from sunat.models import DocumentStatus, SunatDocument

pytestmark = pytest.mark.django_db

LIMA = ZoneInfo("America/Lima")
DAY = date(2026, 3, 10)
METHODS = ("cash", "card", "yape", "plin")
D = Decimal


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=LIMA)


@contextmanager
def clock(when: datetime):
    """The services' clock (``django.utils.timezone.now``) reads ``when``."""
    with mock.patch.object(timezone, "now", return_value=when):
        yield


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def key() -> str:
    return str(uuid.uuid4())


def sell(client, when, lines, payments, **extra):
    with clock(when):
        response = post(
            client,
            "/api/v1/checkout",
            {"idempotency_key": key(), "document_type": "03", "lines": lines, "payments": payments, **extra},
        )
    assert response.status_code == 201, response.content
    return Sale.objects.get(public_id=response.json()["id"])


def line(item, quantity):
    return {"barcode": item.product.barcode, "quantity": quantity}


def give_back(client, when, sale, lines, refunds, **extra):
    with clock(when):
        response = post(
            client,
            "/api/v1/returns",
            {
                "idempotency_key": key(),
                "sale": str(sale.public_id),
                "reason_code": "07",
                "reason": "Vencido",
                "lines": lines,
                "refunds": refunds,
                **extra,
            },
        )
    assert response.status_code == 201, response.content
    return SaleReturn.objects.get(public_id=response.json()["id"])


def close(client, when, session, counted, **extra):
    with clock(when):
        response = post(
            client,
            f"/api/v1/sessions/{session.public_id}/close",
            {"idempotency_key": key(), "counted": counted, **extra},
        )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def chain(client):
    """Two stores of one company; in store A a cashier, a manager and a company admin; in store B
    a cashier; each register's session opened by its cashier the day before ``DAY``."""
    company = company_make()
    store_a, register_a = store_make(company=company, code="0000", n=1)
    store_b, register_b = store_make(company=company, code="0001", n=2)
    with clock(at(DAY - timedelta(days=1), 21)):
        cashier_a = cashier_make(store=store_a, username="ana")
        cashier_b = cashier_make(store=store_b, username="beto")
    manager = manager_make(store=store_a, username="gerente_a", pin="2468")
    owner = get_user_model().objects.create_user(username="duena", password="x")
    Membership.objects.create(user=owner, company=company, role=Role.COMPANY_ADMIN)
    items = {}
    for store in (store_a, store_b):
        items[store.code] = {
            "rice": product_make(store=store, price="4.27", name=f"Arroz {store.code}"),  # odd céntimos: cash rounding
            "book": product_make(store=store, price="25.00", affectation="20", name=f"Cuaderno {store.code}"),
            "potato": product_make(
                store=store, price="3.59", affectation="30", unit_code="KGM", name=f"Papa {store.code}"
            ),
            "bag": product_make(store=store, price="0.10", is_plastic_bag=True, name=f"Bolsa {store.code}"),
        }
    return {
        "company": company,
        "a": store_a,
        "b": store_b,
        "ra": register_a,
        "rb": register_b,
        "ana": cashier_a,
        "beto": cashier_b,
        "manager": manager,
        "owner": owner,
        "items": items,
    }


@pytest.fixture
def day_written(client, chain):
    """The scenario: documents on ``DAY`` (and a few on the days around it) through the API."""
    a, b = chain["items"]["0000"], chain["items"]["0001"]
    ruc = {"doc_type": "6", "doc_number": "20100066603", "name": "DISTRIBUIDORA EL SOL S.A.C."}
    client.force_login(chain["ana"])
    sold = {
        "early": sell(
            client,
            at(DAY, 0, 5),
            [line(a["rice"], "5")],
            [{"method": "plin", "amount": "21.35"}],
            document_type="01",
            customer=ruc,
        ),
        "s1": sell(
            client, at(DAY, 9, 15), [line(a["rice"], "3"), line(a["bag"], "2")], [{"method": "cash", "amount": "20.00"}]
        ),
        "s2": sell(
            client,
            at(DAY, 9, 40),
            [line(a["book"], "1"), line(a["potato"], "1.235")],
            [{"method": "card", "amount": "29.43"}],
        ),
        "s3": sell(client, at(DAY, 10, 5), [line(a["rice"], "1")], [{"method": "yape", "amount": "4.27"}]),
        "s4": sell(
            client,
            at(DAY, 23, 50),
            [line(a["rice"], "2"), line(a["book"], "1")],
            [{"method": "card", "amount": "10.00"}, {"method": "cash", "amount": "30.00"}],
        ),
        "s6": sell(client, at(DAY, 13, 0), [line(a["rice"], "1")], [{"method": "cash", "amount": "5.00"}]),
        "before": sell(
            client, at(DAY - timedelta(days=1), 22, 0), [line(a["rice"], "1")], [{"method": "cash", "amount": "5.00"}]
        ),
    }
    # The cashier returns part of s2 with a manager's approval (card refund), the next morning.
    returned_next_day = give_back(
        client,
        at(DAY + timedelta(days=1), 8, 0),
        sold["s2"],
        [{"line": 1, "quantity": "1", "restock": True}],
        [{"method": "card", "amount": "25.00"}],
        approval={"username": "gerente_a", "pin": "2468"},
    )
    client.force_login(chain["manager"])
    # The manager returns a bag and a rice of s1 in cash (rounded up) and voids s6, on DAY.
    total = client.get(f"/api/v1/sales/{sold['s1'].public_id}/return-quote?line=1&quantity=1&line=2&quantity=1").json()[
        "total"
    ]
    assert money.cash_refund_due(D(total)) != D(total)  # the cash handed back is rounded up
    returned = give_back(
        client,
        at(DAY, 15, 0),
        sold["s1"],
        [{"line": 1, "quantity": "1", "restock": True}, {"line": 2, "quantity": "1", "restock": False}],
        [{"method": "cash", "amount": total}],
    )
    with clock(at(DAY, 13, 30)):
        response = post(
            client,
            f"/api/v1/sales/{sold['s6'].public_id}/void",
            {"idempotency_key": key(), "reason": "Venta duplicada"},
        )
    assert response.status_code == 202, response.content
    client.force_login(chain["beto"])
    sold["t1"] = sell(client, at(DAY, 11, 0), [line(b["rice"], "4")], [{"method": "cash", "amount": "20.00"}])
    sold["t2"] = sell(
        client, at(DAY, 11, 30), [line(b["book"], "1"), line(b["bag"], "1")], [{"method": "cash", "amount": "30.00"}]
    )
    # Ana closes short by S/ 1.30 on DAY; Beto's close comes after midnight.
    client.force_login(chain["ana"])
    session_a = CashSession.objects.get(register=chain["ra"], status="open")
    with clock(at(DAY, 23, 55)):
        x = client.get(f"/api/v1/sessions/{session_a.public_id}/report").json()
    counted = {m: x["expected"][m] for m in METHODS}
    counted["cash"] = money.as_text(D(x["expected"]["cash"]) - D("1.30"))
    close(client, at(DAY, 23, 58), session_a, counted)
    client.force_login(chain["beto"])
    session_b = CashSession.objects.get(register=chain["rb"], status="open")
    with clock(at(DAY + timedelta(days=1), 0, 30)):
        x = client.get(f"/api/v1/sessions/{session_b.public_id}/report").json()
    close(client, at(DAY + timedelta(days=1), 0, 31), session_b, {m: x["expected"][m] for m in METHODS})
    # One document SUNAT rejected, one accepted; the rest stay pending.
    SunatDocument.objects.filter(pk=sold["s3"].sunat_document_id).update(status=DocumentStatus.REJECTED)
    SunatDocument.objects.filter(pk=sold["t1"].sunat_document_id).update(status=DocumentStatus.ACCEPTED)
    return {"sold": sold, "returned": returned, "returned_next_day": returned_next_day}


def recompute(day: date, stores) -> dict:
    """The daily report of ``day`` over ``stores``, from the rows, in Python."""
    lo = datetime.combine(day, time.min, tzinfo=LIMA)
    hi = lo + timedelta(days=1)
    store_ids = {s.pk for s in stores}

    def on_day(instant):
        return lo <= instant < hi

    def hour(instant):
        return instant.astimezone(LIMA).hour

    sales = [s for s in Sale.objects.filter(store_id__in=store_ids) if on_day(s.issued_at)]
    notes = [r for r in SaleReturn.objects.filter(store_id__in=store_ids) if on_day(r.issued_at)]
    voids = [
        v for v in SaleVoid.objects.select_related("sale").filter(store_id__in=store_ids) if on_day(v.requested_at)
    ]
    payments = {m: D("0.00") for m in METHODS}
    for p in Payment.objects.filter(sale__in=sales):
        payments[p.method] += p.amount - p.rounding  # cash: tendered − change; others: rounding 0
    refunds = {m: D("0.00") for m in METHODS}
    for r in Refund.objects.filter(store_id__in=store_ids).select_related("sale_return", "sale_void"):
        when = r.sale_return.issued_at if r.sale_return_id else r.sale_void.requested_at
        if on_day(when):
            refunds[r.method] += r.handed

    def money_sum(values):
        return sum(values, D("0.00"))

    def net(sale_rows, note_rows, void_rows):
        return money.as_text(
            money_sum(s.total for s in sale_rows)
            - money_sum(r.total for r in note_rows)
            - money_sum(v.sale.total for v in void_rows)
        )

    User = get_user_model()
    users = set()
    users |= {s.cashier_id for s in sales} | {r.cashier_id for r in notes} | {v.requested_by_id for v in voids}
    closed = [c for c in CashSession.objects.filter(store_id__in=store_ids, status="closed") if on_day(c.closed_at)]
    users |= {c.opened_by_id for c in closed}
    by_cashier = []
    for user in sorted(User.objects.filter(pk__in=users), key=lambda u: u.username):
        by_cashier.append(
            {
                "username": user.username,
                "count": sum(1 for s in sales if s.cashier_id == user.pk),
                "net_total": net(
                    [s for s in sales if s.cashier_id == user.pk],
                    [r for r in notes if r.cashier_id == user.pk],
                    [v for v in voids if v.requested_by_id == user.pk],
                ),
                "cash_difference": money.as_text(
                    money_sum(c.cash_difference for c in closed if c.opened_by_id == user.pk)
                ),
            }
        )
    products: dict[int, dict] = {}
    for sl in SaleLine.objects.filter(sale__in=sales):
        row = products.setdefault(
            sl.product_id, {"barcode": sl.barcode, "name": sl.description, "quantity": D("0.000"), "total": D("0.00")}
        )
        row["quantity"] += sl.quantity
        row["total"] += sl.amount + sl.icbper
    top = sorted(products.items(), key=lambda kv: (-kv[1]["total"], -kv[1]["quantity"], kv[0]))[:10]
    documents = [d for d in SunatDocument.objects.filter(store_id__in=store_ids) if on_day(d.issued_at)]
    return {
        "date": day.isoformat(),
        "sales": {
            "count": len(sales),
            "total": money.as_text(money_sum(s.total for s in sales)),
            "igv": money.as_text(money_sum(s.igv for s in sales)),
            "icbper": money.as_text(money_sum(s.icbper for s in sales)),
        },
        "returns": {"count": len(notes), "total": money.as_text(money_sum(r.total for r in notes))},
        "voids": {"count": len(voids), "total": money.as_text(money_sum(v.sale.total for v in voids))},
        "net_total": net(sales, notes, voids),
        "payments": {m: money.as_text(v) for m, v in payments.items()},
        "refunds": {m: money.as_text(v) for m, v in refunds.items()},
        "by_store": [
            {
                "store": s.code,
                "count": sum(1 for x in sales if x.store_id == s.pk),
                "net_total": net(
                    [x for x in sales if x.store_id == s.pk],
                    [r for r in notes if r.store_id == s.pk],
                    [v for v in voids if v.store_id == s.pk],
                ),
            }
            for s in sorted(stores, key=lambda s: s.code)
        ],
        "by_cashier": by_cashier,
        "by_hour": [
            {
                "hour": h,
                "count": sum(1 for s in sales if hour(s.issued_at) == h),
                "net_total": net(
                    [s for s in sales if hour(s.issued_at) == h],
                    [r for r in notes if hour(r.issued_at) == h],
                    [v for v in voids if hour(v.requested_at) == h],
                ),
            }
            for h in range(24)
        ],
        "top_products": [
            {
                "barcode": p["barcode"],
                "name": p["name"],
                "quantity": format(p["quantity"], "f"),
                "total": money.as_text(p["total"]),
            }
            for _, p in top
        ],
        "sunat": {status: sum(1 for d in documents if d.status == status) for status in DocumentStatus.values},
    }


def test_every_figure_of_the_chain_day_equals_the_rows(client, chain, day_written):
    client.force_login(chain["owner"])
    response = client.get(f"/api/v1/reports/daily?date={DAY}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert response["X-Reports-Source"] == "primary"
    assert body == {**recompute(DAY, [chain["a"], chain["b"]]), "store": None}
    # The scenario really exercises what the rules are about (the recomputation alone could be empty).
    sold = day_written["sold"]
    assert body["sales"]["count"] == 8  # early, s1…s4, s6 in A; t1, t2 in B — not "before"
    assert body["returns"] == {"count": 1, "total": money.as_text(day_written["returned"].total)}  # not the next day's
    assert body["voids"] == {"count": 1, "total": money.as_text(sold["s6"].total)}
    cash = Payment.objects.filter(method="cash", sale__in=[s for k, s in sold.items() if k != "before"])
    assert body["payments"]["cash"] == money.as_text(sum((p.amount - p.rounding for p in cash), D(0)))
    assert sum((p.rounding for p in cash), D(0)) > 0  # cash rounding happened, in the customers' favour
    assert body["refunds"]["cash"] == money.as_text(
        money.cash_refund_due(day_written["returned"].total) + money.cash_due(sold["s6"].total)
    )
    assert body["by_hour"][0]["count"] == 1 and body["by_hour"][23]["count"] == 1
    cashiers = {row["username"]: row for row in body["by_cashier"]}
    assert cashiers["ana"]["cash_difference"] == "-1.30" and cashiers["beto"]["cash_difference"] == "0.00"
    assert cashiers["gerente_a"]["count"] == 0 and D(cashiers["gerente_a"]["net_total"]) < 0  # the return and the void
    assert body["sunat"]["rejected"] == 1 and body["sunat"]["accepted"] == 1


def test_cash_rounding_shows_in_payments_not_in_the_fiscal_total(client, chain, day_written):
    client.force_login(chain["owner"])
    body = client.get(f"/api/v1/reports/daily?date={DAY}&store=0001").json()
    t1, t2 = day_written["sold"]["t1"], day_written["sold"]["t2"]
    assert body["sales"]["total"] == money.as_text(t1.total + t2.total)  # 17.08 + 25.50: fiscal
    assert body["payments"]["cash"] == money.as_text(
        money.cash_due(t1.total) + money.cash_due(t2.total)
    )  # 17.00 + 25.50
    assert body["payments"]["cash"] != body["sales"]["total"]
    assert body == {**recompute(DAY, [chain["b"]]), "store": "0001"}


def test_the_day_before_and_after_follow_the_same_rules(client, chain, day_written):
    client.force_login(chain["owner"])
    for day in (DAY - timedelta(days=1), DAY + timedelta(days=1)):
        body = client.get(f"/api/v1/reports/daily?date={day}").json()
        assert body == {**recompute(day, [chain["a"], chain["b"]]), "store": None}
    after = client.get(f"/api/v1/reports/daily?date={DAY + timedelta(days=1)}").json()
    assert after["returns"]["count"] == 1 and after["sales"]["count"] == 0  # the note counts on its own day
    assert {r["username"]: r["cash_difference"] for r in after["by_cashier"]}["beto"] == "0.00"


def test_a_manager_sees_their_store_only(client, chain, day_written):
    client.force_login(chain["manager"])
    body = client.get(f"/api/v1/reports/daily?date={DAY}").json()
    assert [row["store"] for row in body["by_store"]] == ["0000"]
    assert body == {**recompute(DAY, [chain["a"]]), "store": None}
    outside = client.get(f"/api/v1/reports/daily?date={DAY}&store=0001")
    missing = client.get(f"/api/v1/reports/daily?date={DAY}&store=9999")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json() == {"errors": {"store": ["Tienda no encontrada."]}}


def test_a_superuser_reads_any_store(client, chain, day_written):
    root = get_user_model().objects.create_superuser(username="root", password="x")
    client.force_login(root)
    body = client.get(f"/api/v1/reports/daily?date={DAY}&store=20000000001/0000").json()
    assert body == {**recompute(DAY, [chain["a"]]), "store": "0000"}


def test_cashiers_get_403_and_anonymous_users_too(client, chain):
    client.force_login(chain["ana"])
    response = client.get("/api/v1/reports/daily")
    assert response.status_code == 403
    assert response.json() == {
        "errors": {"user": ["Los reportes son para gerentes de tienda y administradores de la empresa."]}
    }
    client.logout()
    assert client.get("/api/v1/reports/daily").status_code == 403


@pytest.mark.parametrize("query", ["date=2026-13-01", "date=ayer", "date=10/03/2026"])
def test_a_date_that_does_not_parse_is_400(client, chain, query):
    client.force_login(chain["owner"])
    response = client.get(f"/api/v1/reports/daily?{query}")
    assert response.status_code == 400
    assert response.json() == {"errors": {"date": ["Fecha inválida: use AAAA-MM-DD."]}}


def test_the_date_defaults_to_today_in_lima(client, chain):
    client.force_login(chain["owner"])
    with clock(at(DAY, 23, 30)):  # 04:30 UTC of the next day
        body = client.get("/api/v1/reports/daily").json()
    assert body["date"] == DAY.isoformat()
    assert body["sales"]["count"] == 0 and len(body["by_hour"]) == 24 and body["top_products"] == []

"""Cash sessions over the API: open, cash in/out with approvals, X and Z reports, the blind close,
and every bad input the contract names (each a Spanish 4xx that writes nothing)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from sales.models import CashMovement, CashSession, IdempotentRequest, Sale
from sales.tests.factories import cashier_make, manager_make, product_make, store_make
from stores.models import ApprovalFailure, AuditEvent

pytestmark = pytest.mark.django_db

COUNTED_ZERO = {"cash": "0.00", "card": "0.00", "yape": "0.00", "plin": "0.00"}


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def till(client, store, register):
    """A cashier of ``store`` without an open session, signed in."""
    cashier = cashier_make(store=store, open_session=False)
    client.force_login(cashier)
    return cashier


def open_session(client, opening_float="100.00", **extra):
    response = post(client, "/api/v1/sessions", {"idempotency_key": key(), "opening_float": opening_float, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def sell(client, item, *, quantity="1", cash="50.00", **extra):
    body = {
        "idempotency_key": key(),
        "document_type": "03",
        "lines": [{"barcode": item.product.barcode, "quantity": quantity}],
        "payments": [{"method": "cash", "amount": cash}],
        **extra,
    }
    return post(client, "/api/v1/checkout", body)


# --------------------------------------------------------------------------------- open


def test_open_answers_the_session_and_a_second_open_is_409(client, till, register):
    body = open_session(client, "150.50")
    assert body["status"] == "open" and body["opening_float"] == "150.50" and body["opened_by"] == till.username
    assert body["z_number"] is None and body["closed_at"] is None and body["register"] == "0000/CAJA1"
    again = post(client, "/api/v1/sessions", {"idempotency_key": key(), "opening_float": "10.00"})
    assert again.status_code == 409 and "session" in again.json()["errors"]
    assert CashSession.objects.filter(register=register).count() == 1
    current = client.get("/api/v1/sessions/current")
    assert current.status_code == 200 and current.json()["id"] == body["id"]
    events = list(AuditEvent.objects.filter(action="session.open").values_list("data", flat=True))
    assert events == [{"register": "CAJA1", "opening_float": "150.50"}]


def test_current_is_404_without_an_open_session(client, till):
    response = client.get("/api/v1/sessions/current")
    assert response.status_code == 404 and "session" in response.json()["errors"]


def test_open_replayed_with_the_same_key_gets_the_same_answer_and_another_body_is_409(client, till):
    k = key()
    first = post(client, "/api/v1/sessions", {"idempotency_key": k, "opening_float": "20.00"})
    replay = post(client, "/api/v1/sessions", {"idempotency_key": k, "opening_float": "20.0"})
    assert first.status_code == 201 and replay.status_code == 201 and replay.json() == first.json()
    other = post(client, "/api/v1/sessions", {"idempotency_key": k, "opening_float": "30.00"})
    assert other.status_code == 409 and "idempotency_key" in other.json()["errors"]
    assert CashSession.objects.count() == 1 and AuditEvent.objects.filter(action="session.open").count() == 1


@pytest.mark.parametrize(
    "opening_float, message",
    [
        ("-1.00", "no puede ser negativo"),
        ("abc", "número decimal"),
        (12.5, "número decimal"),
        ("1.234", "2 decimales"),
        ("100000.01", "100,000.00"),
    ],
)
def test_a_bad_float_is_400_in_spanish_and_writes_nothing(client, till, opening_float, message):
    response = post(client, "/api/v1/sessions", {"idempotency_key": key(), "opening_float": opening_float})
    assert response.status_code == 400
    assert message in response.json()["errors"]["opening_float"][0]
    assert (
        not CashSession.objects.exists() and not IdempotentRequest.objects.exists() and not AuditEvent.objects.exists()
    )


def test_a_nul_character_in_a_movement_reason_is_400_and_writes_nothing(client, till):
    session = post(client, "/api/v1/sessions", {"idempotency_key": key(), "opening_float": "10.00"}).json()
    before = AuditEvent.objects.count()
    response = post(
        client,
        f"/api/v1/sessions/{session['id']}/movements",
        {"idempotency_key": key(), "kind": "in", "amount": "1.00", "reason": "cambio\u0000"},
    )
    assert response.status_code == 400, response.content
    assert "body" in response.json()["errors"]
    assert AuditEvent.objects.count() == before


def test_an_unknown_register_is_400(client, till):
    response = post(
        client, "/api/v1/sessions", {"idempotency_key": key(), "opening_float": "1.00", "register": "NOEXISTE"}
    )
    assert response.status_code == 400 and "register" in response.json()["errors"]
    assert not CashSession.objects.exists()


def test_checkout_without_an_open_session_is_409_and_sells_nothing(client, till, store):
    item = product_make(store=store, price="2.00")
    response = sell(client, item)
    assert response.status_code == 409 and "session" in response.json()["errors"]
    assert not Sale.objects.exists()
    item.refresh_from_db()
    assert item.stock == Decimal("100")


def test_each_sale_records_the_open_session(client, till, store):
    session = open_session(client)
    item = product_make(store=store, price="2.00")
    assert sell(client, item).status_code == 201
    assert list(Sale.objects.values_list("session__public_id", flat=True)) == [uuid.UUID(session["id"])]


# ------------------------------------------------------------------------ cash in and out


def movement(client, session_id, **body):
    return post(client, f"/api/v1/sessions/{session_id}/movements", {"idempotency_key": key(), **body})


def test_cash_in_needs_no_approval_and_cash_out_does(client, till, store):
    session = open_session(client, "50.00")
    done = movement(client, session["id"], kind="in", amount="20.00", reason="Sencillo")
    assert done.status_code == 201 and done.json()["kind"] == "in" and done.json()["amount"] == "20.00"
    refused = movement(client, session["id"], kind="out", amount="10.00", reason="Proveedor")
    assert refused.status_code == 403
    assert refused.json() == {"errors": {"approval": ["Se requiere la autorización de un supervisor."]}}
    assert CashMovement.objects.count() == 1
    assert not AuditEvent.objects.filter(action="approval.refused").exists()  # missing is not refused


def test_cash_out_with_the_managers_pin_is_recorded_with_the_approver(client, till, store):
    manager = manager_make(store=store, pin="2468")
    session = open_session(client, "50.00")
    done = movement(
        client,
        session["id"],
        kind="out",
        amount="30.00",
        reason="Pago a proveedor",
        approval={"username": manager.username, "pin": "2468"},
    )
    assert done.status_code == 201, done.content
    row = CashMovement.objects.get()
    assert row.approved_by == manager and row.created_by == till and row.amount == Decimal("30.00")
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "approver_id"))
    assert actions[-2:] == [("approval.granted", manager.pk), ("cash.out", manager.pk)]


def test_a_manager_takes_cash_out_without_an_approval(client, store, register):
    manager = manager_make(store=store)
    client.force_login(manager)
    session = open_session(client, "50.00")
    done = movement(client, session["id"], kind="out", amount="5.00", reason="Caja chica")
    assert done.status_code == 201 and CashMovement.objects.get().approved_by == manager


def test_cash_out_above_what_the_drawer_should_hold_is_409(client, store, register):
    manager = manager_make(store=store)
    client.force_login(manager)
    session = open_session(client, "50.00")
    item = product_make(store=store, price="10.00")
    assert sell(client, item, cash="20.00").status_code == 201  # the drawer: 50 + 10
    too_much = movement(client, session["id"], kind="out", amount="60.01", reason="Depósito")
    assert too_much.status_code == 409 and "60.00" in too_much.json()["errors"]["amount"][0]
    assert movement(client, session["id"], kind="out", amount="60.00", reason="Depósito").status_code == 201


@pytest.mark.parametrize(
    "approver_kind",
    ["wrong_pin", "a_cashier", "manager_of_another_store", "unknown_user"],
)
def test_a_refused_approval_is_403_and_writes_only_its_audit_event_and_its_counter(
    client, till, store, company, approver_kind
):
    manager = manager_make(store=store, pin="2468")
    other_store, _ = store_make(company=company, code="0001", n=2)
    approval = {
        "wrong_pin": {"username": manager.username, "pin": "1111"},
        "a_cashier": {"username": cashier_make(store=store, open_session=False).username, "pin": "2468"},
        "manager_of_another_store": {"username": manager_make(store=other_store, pin="2468").username, "pin": "2468"},
        "unknown_user": {"username": "nadie", "pin": "2468"},
    }[approver_kind]
    session = open_session(client, "50.00")
    before = AuditEvent.objects.count()
    refused = movement(client, session["id"], kind="out", amount="5.00", reason="x", approval=approval)
    assert refused.status_code == 403 and "approval" in refused.json()["errors"]
    assert not CashMovement.objects.exists()
    assert list(AuditEvent.objects.filter(seq__gt=before).values_list("action", flat=True)) == ["approval.refused"]
    assert ApprovalFailure.objects.filter(username=approval["username"]).count() == 1


@pytest.mark.parametrize(
    ("approval", "message"),
    [
        ({"username": " ", "pin": "2468"}, "Indique el usuario y el PIN del supervisor."),
        ({"username": "gerente1", "pin": 2468}, "Indique el usuario y el PIN del supervisor."),
        ({"username": "gerente1", "pin": ""}, "Indique el usuario y el PIN del supervisor."),
        ({"username": "gerente1", "pin": "2468\n"}, "El PIN debe tener de 4 a 8 dígitos."),
        ({"username": "gerente1", "pin": "٢٤٦٨"}, "El PIN debe tener de 4 a 8 dígitos."),
        ({"username": "gerente1", "pin": "24x8"}, "El PIN debe tener de 4 a 8 dígitos."),
        ({"username": "gerente1", "pin": "123456789"}, "El PIN debe tener de 4 a 8 dígitos."),
    ],
)
def test_a_malformed_approval_is_403_in_spanish_and_records_nothing(client, till, store, approval, message):
    manager_make(store=store, username="gerente1", pin="2468")
    session = open_session(client, "50.00")
    before = AuditEvent.objects.count()
    refused = movement(client, session["id"], kind="out", amount="5.00", reason="x", approval=approval)
    assert refused.status_code == 403 and refused.json() == {"errors": {"approval": [message]}}
    assert AuditEvent.objects.count() == before and not ApprovalFailure.objects.exists()
    assert not CashMovement.objects.exists()


def test_five_wrong_pins_lock_the_manager_for_fifteen_minutes(client, till, store):
    manager = manager_make(store=store, pin="2468")
    session = open_session(client, "50.00")
    for _ in range(5):
        wrong = movement(
            client,
            session["id"],
            kind="out",
            amount="1.00",
            reason="x",
            approval={"username": manager.username, "pin": "0000"},
        )
        assert wrong.status_code == 403
    locked = movement(
        client,
        session["id"],
        kind="out",
        amount="1.00",
        reason="x",
        approval={"username": manager.username, "pin": "2468"},
    )
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 800
    assert not CashMovement.objects.exists()
    # The window slides: failures older than 15 minutes no longer count.
    ApprovalFailure.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    ok = movement(
        client,
        session["id"],
        kind="out",
        amount="1.00",
        reason="x",
        approval={"username": manager.username, "pin": "2468"},
    )
    assert ok.status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "in", "amount": "-5.00", "reason": "x"}, "amount"),
        ({"kind": "in", "amount": "0", "reason": "x"}, "amount"),
        ({"kind": "in", "amount": "1.001", "reason": "x"}, "amount"),
        ({"kind": "in", "amount": "diez", "reason": "x"}, "amount"),
        ({"kind": "side", "amount": "1.00", "reason": "x"}, "kind"),
        ({"kind": "in", "amount": "1.00", "reason": ""}, "reason"),
    ],
)
def test_bad_movements_are_400_and_write_nothing(client, till, body, field):
    session = open_session(client)
    response = movement(client, session["id"], **body)
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not CashMovement.objects.exists()


def test_another_stores_session_is_404_like_a_missing_one(client, till, company):
    other_store, _ = store_make(company=company, code="0001", n=2)
    other_cashier = cashier_make(store=other_store)
    other = CashSession.objects.get(opened_by=other_cashier)
    for session_id in (other.public_id, uuid.uuid4(), "no-es-uuid"):
        assert movement(client, session_id, kind="in", amount="1.00", reason="x").status_code == 404
        assert client.get(f"/api/v1/sessions/{session_id}/report").status_code == 404
        close = post(
            client, f"/api/v1/sessions/{session_id}/close", {"idempotency_key": key(), "counted": COUNTED_ZERO}
        )
        assert close.status_code == 404
    assert not CashMovement.objects.exists() and CashSession.objects.get(pk=other.pk).status == "open"


def test_a_movement_replayed_is_one_movement_and_another_body_with_its_key_is_409(client, till):
    session = open_session(client)
    k = key()
    url = f"/api/v1/sessions/{session['id']}/movements"
    first = post(client, url, {"idempotency_key": k, "kind": "in", "amount": "5.00", "reason": "Sencillo"})
    again = post(client, url, {"idempotency_key": k, "kind": "in", "amount": "5.00", "reason": "Sencillo"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = post(client, url, {"idempotency_key": k, "kind": "in", "amount": "6.00", "reason": "Sencillo"})
    assert other.status_code == 409
    assert CashMovement.objects.count() == 1


# ------------------------------------------------------------------------ X, Z and the close


def close(client, session_id, counted=None, **extra):
    return post(
        client,
        f"/api/v1/sessions/{session_id}/close",
        {"idempotency_key": key(), "counted": counted or COUNTED_ZERO, **extra},
    )


def test_the_x_report_changes_nothing_and_the_z_is_identical_on_every_read(client, till, store):
    session = open_session(client, "100.00")
    item = product_make(store=store, price="3.33")
    assert sell(client, item, cash="10.00").status_code == 201  # 3.33 due 3.30 in cash
    x1 = client.get(f"/api/v1/sessions/{session['id']}/report").json()
    x2 = client.get(f"/api/v1/sessions/{session['id']}/report").json()
    assert x1 == x2 and x1["kind"] == "X" and x1["counted"] is None and x1["difference"] is None
    assert x1["cash"] == {
        "opening_float": "100.00",
        "sales": "3.30",
        "refunds": "0.00",
        "in": "0.00",
        "out": "0.00",
        "rounding": "-0.03",
        "expected": "103.30",
    }
    assert CashSession.objects.get().status == "open"
    z = close(client, session["id"], {"cash": "103.30", "card": "0", "yape": "0", "plin": "0"})
    assert z.status_code == 200
    body = z.json()
    assert body["kind"] == "Z" and body["session"]["z_number"] == 1 and body["session"]["status"] == "closed"
    assert body["difference"] == {"cash": "0.00", "card": "0.00", "yape": "0.00", "plin": "0.00"}
    for _ in range(2):
        assert client.get(f"/api/v1/sessions/{session['id']}/report").json() == body


def test_a_closed_session_refuses_everything_with_409(client, till, store):
    session = open_session(client, "0.00")
    assert close(client, session["id"]).status_code == 200
    assert movement(client, session["id"], kind="in", amount="1.00", reason="x").status_code == 409
    assert close(client, session["id"]).status_code == 409
    assert sell(client, product_make(store=store)).status_code == 409


def test_close_needs_every_method_and_denominations_that_add_up(client, till):
    session = open_session(client, "25.50")
    missing = close(client, session["id"], {"cash": "0.00", "card": "0.00"})
    assert missing.status_code == 400 and set(missing.json()["errors"]) == {"counted.yape", "counted.plin"}
    short = close(client, session["id"], COUNTED_ZERO | {"cash": "30.00"}, denominations={"20.00": 1, "5.00": 1})
    assert short.status_code == 400 and "25.00" in short.json()["errors"]["denominations"][0]
    unknown = close(client, session["id"], COUNTED_ZERO, denominations={"3.00": 1})
    assert unknown.status_code == 400 and "denominations" in unknown.json()["errors"]
    negative = close(client, session["id"], COUNTED_ZERO, denominations={"1.00": -1})
    assert negative.status_code == 400 and "negativa" in negative.json()["errors"]["denominations"][0]
    assert CashSession.objects.get().status == "open"
    ok = close(
        client, session["id"], COUNTED_ZERO | {"cash": "25.50"}, denominations={"20.00": 1, "5.00": 1, "0.50": 1}
    )
    assert ok.status_code == 200 and CashSession.objects.get().denominations == {"20.00": 1, "5.00": 1, "0.50": 1}


def test_a_difference_over_the_threshold_needs_a_manager_and_under_it_does_not(client, till, store, company):
    manager = manager_make(store=store, pin="2468")
    session = open_session(client, "100.00")
    over = close(client, session["id"], COUNTED_ZERO | {"cash": "94.99"})  # short S/ 5.01
    assert over.status_code == 403 and over.json()["errors"]["approval"]
    assert CashSession.objects.get().status == "open"
    approved = close(
        client, session["id"], COUNTED_ZERO | {"cash": "94.99"}, approval={"username": manager.username, "pin": "2468"}
    )
    assert approved.status_code == 200 and approved.json()["difference"]["cash"] == "-5.01"
    closed = CashSession.objects.get()
    assert closed.close_approved_by == manager and closed.cash_difference == Decimal("-5.01")
    # The next shift: S/ 5.00 short is within the threshold; the threshold is the company's.
    session2 = open_session(client, "100.00")
    assert close(client, session2["id"], COUNTED_ZERO | {"cash": "95.00"}).status_code == 200
    company.cash_difference_threshold = Decimal("0.00")
    company.save()
    session3 = open_session(client, "10.00")
    assert close(client, session3["id"], COUNTED_ZERO | {"cash": "10.10"}).status_code == 403


def test_z_numbers_run_without_gaps_per_register(client, till, store, company):
    _, register2 = store_make(company=company, code="0001", n=2)
    numbers = []
    for _ in range(3):
        session = open_session(client, "0.00")
        numbers.append(close(client, session["id"]).json()["session"]["z_number"])
    assert numbers == [1, 2, 3]
    other = cashier_make(store=register2.store)
    client.force_login(other)
    session = CashSession.objects.get(register=register2, status="open")
    assert close(client, session.public_id, COUNTED_ZERO | {"cash": "100.00"}).json()["session"]["z_number"] == 1


def test_a_session_left_open_past_midnight_is_still_closable(client, till, store):
    session = open_session(client, "10.00")
    item = product_make(store=store, price="2.00")
    assert sell(client, item, cash="2.00").status_code == 201
    yesterday = timezone.now() - timedelta(days=1, hours=3)
    CashSession.objects.update(opened_at=yesterday)
    Sale.objects.update(issued_at=yesterday)
    z = close(client, session["id"], COUNTED_ZERO | {"cash": "12.00"})
    assert z.status_code == 200 and z.json()["sales"]["count"] == 1


def test_the_database_refuses_to_change_a_closed_session(client, till):
    """Invariant 11: a closed session never changes, whatever code path tries."""
    session = open_session(client, "0.00")
    assert close(client, session["id"]).status_code == 200
    row = CashSession.objects.get()
    with pytest.raises(DatabaseError, match="closed and cannot change"):
        with transaction.atomic():
            CashSession.objects.filter(pk=row.pk).update(note="cambiado")
    with pytest.raises(DatabaseError, match="closed and cannot change"):
        with transaction.atomic():
            CashSession.objects.filter(pk=row.pk).delete()


def test_the_database_refuses_a_second_open_session_on_a_register(client, till, register):
    open_session(client)
    with pytest.raises(DatabaseError, match="cash_session_one_open_per_register"):
        with transaction.atomic():
            CashSession.objects.create(
                company=register.company,
                store=register.store,
                register=register,
                opened_at=timezone.now(),
                opened_by=till,
                opening_float=Decimal("0"),
            )


def test_the_database_refuses_a_new_sale_without_a_session(client, till, store):
    open_session(client)
    item = product_make(store=store, price="2.00")
    assert sell(client, item).status_code == 201
    with pytest.raises(DatabaseError, match="sale_session_required"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE sales_sale SET session_id = NULL")

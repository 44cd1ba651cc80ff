"""The audit log (invariant 13): append-only, chained per company, verified by audit_verify, and
written by every sensitive action in the action's own transaction."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.utils import DatabaseError

from sales.tests.factories import cashier_make, company_make, product_make, store_make
from stores.audit import audit_chain_verify, audit_event_hash
from stores.models import AuditChain, AuditEvent, Membership, Role
from stores.services import audit_event_record

pytestmark = pytest.mark.django_db


def record(company, action="test.event", **data):
    with transaction.atomic():
        return audit_event_record(company_id=company.pk, action=action, data=data)


def audit_verify(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    except CommandError as exc:  # manage.py prints it as one line and exits 1
        code, err = 1, io.StringIO(str(exc))
    return code, out.getvalue() + err.getvalue()


def test_events_chain_per_company_and_verify():
    a, b = company_make(ruc="20000000001"), company_make(ruc="20100066603", name="Otra S.A.C.")
    first = record(a, amount=Decimal("1.50"))
    second = record(a, note="ñandú")
    other = record(b)
    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    assert first.prev_hash == "" and second.prev_hash == first.hash and other.prev_hash == ""
    second.refresh_from_db()
    assert audit_event_hash(second) == second.hash  # what was hashed is what reads back
    assert audit_chain_verify(company_id=a.pk) is None and audit_chain_verify(company_id=b.pk) is None
    assert audit_verify() == (
        0,
        "Empresa 20000000001: 2 eventos, cadena verificada.\nEmpresa 20100066603: 1 eventos, cadena verificada.\nAuditoría verificada.\n",
    )


def test_the_database_refuses_to_update_or_delete_an_event():
    event = record(company_make())
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="otra")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK checks pending for ALTER
        cursor.execute("ALTER TABLE stores_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE stores_auditevent ENABLE TRIGGER audit_event_append_only")


def test_an_altered_event_breaks_the_chain_and_audit_verify_names_it():
    company = company_make()
    record(company)
    second = record(company, amount="10.00")
    record(company)
    _tamper("UPDATE stores_auditevent SET data = %s WHERE id = %s", ['{"amount": "1.00"}', second.pk])
    broken = audit_chain_verify(company_id=company.pk)
    assert broken is not None and broken.seq == 2 and "alterado" in broken.reason
    code, text = audit_verify("--company", company.ruc)
    assert code == 1 and "evento n.º 2" in text and f"id {second.pk}" in text


def test_a_deleted_event_breaks_the_chain():
    company = company_make()
    events = [record(company) for _ in range(3)]
    _tamper("DELETE FROM stores_auditevent WHERE id = %s", [events[1].pk])
    broken = audit_chain_verify(company_id=company.pk)
    assert broken is not None and broken.seq == 2 and "falta" in broken.reason
    _tamper("DELETE FROM stores_auditevent WHERE id = %s", [events[2].pk])
    broken = audit_chain_verify(company_id=company.pk)  # the last one gone: the head says 3
    assert broken is not None and "cabeza" in broken.reason


def test_an_unknown_company_is_a_readable_error():
    code, text = audit_verify("--company", "20999999999")
    assert code == 1 and text == "No existe una empresa con RUC 20999999999."


def test_a_rolled_back_action_leaves_no_event_and_no_gap():
    company = company_make()
    record(company)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            audit_event_record(company_id=company.pk, action="x")
            raise RuntimeError
    assert record(company).seq == 2
    assert audit_chain_verify(company_id=company.pk) is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_of_one_company_form_one_unbroken_chain():
    company = company_make()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                with transaction.atomic():
                    audit_event_record(company_id=company.pk, action="test.concurrent", data={"worker": n, "i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert list(AuditEvent.objects.filter(company=company).order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 81)
    )
    assert audit_chain_verify(company_id=company.pk) is None
    assert AuditChain.objects.get(company=company).last_seq == 80


# ------------------------------------------------------------- actions audited from the admin

ADMIN = "/admin"


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "x")


def test_a_price_change_in_the_admin_is_audited(client, superuser):
    company = company_make()
    store, _ = store_make(company=company)
    item = product_make(store=store, price="2.50")
    client.force_login(superuser)
    response = client.post(f"{ADMIN}/sales/storeproduct/{item.pk}/change/", {"price": "2.80", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="price.change")
    assert event.data == {"product": item.product.sku, "before": "2.50", "after": "2.80"}
    assert event.actor == superuser and event.store_id == store.pk


def test_membership_changes_in_the_admin_are_audited(client, superuser, django_user_model):
    company = company_make()
    store, _ = store_make(company=company)
    cashier = cashier_make(store=store, open_session=False)
    membership = Membership.objects.get(user=cashier)
    client.force_login(superuser)
    response = client.post(
        f"{ADMIN}/stores/membership/{membership.pk}/change/",
        {"user": cashier.pk, "company": company.pk, "store": store.pk, "role": Role.STORE_MANAGER},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="membership.change")
    assert event.data["role"] == "manager" and event.data["before"]["role"] == "cashier"
    client.post(f"{ADMIN}/stores/membership/{membership.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(action="membership.delete", data__user=cashier.username).exists()


def test_the_audit_admin_is_read_only(client, superuser):
    event = record(company_make())
    client.force_login(superuser)
    assert client.get(f"{ADMIN}/stores/auditevent/").status_code == 200
    page = client.get(f"{ADMIN}/stores/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(f"{ADMIN}/stores/auditevent/add/").status_code == 403
    assert client.post(f"{ADMIN}/stores/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()

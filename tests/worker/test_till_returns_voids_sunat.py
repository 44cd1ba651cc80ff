"""From the till to SUNAT's records: sales, returns and voids made through the API, then the real
``sunat_worker`` (burst) against ``manage.py fake_sunat`` over HTTP, on the test database.

The double enforces SUNAT's rules (a note names a document it holds; an RA names live facturas;
boletas are voided by RC ConditionCode 3), so "accepted" here means SUNAT's rules passed.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid

import pytest
from django.test import Client

from sales.models import Sale, SaleReturn, SaleVoid
from sales.tests.factories import manager_make, product_make, session_ensure, store_make
from sunat import xml as ubl
from sunat.files import zip_bytes
from sunat.models import DocumentStatus, JobStatus, SunatDocument, SunatJob
from sunat.signing import document_sign
from sunat.snapshot import DocumentSnapshot
from sunat.soap import Endpoints, SunatClient
from sunat.tests import scenarios
from worker.tests.procs import manage, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("needs_sunat")]

RUC = {"doc_type": "6", "doc_number": "20100066603", "name": "DISTRIBUIDORA EL SOL S.A.C."}


def post(client, url, body):
    response = client.post(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def burst(fake) -> None:
    """Run ``sunat_worker --burst`` until no job is pending or running: a burst ends when nothing
    is due, and a note waiting for its original may only be due a few seconds later."""
    for _ in range(20):
        proc = manage(
            "sunat_worker",
            "--burst",
            "--poll-interval",
            "0.2",
            env=fake.env(SUNAT_RETRY_DELAYS="1,1,1,1", SUNAT_WAIT_FOR_ORIGINAL_SECONDS="0.5"),
        )
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-2000:]
        if not SunatJob.objects.filter(status__in=(JobStatus.PENDING, JobStatus.RUNNING)).exists():
            return
        time.sleep(0.5)
    raise AssertionError("SUNAT jobs still pending after 20 bursts")


@pytest.fixture
def till(sunat_company):
    store, register = store_make(company=sunat_company, code="0001", n=1)
    manager = manager_make(store=store)
    session_ensure(register=register, user=manager)
    client = Client()
    client.force_login(manager)
    items = {
        "rice": product_make(store=store, price="4.20"),
        "potato": product_make(store=store, price="3.59", affectation="30", unit_code="KGM"),
        "bag": product_make(store=store, price="0.10", is_plastic_bag=True),
    }
    return client, items


def sell(client, lines, **body) -> dict:
    status, answer = post(
        client,
        "/api/v1/checkout",
        {
            "idempotency_key": str(uuid.uuid4()),
            "document_type": "03",
            "lines": lines,
            "payments": [{"method": "cash", "amount": "100.00"}],
            **body,
        },
    )
    assert status == 201, answer
    return answer


def quote(client, sale_id, pairs) -> str:
    query = "&".join(f"line={n}&quantity={q}" for n, q in pairs)
    return client.get(f"/api/v1/sales/{sale_id}/return-quote?{query}").json()["total"]


def give_back(client, sale_id, pairs, reason_code="07") -> dict:
    total = quote(client, sale_id, pairs)
    status, answer = post(
        client,
        "/api/v1/returns",
        {
            "idempotency_key": str(uuid.uuid4()),
            "sale": sale_id,
            "reason_code": reason_code,
            "reason": "Producto dañado",
            "lines": [{"line": n, "quantity": q} for n, q in pairs],
            "refunds": [{"method": "cash", "amount": total}],
        },
    )
    assert status == 201, answer
    return answer


def test_notes_of_a_boleta_and_a_factura_and_voids_of_each_end_accepted_at_sunat(till, fake_sunat_process):
    client, items = till
    fake = fake_sunat_process()
    boleta = sell(
        client,
        [
            {"barcode": items["rice"].product.barcode, "quantity": "3"},
            {"barcode": items["potato"].product.barcode, "quantity": "1.235"},
            {"barcode": items["bag"].product.barcode, "quantity": "2"},
        ],
    )
    factura = sell(
        client, [{"barcode": items["rice"].product.barcode, "quantity": "2"}], document_type="01", customer=RUC
    )
    # The notes are made before SUNAT holds the originals: they wait for them.
    first = give_back(client, boleta["id"], [(1, "1"), (2, "0.500"), (3, "1")])
    rest = give_back(client, boleta["id"], [(1, "2"), (2, "0.735"), (3, "1")], reason_code="06")
    factura_note = give_back(client, factura["id"], [(1, "2")], reason_code="01")
    to_void_boleta = sell(client, [{"barcode": items["rice"].product.barcode, "quantity": "1"}])
    to_void_factura = sell(
        client, [{"barcode": items["rice"].product.barcode, "quantity": "1"}], document_type="01", customer=RUC
    )
    for sale in (to_void_boleta, to_void_factura):
        status, answer = post(
            client,
            f"/api/v1/sales/{sale['id']}/void",
            {"idempotency_key": str(uuid.uuid4()), "reason": "Venta duplicada"},
        )
        assert status == 202 and answer["status"] == "voiding", answer

    burst(fake)

    registry = fake.registry()
    for number in (first["number"], rest["number"], factura_note["number"]):
        note = SaleReturn.objects.get(series=number.split("-")[0], number=int(number.split("-")[1]))
        document = SunatDocument.objects.get(pk=note.sunat_document_id)
        assert document.status == DocumentStatus.ACCEPTED, (
            number,
            document.response_code,
            document.response_description,
        )
    for sale in (to_void_boleta, to_void_factura):
        void = SaleVoid.objects.get(sale__public_id=sale["id"])
        document = SunatDocument.objects.get(pk=void.sunat_document_id)
        assert document.status == DocumentStatus.ACCEPTED, (document.document_type, document.response_description)
        assert client.get(f"/api/v1/sales/{sale['id']}").json()["status"] == "voided"
    assert {
        d.document_type for d in SunatDocument.objects.filter(pk__in=SaleVoid.objects.values("sunat_document"))
    } == {"RA", "RC"}
    # Each note reached SUNAT after its original (the double keeps when it registered each file).
    detail = client.get(f"/api/v1/sales/{boleta['id']}").json()
    assert detail["status"] == "returned" and [r["sunat_status"] for r in detail["returns"]] == ["accepted", "accepted"]
    assert registry  # the double saw the files


def test_a_rejected_void_leaves_the_sale_voiding_with_sunats_message(till, fake_sunat_process):
    """The factura was voided in SUNAT SOL meanwhile (an RA sent outside BodegaPOS): SUNAT rejects
    the till's RA (2106). The void is an error for a person, and the sale stays ``voiding``."""
    client, items = till
    fake = fake_sunat_process()
    sale = sell(client, [{"barcode": items["rice"].product.barcode, "quantity": "1"}], document_type="01", customer=RUC)
    burst(fake)  # SUNAT holds the factura
    document_id = Sale.objects.values_list("sunat_document_id", flat=True).get(public_id=sale["id"])
    original = SunatDocument.objects.select_related("company").get(pk=document_id)
    assert original.status == DocumentStatus.ACCEPTED
    elsewhere = dataclasses.replace(scenarios.ra_void(DocumentSnapshot.from_json(original.snapshot)), sequence=9)
    name = ubl.file_name(elsewhere)
    signed = document_sign(xml=ubl.build(elsewhere), certificate=scenarios.dev_certificate()).xml
    sol = SunatClient(
        username=f"{original.company.ruc}MODDATOS",
        password="moddatos",
        endpoints=Endpoints(bill=fake.bill_url, consult=""),
    )
    ticket = sol.send_summary(file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=signed))
    assert wait_for(lambda: sol.get_status(ticket=ticket).status_code == "0", timeout=10, interval=0.2)

    status, answer = post(
        client, f"/api/v1/sales/{sale['id']}/void", {"idempotency_key": str(uuid.uuid4()), "reason": "Error en el RUC"}
    )
    assert status == 202, answer
    burst(fake)
    void = SaleVoid.objects.get()
    document = SunatDocument.objects.get(pk=void.sunat_document_id)
    assert (document.status, document.response_code) == (DocumentStatus.REJECTED, "2106")
    assert "baja" in document.response_description
    assert client.get(f"/api/v1/sales/{sale['id']}").json()["status"] == "voiding"

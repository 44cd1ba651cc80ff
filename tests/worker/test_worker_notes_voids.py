"""Notes and voids through the whole path as processes: ``sunat_worker`` (the real
``sunat_job_perform``, wrapped by ``worker.testing.checked_sunat_perform``) against ``manage.py
fake_sunat`` over HTTP, on the test database.

SUNAT's side is read from the double's registry (``GET /_registry``: what it registered, when,
how often it received each file, what it voided).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from django.db import transaction

from sunat import xml as ubl
from sunat.files import zip_bytes
from sunat.models import DocumentStatus, JobStatus, SunatDocument, SunatJob
from sunat.selectors import sunat_void_state
from sunat.services import document_file_name, sunat_document_issue, sunat_void_issue
from sunat.signing import document_sign
from sunat.soap import Endpoints, SunatClient
from worker.testing import simulation_tables_create
from worker.tests.procs import rows, scalar, stop, wait_for, worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("needs_sunat")]


def _scenarios():
    from sunat.tests import scenarios

    return scenarios


def issue(company, snapshot, *, original=None) -> SunatDocument:
    with transaction.atomic():
        return sunat_document_issue(company=company, store=None, snapshot=snapshot, original=original)


def void(company, original: SunatDocument) -> SunatDocument:
    with transaction.atomic():
        return sunat_void_issue(company=company, store=None, original=original, reason="ERROR EN LA VENTA")


def start_worker(procs, fake, *, poll: str = "0.5", **env: str):
    simulation_tables_create()
    proc = worker(
        "--concurrency",
        "3",
        "--poll-interval",
        poll,
        perform="worker.testing.checked_sunat_perform",
        env=fake.env(SUNAT_RETRY_DELAYS="1,1,1,1", SUNAT_LEASE_SECONDS="30", **env),
    )
    procs.append(proc)
    return proc


def settled(*documents: SunatDocument) -> bool:
    ids = [d.pk for d in documents]
    return not SunatJob.objects.filter(document_id__in=ids, status__in=(JobStatus.PENDING, JobStatus.RUNNING)).exists()


def reload(document: SunatDocument) -> SunatDocument:
    return SunatDocument.objects.select_related("company").get(pk=document.pk)


def registered_at(fake, document: SunatDocument) -> datetime:
    return datetime.fromisoformat(fake.registry()["documents"][document_file_name(reload(document))]["registered_at"])


def test_a_note_waits_for_its_original_in_flight_and_is_sent_right_after_it(sunat_company, procs, fake_sunat_process):
    """SUNAT answers after 2 s; the note, claimed with its factura, waits (60 s by setting) and
    is woken by the factura's acceptance: NOTIFY, not the 30 s poll, brings it back."""
    s = _scenarios()
    fake = fake_sunat_process("--latency-ms", "2000")
    factura = issue(sunat_company, s.sold_factura())
    note = issue(sunat_company, s.note_first_partial(s.sold_factura()), original=factura)
    proc = start_worker(procs, fake, poll="30", SUNAT_WAIT_FOR_ORIGINAL_SECONDS="60")
    assert wait_for(lambda: settled(factura, note), timeout=25, interval=0.2), rows(
        "SELECT document_id, status, kind, run_at, last_error FROM sunat_jobs"
    )
    assert stop(proc) == 0
    assert (reload(factura).status, reload(note).status) == (DocumentStatus.ACCEPTED, DocumentStatus.ACCEPTED)
    gap = (registered_at(fake, note) - registered_at(fake, factura)).total_seconds()
    assert 0 < gap < 10, gap  # after the factura, and long before the 60 s wait or the 30 s poll
    registry = fake.registry()
    assert registry["receptions"][document_file_name(reload(note))] == 1  # never sent while waiting
    runs = rows(
        "SELECT a.at FROM wt_attempts a JOIN sunat_jobs j ON j.id = a.job_id WHERE j.document_id = %s ORDER BY a.at",
        [note.pk],
    )
    assert len(runs) >= 2  # one run waited, one sent
    # Database clock: the note's last run started right after the factura's job finished. The
    # main loop also claims on its 5 s heartbeat, so this is NOTIFY's doing only when it is
    # this quick (test_notes_voids checks the notification itself).
    factura_done = scalar("SELECT finished_at FROM sunat_jobs WHERE document_id = %s", [factura.pk])
    assert (runs[-1][0] - factura_done).total_seconds() < 1.0, (runs, factura_done)
    assert scalar("SELECT count(*) FROM wt_overlap") == 0


def test_a_note_of_a_factura_sunat_rejected_ends_fix_and_is_never_sent(sunat_company, procs, fake_sunat_process):
    s = _scenarios()
    fake = fake_sunat_process()
    factura = issue(sunat_company, s.sold_factura())
    s.signed_bytes_sunat_rejects(factura)  # SUNAT's rules reject it in a CDR (2800)
    note = issue(sunat_company, s.note_first_partial(s.sold_factura()), original=factura)
    proc = start_worker(procs, fake, SUNAT_WAIT_FOR_ORIGINAL_SECONDS="1")
    assert wait_for(lambda: settled(factura, note), timeout=30, interval=0.2)
    assert stop(proc) == 0
    factura, note = reload(factura), reload(note)
    assert (factura.status, factura.response_code) == (DocumentStatus.REJECTED, "2800")
    assert (note.status, note.response_code) == (DocumentStatus.ERROR, "original")
    assert "SUNAT rechazó la factura F001-22 (2800" in note.response_description
    job = SunatJob.objects.get(document=note)
    assert job.status == JobStatus.FAILED and "F001-22" in job.last_error
    assert document_file_name(note) not in fake.registry()["receptions"]


def test_a_boleta_void_and_a_factura_void_wait_for_their_originals_and_end_accepted(
    sunat_company, procs, fake_sunat_process
):
    s = _scenarios()
    fake = fake_sunat_process("--ticket-polls", "2")
    boleta = issue(sunat_company, s.sold_boleta())
    factura = issue(sunat_company, s.sold_factura())
    rc, ra = void(sunat_company, boleta), void(sunat_company, factura)  # issued before SUNAT holds them
    assert (rc.full_number[-2:], ra.full_number[-2:]) == ("-1", "-1")
    proc = start_worker(procs, fake, SUNAT_WAIT_FOR_ORIGINAL_SECONDS="1")
    assert wait_for(lambda: settled(boleta, factura, rc, ra), timeout=40, interval=0.2), rows(
        "SELECT document_id, status, kind, last_error FROM sunat_jobs"
    )
    assert stop(proc) == 0
    for document in (boleta, factura, rc, ra):
        document = reload(document)
        assert (document.status, document.response_code) == (DocumentStatus.ACCEPTED, "0"), document
    rc, ra = reload(rc), reload(ra)
    assert rc.ticket and rc.cdr_zip and ra.ticket and ra.cdr_zip
    registry = fake.registry()
    assert registry["voided"] == {
        document_file_name(reload(boleta)): document_file_name(rc),
        document_file_name(reload(factura)): document_file_name(ra),
    }
    assert registered_at(fake, boleta) < registered_at(fake, rc)
    assert registered_at(fake, factura) < registered_at(fake, ra)
    assert sunat_void_state(original_id=boleta.pk) == sunat_void_state(original_id=factura.pk) == "voided"


def test_a_void_sunat_rejects_ends_rejected_with_sunats_code_and_message(sunat_company, procs, fake_sunat_process):
    """The factura was voided in SUNAT SOL meanwhile (an RA sent outside BodegaPOS): SUNAT
    rejects ours (2106). The void ends rejected, for a person; the sale stays voiding."""
    s = _scenarios()
    fake = fake_sunat_process()
    factura = issue(sunat_company, s.sold_factura())
    proc = start_worker(procs, fake)
    assert wait_for(lambda: settled(factura), timeout=30, interval=0.2)
    assert reload(factura).status == DocumentStatus.ACCEPTED
    elsewhere = dataclasses.replace(s.ra_void(s.sold_factura()), sequence=9)
    name = ubl.file_name(elsewhere)
    xml = document_sign(xml=ubl.build(elsewhere), certificate=s.dev_certificate()).xml
    client = SunatClient(
        username=f"{sunat_company.ruc}MODDATOS",
        password="moddatos",
        endpoints=Endpoints(bill=fake.bill_url, consult=""),
    )
    ticket = client.send_summary(file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=xml))
    assert wait_for(lambda: client.get_status(ticket=ticket).status_code == "0", timeout=10, interval=0.2)

    ra = void(sunat_company, factura)
    assert wait_for(lambda: settled(ra), timeout=30, interval=0.2)
    assert stop(proc) == 0
    ra = reload(ra)
    assert (ra.status, ra.response_code) == (DocumentStatus.REJECTED, "2106")
    assert ra.response_description == "Factura a dar de baja ya se encuentra en estado de baja"
    assert ra.cdr_zip and SunatJob.objects.get(document=ra).status == JobStatus.DONE
    assert sunat_void_state(original_id=factura.pk) == "voiding"

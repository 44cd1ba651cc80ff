"""Performing one SUNAT job: build and sign once, send or verify, store SUNAT's answer."""

from __future__ import annotations

import dataclasses
import logging
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..cdr import Cdr, cdr_parse
from ..codes import Category, Classification, Source, code_message, response_classify
from ..files import zip_bytes
from ..models import DocumentStatus, JobKind, JobStatus, SunatAccount, SunatAttempt, SunatDocument, SunatJob
from ..outcomes import JobOutcome, NextStep
from ..snapshot import DocumentSnapshot, SummarySnapshot, VoidedSnapshot
from ..soap import SunatClient, SunatFault, SunatTransportError, consult_supported

NOTIFY_CHANNEL = "sunat_jobs"  # the channel of the sunat_jobs_notify trigger (sunat 0004)
logger = logging.getLogger("sunat")


# --------------------------------------------------------------------------- build and sign


SUMMARY_TYPES = ("RC", "RA")
# What SUNAT handed over once, kept even from a worker whose lease was reaped (``_Run.settle``).
_FACTS = ("ticket", "cdr_zip")
_FINAL_STATUSES = (DocumentStatus.ACCEPTED, DocumentStatus.OBSERVED, DocumentStatus.REJECTED)


def document_file_name(document: SunatDocument) -> str:
    """``{RUC}-{TT}-{SERIE}-{NUM}`` (or ``{RUC}-RC-YYYYMMDD-N``), without extension."""
    ruc = document.company.ruc
    if document.document_type in SUMMARY_TYPES:
        return f"{ruc}-{document.series}-{document.number}"
    return f"{ruc}-{document.document_type}-{document.series}-{document.number}"


def _snapshot_of(document: SunatDocument) -> DocumentSnapshot | SummarySnapshot | VoidedSnapshot:
    if document.document_type == "RC":
        return SummarySnapshot.from_json(document.snapshot)
    if document.document_type == "RA":
        return VoidedSnapshot.from_json(document.snapshot)
    return DocumentSnapshot.from_json(document.snapshot)


def _signed_bytes(document: SunatDocument) -> bytes:
    value = document.signed_xml
    assert value is not None, "a document is signed before it is sent"
    return value.tobytes() if isinstance(value, memoryview) else bytes(value)


def sunat_document_sign(*, document: SunatDocument, account: SunatAccount | None = None) -> SunatDocument:
    """Build and sign the document once, storing the exact signed bytes before any send.

    Building and signing happen outside any transaction; storing happens in its own short
    transaction that locks the row (``SELECT … FOR UPDATE``): if another process stored bytes
    first, those win and ours are discarded (invariant 5: never re-signed with different
    content). A document that already has ``signed_xml`` is returned untouched. ``account`` is
    the company's ``SunatAccount`` when the caller has read it (None: read here). Raises
    ``sunat.certificates.CertificateError`` (no/expired certificate) or ``ValueError`` (the
    snapshot cannot be built).
    """
    if document.signed_xml:
        return document
    from ..certificates import company_certificate_load
    from ..signing import document_sign
    from ..xml import build

    certificate = company_certificate_load(company=document.company, account=account)
    signed = document_sign(xml=build(_snapshot_of(document)), certificate=certificate)
    with transaction.atomic():
        locked = SunatDocument.objects.select_for_update().get(pk=document.pk)
        if not locked.signed_xml:
            locked.signed_xml = signed.xml
            locked.xml_hash = signed.digest_value
            locked.signed_at = timezone.now()
            locked.save(update_fields=["signed_xml", "xml_hash", "signed_at", "updated_at"])
    document.refresh_from_db()
    return document


# --------------------------------------------------------------------------- perform one job


def _assert_no_transaction() -> None:
    assert not connection.in_atomic_block, "no database transaction may be open during a SUNAT call"


class _Run:
    """What one ``sunat_job_perform`` call knows: the job, the document and timing of a call."""

    def __init__(self, *, job: SunatJob, document: SunatDocument):
        self.job = job
        self.document = document
        self.started = timezone.now()
        self.clock = time.monotonic()

    def _lease_held(self) -> bool:
        """Inside the settling transaction: does this worker still own the job? A job performed
        outside the worker (no lease owner: admin, tests) always may write."""
        if not self.job.lease_owner:
            return True
        owned = (
            SunatJob.objects.select_for_update()
            .filter(pk=self.job.pk, lease_owner=self.job.lease_owner, status=JobStatus.RUNNING)
            .values_list("pk", flat=True)
        )
        return bool(list(owned))

    def _fact_store(self, *, name: str, value: object) -> None:
        """Store ``value`` as the document's ``name`` (a :data:`_FACTS` field) unless one is
        stored already: the first answer SUNAT gave is kept, whichever worker received it."""
        unset = Q(cdr_zip__isnull=True) | Q(cdr_zip=b"") if name == "cdr_zip" else Q(**{name: ""})
        stored = SunatDocument.objects.filter(unset, pk=self.document.pk).update(
            **{name: value}, updated_at=timezone.now()
        )
        if stored:
            setattr(self.document, name, value)

    def start(self) -> None:
        _assert_no_transaction()
        self.started = timezone.now()
        self.clock = time.monotonic()

    def settle(
        self,
        *,
        operation: str,
        classification: Classification | None,
        code: str = "",
        description: str = "",
        fields: dict | None = None,
    ) -> None:
        """Record the attempt and update the document in one short transaction.

        While this worker owns the job's lease (the job row is locked ``FOR UPDATE`` for the
        check) it writes every field. After a reap the job's new owner decides the document
        (invariant 7), and a late answer here writes no decision (status, response code and
        text, observations, the unconfirmed-send mark); but what SUNAT handed over and will not
        hand over again is kept where none is stored yet (:data:`_FACTS`): an RC/RA ticket, and
        a CDR that settles the document (``classification.terminal``; a CDR with an exception
        code is not kept, the next send gets another). Without them the new owner could only
        re-send and be told "already presented"; with them it polls the ticket or decides from
        the CDR.
        """
        duration = max(0, int((time.monotonic() - self.clock) * 1000))
        fields = dict(fields or {})
        with transaction.atomic():
            if fields and not self._lease_held():
                logger.warning(
                    "sunat.attempt.lease_lost", extra={"document_id": self.document.pk, "job_id": self.job.pk}
                )
                terminal = classification is not None and classification.terminal
                for name in _FACTS:
                    if fields.get(name) and (name != "cdr_zip" or terminal):
                        self._fact_store(name=name, value=fields[name])
                fields = {}
            SunatAttempt.objects.create(
                company_id=self.document.company_id,
                document=self.document,
                job_id=self.job.pk,
                operation=operation,
                started_at=self.started,
                duration_ms=duration,
                code=(code or (classification.code if classification else ""))[:24],
                description=description or (classification.message if classification else ""),
                category=classification.category.value if classification else "",
            )
            logger.info(
                "sunat.attempt",
                extra={
                    "document_id": self.document.pk,
                    "job_id": self.job.pk,
                    "operation": operation,
                    "code": code or (classification.code if classification else ""),
                    "category": classification.category.value if classification else "",
                    "duration_ms": duration,
                },
            )
            if fields:
                for name, value in fields.items():
                    setattr(self.document, name, value)
                SunatDocument.objects.filter(pk=self.document.pk).update(**fields, updated_at=timezone.now())
                settled = fields.get("status", DocumentStatus.PENDING) != DocumentStatus.PENDING
                if settled and self.document.document_type not in SUMMARY_TYPES:  # summaries have no dependents
                    _dependents_wake(document=self.document)


def _dependents_wake(*, document: SunatDocument) -> int:
    """Make the pending jobs of the documents waiting for ``document`` (its notes and voids) due
    now, and notify the workers at commit. Called inside the transaction that settles
    ``document`` (accepted, observed, rejected or error), so a waiting job learns at once that it
    may go, or that it must stop (``_original_gate``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE sunat_jobs j SET run_at = now(), updated_at = now()
               FROM sunat_sunatdocument d
               WHERE d.company_id = %(company)s AND d.original_id = %(original)s
                 AND j.company_id = %(company)s AND j.document_id = d.id
                 AND j.status = 'pending' AND j.run_at > now()""",
            {"company": document.company_id, "original": document.pk},
        )
        woken = cursor.rowcount
        if woken:
            cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, str(document.company_id)])
    return woken


_TYPE_LABELS = {"01": "la factura", "03": "la boleta", "07": "la nota de crédito", "08": "la nota de débito"}


def _original_gate(run: _Run) -> JobOutcome | None:
    """May this note or void go to SUNAT now? None when it has no original or SUNAT holds the
    original (accepted or observed).

    Otherwise, while the original still has a live job (pending, running, paused): SNOOZE, not
    an attempt, for ``SUNAT_WAIT_FOR_ORIGINAL_SECONDS`` or until the original's pending job is
    due, whichever is later (the original's settlement makes this job due at once anyway:
    ``_dependents_wake``). An original that SUNAT rejected, or that ended in error with no live
    job, stops this document: its status becomes ``error`` and the job FIX, with a message
    naming the original. One read of the original and its live job, no lock; nothing is sent.
    """
    document = run.document
    if document.original_id is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT o.document_type, o.series, o.number, o.status, o.response_code, o.response_description,
                      j.status, GREATEST(%(wait)s, EXTRACT(EPOCH FROM (j.run_at - now())))::float8
               FROM sunat_sunatdocument o
               LEFT JOIN sunat_jobs j ON j.company_id = o.company_id AND j.document_id = o.id
                                     AND j.status IN ('pending', 'running', 'paused')
               WHERE o.id = %(original)s AND o.company_id = %(company)s""",
            {
                "wait": float(settings.SUNAT_WAIT_FOR_ORIGINAL_SECONDS),
                "original": document.original_id,
                "company": document.company_id,
            },
        )
        doc_type, series, number, status, code, description, job_status, delay = cursor.fetchone()
    if status in (DocumentStatus.ACCEPTED, DocumentStatus.OBSERVED):
        return None
    original = f"{_TYPE_LABELS.get(doc_type, doc_type)} {series}-{number}"
    if status != DocumentStatus.REJECTED and job_status is not None:
        wait = float(settings.SUNAT_WAIT_FOR_ORIGINAL_SECONDS) if job_status != JobStatus.PENDING else float(delay)
        logger.info("sunat.original.waiting", extra={"document_id": document.pk, "original_id": document.original_id})
        return JobOutcome(
            step=NextStep.SNOOZE,
            code="original",
            message=f"Esperando que SUNAT reciba {original}.",
            delay_seconds=wait,
        )
    what = "esta anulación" if document.document_type in SUMMARY_TYPES else "esta nota"
    answer = f" ({code} - {description})" if code else ""
    if status == DocumentStatus.REJECTED:
        message = (
            f"SUNAT rechazó {original}{answer}: {what} no se envía "
            "(SUNAT no admite notas ni anulaciones de un comprobante rechazado)."
        )
    else:
        message = (
            f"{original[0].upper()}{original[1:]} no llegó a SUNAT{answer}: {what} no se envía. "
            f"Cuando SUNAT reciba {original}, reintente este envío."
        )
    return _fix(run, operation="original", code="original", message=message)


def _fix(run: _Run, *, operation: str, code: str, message: str) -> JobOutcome:
    """Stop for a person: the document ends ``error`` with ``code`` and ``message``, the job FIX."""
    classification = Classification(
        category=Category.FIX, step=NextStep.FIX, status=DocumentStatus.ERROR, code=code, message=message
    )
    run.settle(
        operation=operation,
        classification=classification,
        fields={"status": DocumentStatus.ERROR, "response_code": code, "response_description": message},
    )
    return JobOutcome(step=NextStep.FIX, code=code, message=message)


def _outcome(classification: Classification, *, delay: float | None = None) -> JobOutcome:
    message = classification.message
    text = f"{classification.code} - {message}" if message and classification.code else (message or classification.code)
    return JobOutcome(
        step=classification.step,
        code=classification.code,
        message=text,
        verify_next=classification.verify_next,
        delay_seconds=delay if classification.step is NextStep.SNOOZE else None,
    )


def _cdr_fields(cdr_zip: bytes, cdr: Cdr, classification: Classification) -> dict:
    return {
        "cdr_zip": cdr_zip,
        "response_code": cdr.response_code[:10],
        "response_description": cdr.description,
        "observations": [o.to_json() for o in cdr.observations],
        "status": classification.status,
        "unconfirmed_send_at": None,
    }


def _take_cdr(run: _Run, *, operation: str, cdr_zip: bytes, cdr: Cdr) -> JobOutcome:
    classification = response_classify(
        source=Source.CDR, code=cdr.response_code, notes=cdr.notes, message=cdr.description
    )
    run.settle(
        operation=operation,
        classification=classification,
        code=cdr.response_code,
        description=cdr.description,
        fields=_cdr_fields(cdr_zip, cdr, classification),
    )
    return _outcome(classification)


def _take_stored_cdr(run: _Run) -> JobOutcome | None:
    """Decide a document that is not settled from the CDR stored on it when that CDR settles it
    (one a worker received after its lease was reaped: ``_Run.settle`` keeps only such a CDR);
    SUNAT is not asked again. ``None`` when no CDR is stored or the stored one does not settle
    the document (an exception code: the next send asks again). The stored bytes are always a
    CDR that parsed when it arrived."""
    stored = run.document.cdr_zip
    if not stored:
        return None
    cdr_zip = bytes(stored)
    cdr = cdr_parse(cdr_zip)
    if not response_classify(source=Source.CDR, code=cdr.response_code, notes=cdr.notes).terminal:
        return None
    run.start()
    return _take_cdr(run, operation="storedCdr", cdr_zip=cdr_zip, cdr=cdr)


def _take_fault(run: _Run, *, operation: str, fault: SunatFault, about_send: bool = True) -> Classification:
    """Record a fault. ``about_send`` is False for queries (getStatusCdr): their faults say
    nothing about the document, so its status and unconfirmed send stay as they are."""
    classification = response_classify(
        source=Source.FAULT, code=fault.code, message=(code_message(fault.code) if fault.code else "") or fault.message
    )
    fields: dict = {}
    if not about_send:
        pass
    elif classification.category in (Category.FIX, Category.REJECTED):
        fields = {
            "status": classification.status,
            "response_code": classification.code[:10],
            "response_description": fault.message or classification.message,
            "unconfirmed_send_at": None,
        }
    elif not classification.verify_next:
        # SUNAT answered: it did not register the document this time.
        fields = {"unconfirmed_send_at": None}
    if classification.category is not Category.REGISTERED:
        run.settle(operation=operation, classification=classification, description=fault.message, fields=fields)
    return classification


def _take_transport(run: _Run, *, operation: str, error: SunatTransportError) -> JobOutcome:
    classification = response_classify(source=Source.TRANSPORT, code=error.code, reached=error.reached)
    fields = {} if error.reached else {"unconfirmed_send_at": None}
    run.settle(operation=operation, classification=classification, fields=fields)
    return _outcome(classification)


def _consult(run: _Run, client: SunatClient) -> JobOutcome | None:
    """getStatusCdr: the outcome when SUNAT has the document (or cannot answer now), else None."""
    document = run.document
    run.start()
    try:
        status = client.get_status_cdr(
            ruc=document.company.ruc,
            document_type=document.document_type,
            series=document.series,
            number=document.number,
        )
    except SunatFault as fault:
        classification = _take_fault(run, operation="getStatusCdr", fault=fault, about_send=False)
        if classification.category in (Category.CONFIG, Category.RETRY):
            return _outcome(dataclasses.replace(classification, verify_next=True))
        return None  # the consult service refused the question: fall back to sending
    except SunatTransportError as error:
        classification = response_classify(source=Source.TRANSPORT, code=error.code, reached=True)
        run.settle(operation="getStatusCdr", classification=classification)
        return _outcome(dataclasses.replace(classification, verify_next=True))
    if status.cdr is not None and status.content:
        return _take_cdr(run, operation="getStatusCdr", cdr_zip=status.content, cdr=status.cdr)
    run.settle(
        operation="getStatusCdr",
        classification=None,
        code=status.status_code,
        description=status.status_message or "SUNAT no tiene el comprobante",
    )
    return None


def _registered(run: _Run, client: SunatClient, classification: Classification) -> JobOutcome:
    """1033/4000: SUNAT already has the document. Fetch its CDR where SUNAT offers one."""
    document = run.document
    run.settle(operation="sendBill", classification=classification)
    if consult_supported(document.document_type, document.series):
        outcome = _consult(run, client)
        if outcome is not None:
            return outcome
    description = (
        f"Registrado previamente en SUNAT ({classification.code} - {classification.message}); "
        "sin CDR: SUNAT no entrega la constancia de este tipo por servicio."
    )
    run.settle(
        operation="registered",
        classification=classification,
        description=description,
        fields={
            "status": classification.status,
            "response_code": classification.code[:10],
            "response_description": description,
            "unconfirmed_send_at": None,
        },
    )
    return _outcome(classification)


def _mark_unconfirmed(document: SunatDocument) -> None:
    now = timezone.now()
    SunatDocument.objects.filter(pk=document.pk).update(unconfirmed_send_at=now, updated_at=now)
    document.unconfirmed_send_at = now


def _send_document(run: _Run, client: SunatClient) -> JobOutcome:
    document = run.document
    name = document_file_name(document)
    _mark_unconfirmed(document)
    run.start()
    try:
        cdr_zip, cdr = client.send_bill(
            file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=_signed_bytes(document))
        )
    except SunatFault as fault:
        classification = _take_fault(run, operation="sendBill", fault=fault)
        if classification.category is Category.REGISTERED:
            return _registered(run, client, classification)
        return _outcome(classification)
    except SunatTransportError as error:
        return _take_transport(run, operation="sendBill", error=error)
    return _take_cdr(run, operation="sendBill", cdr_zip=cdr_zip, cdr=cdr)


# SUNAT already holds this summary (its ticket was lost with a timeout): "already registered"
# (1033/4000) and "already presented" (0402, 2223, 2282, 2324) faults on sendSummary.
SUMMARY_ALREADY_PRESENTED = frozenset({"0402", "2223", "2282", "2324"})


def _summary_already_presented(run: _Run, *, fault: SunatFault) -> JobOutcome:
    """SUNAT has this summary but we hold no ticket to ask for its result: a person checks it in
    SUNAT SOL. Never re-sent under a new number, which would report the boletas twice."""
    message = (
        f"SUNAT ya recibió este resumen ({fault.code}) y no hay ticket para consultar su resultado: "
        "verifíquelo en SUNAT SOL."
    )
    classification = response_classify(source=Source.FAULT, code=fault.code, message=message)
    run.settle(
        operation="sendSummary",
        classification=classification,
        description=message,
        fields={"status": DocumentStatus.ERROR, "response_code": fault.code[:10], "response_description": message},
    )
    return JobOutcome(step=NextStep.FIX, code=fault.code, message=message)


def _perform_summary(run: _Run, client: SunatClient) -> JobOutcome:
    document = run.document
    if not document.ticket:
        name = document_file_name(document)
        _mark_unconfirmed(document)
        run.start()
        try:
            ticket = client.send_summary(
                file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=_signed_bytes(document))
            )
        except SunatFault as fault:
            registered = response_classify(source=Source.FAULT, code=fault.code).category is Category.REGISTERED
            if registered or fault.code in SUMMARY_ALREADY_PRESENTED:
                stored = SunatDocument.objects.filter(pk=document.pk).values_list("ticket", flat=True).first()
                if not stored:
                    return _summary_already_presented(run, fault=fault)
                # The worker that presented it stored its ticket meanwhile (lease reaped): poll it.
                run.settle(operation="sendSummary", classification=None, code=fault.code, description=fault.message)
                document.ticket = stored
                return _poll_ticket(run, client)
            return _outcome(_take_fault(run, operation="sendSummary", fault=fault))
        except SunatTransportError as error:
            return _take_transport(run, operation="sendSummary", error=error)
        run.settle(
            operation="sendSummary",
            classification=None,
            code="ticket",
            description=f"Ticket {ticket}",
            fields={"ticket": ticket[:40], "unconfirmed_send_at": None},
        )
        return JobOutcome(
            step=NextStep.SNOOZE,
            code="ticket",
            message=f"Ticket {ticket}: consultar estado",
            delay_seconds=settings.SUNAT_TICKET_POLL_SECONDS,
        )
    return _poll_ticket(run, client)


def _poll_ticket(run: _Run, client: SunatClient) -> JobOutcome:
    """getStatus on the document's ticket: 98 → SNOOZE (not an attempt); 0/99 → the CDR decides."""
    document = run.document
    run.start()
    try:
        status = client.get_status(ticket=document.ticket)
    except SunatFault as fault:
        return _outcome(_take_fault(run, operation="getStatus", fault=fault))
    except SunatTransportError as error:
        # getStatus is a query: nothing new can have been registered by it.
        classification = response_classify(source=Source.TRANSPORT, code=error.code, reached=False)
        run.settle(operation="getStatus", classification=classification)
        return _outcome(classification)
    if status.status_code.strip() == "98":
        return _outcome(response_classify(source=Source.TICKET, code="98"), delay=settings.SUNAT_TICKET_POLL_SECONDS)
    if status.cdr is not None and status.content:
        return _take_cdr(run, operation="getStatus", cdr_zip=status.content, cdr=status.cdr)
    classification = response_classify(source=Source.TICKET, code=status.status_code or "0")
    run.settle(
        operation="getStatus", classification=classification, description=f"statusCode {status.status_code} sin CDR"
    )
    return _outcome(classification)


def sunat_job_perform(*, job: SunatJob) -> JobOutcome:
    """Do the SUNAT work of one claimed job and say what the queue must do next.

    Runs in autocommit mode; **no transaction is open during any HTTP call** (asserted). A
    document that stores a CDR settling it (one a worker received after its lease was reaped) is
    decided from it, without asking SUNAT again. Otherwise: sign once and store the exact bytes
    in their own short transaction before the first send (:func:`sunat_document_sign`; a note's
    receipt gets its hash at once); then, for a note or a void whose ``original`` SUNAT does not
    hold yet, wait (SNOOZE) or stop (FIX) without sending (:func:`_original_gate`); then, by kind
    and document type:

    * 01/03/07/08 ``send``: sendBill the stored bytes; CDR → accepted/observed/rejected; 1033/4000
      → already registered (fetch the CDR with getStatusCdr where SUNAT offers it, else record
      "registrado sin CDR");
    * ``verify`` (or a previous send left unconfirmed by a timeout or a crash): getStatusCdr when
      SUNAT can answer (production/fake; facturas and their notes) and send only when SUNAT has
      nothing; boletas and their notes re-send the same bytes, taking 1033/4000 as already
      registered;
    * RC/RA: sendSummary → ticket stored on the document → SNOOZE; with a ticket, getStatus: 98
      → SNOOZE (not an attempt), 0/99 → the CDR decides. "Already presented" to a sendSummary
      while another worker stored the ticket meanwhile polls that ticket.

    Every exchange is recorded as a :class:`SunatAttempt`; the document keeps the CDR zip,
    response code/description/observations and its status. The classification is
    :func:`sunat.codes.response_classify`'s.
    """
    _assert_no_transaction()
    document = SunatDocument.objects.select_related("company").get(pk=job.document_id)
    run = _Run(job=job, document=document)
    if document.status in _FINAL_STATUSES and document.response_code:
        return JobOutcome(step=NextStep.DONE, code=document.response_code, message="ya resuelto por SUNAT")
    settled_by_stored = _take_stored_cdr(run)  # SUNAT answered a worker whose lease was reaped
    if settled_by_stored is not None:
        return settled_by_stored

    from ..certificates import CertificateError

    account = SunatAccount.objects.filter(company_id=document.company_id).first()
    run.start()
    try:
        document = run.document = sunat_document_sign(document=document, account=account)
    except CertificateError as exc:
        classification = Classification(
            category=Category.CONFIG,
            step=NextStep.PAUSE_COMPANY,
            status=DocumentStatus.PENDING,
            code="certificate",
            message=str(exc),
        )
        run.settle(operation="sign", classification=classification)
        return JobOutcome(step=NextStep.PAUSE_COMPANY, code="certificate", message=str(exc))
    except (ValueError, TypeError, KeyError) as exc:
        return _fix(run, operation="sign", code="build", message=f"No se pudo generar el XML: {exc}")

    if not (document.document_type in SUMMARY_TYPES and document.ticket):  # not sent yet
        waiting = _original_gate(run)
        if waiting is not None:
            return waiting

    try:
        client = SunatClient.for_company(document.company, account=account)
    except ImproperlyConfigured as exc:
        return JobOutcome(step=NextStep.RETRY, code="config", message=str(exc))
    try:
        if document.document_type in SUMMARY_TYPES:
            return _perform_summary(run, client)
        verifying = job.kind == JobKind.VERIFY or document.unconfirmed_send_at is not None
        if verifying and consult_supported(document.document_type, document.series):
            outcome = _consult(run, client)
            if outcome is not None:
                return outcome
        return _send_document(run, client)
    finally:
        client.close()

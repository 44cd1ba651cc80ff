"""Issuing: documents, summaries and voids are recorded inside the caller's transaction.

Every function here writes a ``SunatDocument`` and its first ``SunatJob`` in the caller's
``transaction.atomic()`` (asserted) and makes no network call; the job's insert trigger
(``sunat_jobs_notify``) wakes the workers at commit, and a rollback leaves nothing behind. The
document is built with its company, store and original by key: the one returned does not carry
them cached (the checkout's hot path saves the related-object descriptors' work).

Demo history (``demo=True``, for ``seed_demo --history-days``): the document is recorded already
settled as accepted (``is_demo``, response code ``demo``) and gets no job: nothing is built,
signed or sent, ever. It is not signed (signing thousands of past documents would slow the seed
and prove nothing SUNAT saw); its ``xml_hash`` is the base64 SHA-1 of its snapshot, the shape of
a signature's DigestValue, so its receipt prints a QR at once instead of waiting for a signature
that never comes. Demo and real documents never mix: a note or a void of a demo document is demo
history too, and a real one is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from stores.models import Company, Store
from stores.rows import rows_insert

from ..models import DocumentStatus, JobKind, SunatDocument, SunatJob
from ..rules import fiscal_date
from ..snapshot import DocumentSnapshot, SummarySnapshot, VoidedSnapshot, void_kind, void_snapshot_build

VOIDABLE_TYPES = ("01", "03", "07", "08")
SUMMARY_SEQUENCE_MAX = 99_999  # RC-YYYYMMDD-N / RA-YYYYMMDD-N: N has at most 5 digits
DEMO_CODE = "demo"
DEMO_ANSWER = "Historial de demostración: SUNAT nunca recibió este comprobante."
DEMO_REFUSED = "Es un comprobante de demostración que SUNAT nunca recibió: no admite notas ni anulaciones."


def _assert_in_transaction(what: str) -> None:
    assert transaction.get_connection().in_atomic_block, f"{what} needs the caller's transaction"


def _demo_settle(document: SunatDocument) -> None:
    """Mark an unsaved document as demo history, settled as accepted (see the module's docstring)."""
    canonical = json.dumps(document.snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    document.is_demo = True
    document.status = DocumentStatus.ACCEPTED
    document.response_code = DEMO_CODE
    document.response_description = DEMO_ANSWER
    document.xml_hash = base64.b64encode(hashlib.sha1(canonical.encode()).digest()).decode()


def _check_demo(*, original: SunatDocument, demo: bool) -> None:
    if original.is_demo and not demo:
        raise ValueError(DEMO_REFUSED)
    if demo and not original.is_demo:
        raise ValueError("el historial de demostración solo modifica o anula documentos de demostración")


def sunat_document_issue(
    *,
    company: Company,
    store: Store | None,
    snapshot: DocumentSnapshot,
    request_id: str = "",
    original: SunatDocument | None = None,
    demo: bool = False,
) -> SunatDocument:
    """Record a document as pending and enqueue its first job, in the caller's transaction.

    Must be called inside ``transaction.atomic()``: the document and its job commit (or roll
    back) with the sale. The job's insert trigger (``sunat_jobs_notify``) sends ``NOTIFY``, which
    is transactional too, so the worker wakes up only after the commit. No network call happens
    here.

    A note (07/08) passes the ``SunatDocument`` it modifies as ``original`` (same company; its
    number must be the snapshot's ``reference``): the worker sends the note only once SUNAT holds
    the original (``sunat_job_perform``).

    With ``demo``, the document is demo history: settled as accepted, no job (module docstring);
    its ``original``, if any, must be demo history too. A real note of a demo document raises
    ``ValueError``.
    """
    _assert_in_transaction("sunat_document_issue")
    if original is not None:
        _check_original(company=company, snapshot=snapshot, original=original)
        _check_demo(original=original, demo=demo)
    document = SunatDocument(
        company_id=company.pk,
        store_id=store.pk if store is not None else None,
        document_type=snapshot.document_type,
        series=snapshot.series,
        number=snapshot.number,
        issued_at=snapshot.issued_at,
        snapshot=snapshot.to_json(),
        total=snapshot.totals.total,
        original_id=original.pk if original is not None else None,
    )
    return _document_record(document=document, kind=JobKind.SEND_DOCUMENT, request_id=request_id, demo=demo)


def _document_record(*, document: SunatDocument, kind: str, request_id: str, demo: bool) -> SunatDocument:
    """Insert the unsaved ``document`` and, unless it is demo history (settled here, no job), its
    first job of ``kind``, in one statement (:func:`stores.rows.rows_insert` with the job as its
    child, the checkout's hot path), in the caller's transaction."""
    if demo:
        _demo_settle(document)
        rows_insert([document], returning=True)
        return document
    job = SunatJob(company_id=document.company_id, kind=kind, request_id=request_id[:64])
    rows_insert([document], children=[job])  # sets job.document
    return document


def _check_original(*, company: Company, snapshot: DocumentSnapshot, original: SunatDocument) -> None:
    if original.company_id != company.pk:
        raise ValueError("el documento original pertenece a otra empresa")
    reference = snapshot.reference
    if snapshot.document_type not in ("07", "08") or reference is None:
        raise ValueError("solo una nota (07/08) con su documento de referencia tiene original")
    if (original.document_type, original.full_number) != (reference.document_type, reference.number):
        raise ValueError(
            f"la nota modifica {reference.document_type} {reference.number}, "
            f"pero el original es {original.document_type} {original.full_number}"
        )


# --------------------------------------------------------------------------- summaries (RC / RA)


def sunat_summary_sequence_next(*, company: Company, kind: str, issue_date: date) -> int:
    """The next correlative of ``company``'s ``kind`` (RC or RA) generated on ``issue_date``.

    One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on ``sunat_summary_sequences`` inside the
    caller's transaction (asserted): the counter row stays locked until that transaction ends,
    so concurrent callers wait for each other and get distinct numbers, and a rollback returns
    its number (gap-free). The first caller of a day inserts the row; a concurrent first caller
    waits on the unique index and then takes the update path.
    """
    _assert_in_transaction("sunat_summary_sequence_next")
    if kind not in ("RC", "RA"):
        raise ValueError(f"tipo de resumen inválido: {kind!r}")
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO sunat_summary_sequences (company_id, kind, issue_date, last) VALUES (%s, %s, %s, 1)
               ON CONFLICT (company_id, kind, issue_date)
               DO UPDATE SET last = sunat_summary_sequences.last + 1
               RETURNING last""",
            [company.pk, kind, issue_date],
        )
        (sequence,) = cursor.fetchone()
    if sequence > SUMMARY_SEQUENCE_MAX:
        raise ValueError(f"se agotaron los correlativos {kind} del {issue_date:%d/%m/%Y}")
    return sequence


def sunat_summary_issue(
    *,
    company: Company,
    snapshot: SummarySnapshot | VoidedSnapshot,
    request_id: str = "",
    store: Store | None = None,
    original: SunatDocument | None = None,
    demo: bool = False,
    issued_at: datetime | None = None,
) -> SunatDocument:
    """Record a Resumen Diario (RC) or Comunicación de Baja (RA) as pending and enqueue it.

    Like :func:`sunat_document_issue`: inside the caller's transaction (the job's trigger
    notifies the workers at commit), no network. The document's series is ``RC-YYYYMMDD`` /
    ``RA-YYYYMMDD`` (generation date) and its number the day's correlative
    (``snapshot.sequence``, taken from :func:`sunat_summary_sequence_next`), so the file name is
    ``{RUC}-RC-YYYYMMDD-N``. ``original`` is the document a void annuls. ``issued_at`` is now
    unless given (demo history only); with ``demo`` it is recorded settled, with no job.
    """
    _assert_in_transaction("sunat_summary_issue")
    if issued_at is not None and not demo:
        raise ValueError("solo el historial de demostración se registra con fecha pasada")
    document = SunatDocument(
        company_id=company.pk,
        store_id=store.pk if store is not None else None,
        document_type=snapshot.document_type,
        series=f"{snapshot.document_type}-{snapshot.issue_date:%Y%m%d}",
        number=snapshot.sequence,
        issued_at=issued_at or timezone.now(),
        snapshot=snapshot.to_json(),
        total=0,
        original_id=original.pk if original is not None else None,
    )
    return _document_record(document=document, kind=JobKind.SEND_SUMMARY, request_id=request_id, demo=demo)


# --------------------------------------------------------------------------- voids


class VoidRefused(Exception):
    """``sunat_void_issue`` refused: ``code`` (``window``, ``rejected``, ``voided``,
    ``voiding``, ``type``, ``demo``) and a Spanish ``message`` for the user."""

    def __init__(self, *, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _void_refusal(*, original: SunatDocument, on: date, demo: bool = False) -> tuple[str, str] | None:
    """(code, Spanish reason) when ``original`` may not be voided on ``on``, else None."""
    number = original.full_number
    if original.document_type not in VOIDABLE_TYPES:
        return "type", "Solo se anulan facturas, boletas y sus notas."
    if original.is_demo and not demo:
        return "demo", DEMO_REFUSED
    if original.status == DocumentStatus.REJECTED:
        return "rejected", f"SUNAT rechazó el comprobante {number}: no se puede anular."
    window = int(settings.SUNAT_VOID_WINDOW_DAYS)
    issued = fiscal_date(original.issued_at)
    days = (on - issued).days
    if days > window:
        return (
            "window",
            f"El comprobante {number} se emitió el {issued:%d/%m/%Y}: pasaron {days} días y solo se anula "
            f"dentro de {window}. Emita una nota de crédito con motivo 01 (anulación de la operación).",
        )
    void = (
        SunatDocument.objects.filter(company_id=original.company_id, original=original, document_type__in=("RA", "RC"))
        .exclude(status=DocumentStatus.REJECTED)
        .order_by("-id")
        .first()
    )
    if void is not None:
        if void.status in (DocumentStatus.ACCEPTED, DocumentStatus.OBSERVED):
            return "voided", f"El comprobante {number} ya fue anulado ({void.full_number})."
        return "voiding", f"El comprobante {number} ya tiene una anulación en curso ({void.full_number})."
    return None


def sunat_void_refusal(*, original: SunatDocument, on: date, demo: bool = False) -> str | None:
    """The one home of the void rules: None when ``original`` may be voided on ``on`` (a Lima
    date), else the Spanish reason.

    Refused: a document that is not a factura, boleta or note; demo history (unless ``demo``:
    SUNAT never saw it, so nothing real voids it); one SUNAT rejected; one issued
    more than ``SUNAT_VOID_WINDOW_DAYS`` before ``on`` (Lima dates; the message says to issue a
    credit note with reason 01 instead); one that already has a void that SUNAT did not reject
    (pending, in error waiting for a person, or accepted). Whether the sale has returns is the
    sales side's rule.
    """
    refusal = _void_refusal(original=original, on=on, demo=demo)
    return refusal[1] if refusal else None


def sunat_void_issue(
    *,
    company: Company,
    store: Store | None,
    original: SunatDocument,
    reason: str,
    request_id: str = "",
    demo: bool = False,
    issued_at: datetime | None = None,
) -> SunatDocument:
    """Void ``original``: record its RA (a factura or an F-series note) or its RC with one
    ConditionCode 3 line (a boleta or a B-series note) and the ``SEND_SUMMARY`` job.

    Inside the caller's transaction (asserted), no network. Locks ``original``'s row (``FOR NO
    KEY UPDATE``) so that two voids of one document are decided one after the other, then takes
    the day's correlative (:func:`sunat_summary_sequence_next`, gap-free), so call it once per
    transaction (two voids in one transaction could deadlock against another such transaction).
    The snapshot comes from ``original.snapshot`` alone: issue date today in Lima, ReferenceDate
    the original's Lima issue date, the original's totals, buyer and reference. The worker sends
    it once SUNAT holds the original. Raises :class:`VoidRefused` when
    :func:`sunat_void_refusal` says no (``code="demo"`` for a demo document).

    With ``demo`` (demo history: ``original`` must be demo history too), the void is recorded
    settled as accepted with no job, dated ``issued_at`` (default now; a past time, and its Lima
    date as the issue date, for history).
    """
    _assert_in_transaction("sunat_void_issue")
    if original.company_id != company.pk:
        raise ValueError("el documento a anular pertenece a otra empresa")
    if issued_at is not None and not demo:
        raise ValueError("solo el historial de demostración se anula con fecha pasada")
    locked = SunatDocument.objects.select_for_update(no_key=True).get(pk=original.pk, company_id=company.pk)
    if demo:
        _check_demo(original=locked, demo=True)
    when = issued_at or timezone.now()
    today = fiscal_date(when)
    refusal = _void_refusal(original=locked, on=today, demo=demo)
    if refusal is not None:
        raise VoidRefused(code=refusal[0], message=refusal[1])
    voided = DocumentSnapshot.from_json(locked.snapshot)
    kind = void_kind(document_type=voided.document_type, series=voided.series)
    sequence = sunat_summary_sequence_next(company=company, kind=kind, issue_date=today)
    snapshot = void_snapshot_build(original=voided, reason=reason, issue_date=today, sequence=sequence)
    return sunat_summary_issue(
        company=company,
        snapshot=snapshot,
        request_id=request_id,
        store=store,
        original=locked,
        demo=demo,
        issued_at=issued_at if demo else None,
    )

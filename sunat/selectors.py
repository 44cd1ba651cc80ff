"""Reads of SUNAT state for the other apps (the sales side never queries ``SunatDocument``, ops
never queries SUNAT accounts).

Each function is one short query in the caller's connection and takes no locks. Reads that a
page repeats while it waits (the hash) read one column, so they are cheap enough to poll.
``company_id``, where given, is added to the filter (hot queries filter by company as well).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, QuerySet, Subquery

from stores.models import Company

from .models import DocumentStatus, SunatAccount, SunatDocument
from .qr import qr_payload_from_snapshot
from .snapshot import DocumentSnapshot

VOID_TYPES = ("RA", "RC")


def _scoped(company_id: int | None) -> QuerySet[SunatDocument]:
    queryset = SunatDocument.objects.all()
    return queryset.filter(company_id=company_id) if company_id is not None else queryset


def sunat_document_statuses(
    *, document_ids: Iterable[int | None], company_id: int | None = None
) -> dict[int | None, str]:
    """``{document_id: status}`` for these documents, in one query (missing ids are left out)."""
    ids = [int(i) for i in document_ids if i is not None]
    if not ids:
        return {}
    return dict(_scoped(company_id).filter(pk__in=ids).values_list("pk", "status"))


def sunat_void_state(*, original_id: int, company_id: int | None = None) -> str | None:
    """The SUNAT state of the voids of a document: None (never voided), ``"voided"`` (a void
    SUNAT accepted, with or without observations) or ``"voiding"`` (a void pending, in error or
    rejected: a rejected void keeps the sale voiding until a person acts)."""
    statuses = set(
        _scoped(company_id)
        .filter(original_id=original_id, document_type__in=VOID_TYPES)
        .values_list("status", flat=True)
    )
    if not statuses:
        return None
    if statuses & {DocumentStatus.ACCEPTED, DocumentStatus.OBSERVED}:
        return "voided"
    return "voiding"


def sunat_document_is_demo(*, document_id: int, company_id: int | None = None) -> bool:
    """True when the document is demo history (``seed_demo --history-days``): SUNAT never saw
    it, so the till neither returns nor voids its sale. False for a missing document."""
    return _scoped(company_id).filter(pk=document_id, is_demo=True).exists()


def sunat_document_hash(*, document_id: int, company_id: int | None = None) -> str:
    """The signature's DigestValue of a document ("" until the worker signs it). One column: a
    receipt may poll it for a moment while the worker signs."""
    return _scoped(company_id).filter(pk=document_id).values_list("xml_hash", flat=True).first() or ""


def sunat_status_label(status: str) -> str:
    """The Spanish label of a document status (``"Aceptado"``, ``"Pendiente"``, …)."""
    try:
        return DocumentStatus(status).label
    except ValueError:
        return status


@dataclass(frozen=True)
class SunatReceipt:
    """What a printed receipt (a sale's or a credit note's) shows about its SUNAT document."""

    document_id: int
    document_type: str  # 01, 03, 07, 08
    number: str  # "BC01-12"
    status: str
    status_label: str
    xml_hash: str
    qr_payload: str  # RUC|TIPO|SERIE|NUMERO|IGV|TOTAL|FECHA|TIPO_DOC|NUM_DOC|HASH|
    response_code: str
    response_description: str
    reference_type: str  # notes: the modified document's type (01/03) and number ("B001-8")
    reference_number: str
    reason_code: str  # notes: catalog 09/10
    reason: str
    is_demo: bool = False  # demo history: SUNAT never saw it (print it as such)


def sunat_receipt_get(*, document_id: int, company_id: int | None = None) -> SunatReceipt | None:
    """The receipt data of a 01/03/07/08 document, from its frozen snapshot and current state
    (None when it does not exist)."""
    row = (
        _scoped(company_id)
        .filter(pk=document_id)
        .values(
            "pk",
            "document_type",
            "series",
            "number",
            "status",
            "xml_hash",
            "snapshot",
            "response_code",
            "response_description",
            "is_demo",
        )
        .first()
    )
    if row is None:
        return None
    snapshot = DocumentSnapshot.from_json(row["snapshot"])
    reference = snapshot.reference
    return SunatReceipt(
        document_id=row["pk"],
        document_type=row["document_type"],
        number=f"{row['series']}-{row['number']}",
        status=row["status"],
        status_label=sunat_status_label(row["status"]),
        xml_hash=row["xml_hash"],
        qr_payload=qr_payload_from_snapshot(snapshot=snapshot, xml_hash=row["xml_hash"]),
        response_code=row["response_code"],
        response_description=row["response_description"],
        reference_type=reference.document_type if reference else "",
        reference_number=reference.number if reference else "",
        reason_code=reference.reason_code if reference else "",
        reason=reference.description if reference else "",
        is_demo=row["is_demo"],
    )


# --------------------------------------------------------------------------- accounts (ops)


def sunat_paused_company_count() -> int:
    """How many companies have their SUNAT sends paused (a configuration error waits for a person)."""
    return SunatAccount.objects.filter(paused_at__isnull=False).count()


def sunat_certificate_expiries(*, limit: int = 200) -> list[tuple[str, datetime | None]]:
    """``(RUC, certificate expiry)`` of every company by RUC (at most ``limit``); None for a
    company without a certificate (or without a SUNAT account). No secret is read."""
    expiry = SunatAccount.objects.filter(company_id=OuterRef("pk")).values("certificate_expires_at")[:1]
    return list(
        Company.objects.annotate(expires=Subquery(expiry)).order_by("ruc").values_list("ruc", "expires")[:limit]
    )


def sunat_document_status_counts(
    *, company_ids: Iterable[int], store_ids: Iterable[int], start: datetime, end: datetime
) -> dict[str, int]:
    """``{status: count}`` (every status present, 0 when none) of the documents of these stores
    issued in ``[start, end)``: sales' receipts, notes and the RA/RC of voids alike.

    One ``GROUP BY`` on the ``(company, status, issued_at)`` index: the status list is spelled
    out so the index is range-scanned once per status instead of filtered. Inside the reports'
    routing (``sales.reports_db``) it reads the replica like every other report query.
    """
    counts = {status: 0 for status in DocumentStatus.values}
    rows = (
        SunatDocument.objects.filter(
            company_id__in=list(company_ids),
            status__in=list(DocumentStatus.values),
            issued_at__gte=start,
            issued_at__lt=end,
            store_id__in=list(store_ids),
        )
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


UNSETTLED = (DocumentStatus.PENDING, DocumentStatus.ERROR, DocumentStatus.REJECTED)


@dataclass(frozen=True)
class SunatDocumentRow:
    """A document as a report lists it (the admin shows the rest)."""

    document_id: int
    document_type: str
    number: str
    status: str
    status_label: str
    issued_at: datetime
    store_id: int | None
    response_code: str
    response_description: str


def sunat_documents_unsettled(
    *, company_ids: Iterable[int], store_ids: Iterable[int], limit: int = 50
) -> list[SunatDocumentRow]:
    """The oldest documents of these stores SUNAT has not settled (pending, error) or rejected,
    whatever their day: what an owner must look at. At most ``limit``, oldest first, read on the
    ``(company, status, issued_at)`` index."""
    rows = (
        SunatDocument.objects.filter(
            company_id__in=list(company_ids), status__in=list(UNSETTLED), store_id__in=list(store_ids)
        )
        .order_by("issued_at", "id")
        .values_list(
            "pk",
            "document_type",
            "series",
            "number",
            "status",
            "issued_at",
            "store_id",
            "response_code",
            "response_description",
        )[:limit]
    )
    return [
        SunatDocumentRow(
            document_id=pk,
            document_type=doc_type,
            number=f"{series}-{number}",
            status=status,
            status_label=sunat_status_label(status),
            issued_at=issued_at,
            store_id=store_id,
            response_code=code,
            response_description=(description or "")[:200],
        )
        for pk, doc_type, series, number, status, issued_at, store_id, code, description in rows
    ]

"""Writes of the sunat app. Issuing runs inside the caller's transaction."""

from __future__ import annotations

from django.db import connection, transaction

from stores.models import Company, Store

from .models import JobKind, SunatDocument, SunatJob
from .snapshot import DocumentSnapshot

NOTIFY_CHANNEL = "sunat_jobs"


def sunat_document_issue(
    *, company: Company, store: Store | None, snapshot: DocumentSnapshot, request_id: str = ""
) -> SunatDocument:
    """Record a document as pending and enqueue its first job, in the caller's transaction.

    Must be called inside ``transaction.atomic()``: the document and its job commit (or roll
    back) with the sale. ``NOTIFY`` is transactional too, so the worker wakes up only after
    the commit. No network call happens here.
    """
    assert transaction.get_connection().in_atomic_block, "sunat_document_issue needs the caller's transaction"
    document = SunatDocument.objects.create(
        company=company,
        store=store,
        document_type=snapshot.document_type,
        series=snapshot.series,
        number=snapshot.number,
        issued_at=snapshot.issued_at,
        snapshot=snapshot.to_json(),
        total=snapshot.totals.total,
    )
    SunatJob.objects.create(
        company=company, document=document, kind=JobKind.SEND_DOCUMENT, request_id=request_id[:64]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, str(company.pk)])
    return document

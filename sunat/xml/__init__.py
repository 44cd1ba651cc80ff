"""UBL builders for every document BodegaPOS sends to SUNAT (SUNAT.md §1–§2, §6).

Public interface (each returns *unsigned* UTF-8 bytes with an empty ``ext:ExtensionContent``;
sign them with ``sunat.signing.document_sign``):

* ``document_build(snapshot: DocumentSnapshot) -> bytes`` — factura 01 / boleta 03 (UBL 2.1
  Invoice), nota de crédito 07 (CreditNote), nota de débito 08 (DebitNote).
* ``summary_build(snapshot: SummarySnapshot) -> bytes`` — Resumen Diario RC.
* ``voided_build(snapshot: VoidedSnapshot) -> bytes`` — Comunicación de Baja RA.
* ``build(snapshot) -> bytes`` — dispatch on the snapshot type.
* ``file_name(snapshot) -> str`` — ``{RUC}-{TT}-{SERIE}-{NUM}`` or ``{RUC}-RC|RA-YYYYMMDD-N``
  (no extension; see ``sunat.files``).

Builders format, never round: every amount must already be rounded by ``sales.money``.
Dates/times are rendered in America/Lima.
"""

from __future__ import annotations

from ..files import document_file_name, summary_file_name
from ..snapshot import DocumentSnapshot, SummarySnapshot, VoidedSnapshot
from .invoice import document_build
from .summary import summary_build, voided_build

__all__ = ["build", "document_build", "file_name", "summary_build", "voided_build"]


def build(snapshot: DocumentSnapshot | SummarySnapshot | VoidedSnapshot) -> bytes:
    if isinstance(snapshot, DocumentSnapshot):
        return document_build(snapshot)
    if isinstance(snapshot, SummarySnapshot):
        return summary_build(snapshot)
    if isinstance(snapshot, VoidedSnapshot):
        return voided_build(snapshot)
    raise TypeError(f"snapshot no soportado: {type(snapshot).__name__}")


def file_name(snapshot: DocumentSnapshot | SummarySnapshot | VoidedSnapshot) -> str:
    if isinstance(snapshot, DocumentSnapshot):
        return document_file_name(
            ruc=snapshot.supplier.ruc,
            document_type=snapshot.document_type,
            series=snapshot.series,
            number=snapshot.number,
        )
    return summary_file_name(
        ruc=snapshot.supplier.ruc,
        kind=snapshot.document_type,
        issue_date=snapshot.issue_date,
        sequence=snapshot.sequence,
    )

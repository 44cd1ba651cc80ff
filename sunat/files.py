"""File and zip names and zip bytes for SUNAT (SUNAT.md §1.3).

Public interface:

* ``document_file_name(*, ruc, document_type, series, number) -> str`` —
  ``{RUC}-{TT}-{SERIE}-{NUMERO}`` (number without leading zeros), no extension.
* ``summary_file_name(*, ruc, kind, issue_date, sequence) -> str`` — ``{RUC}-RC-YYYYMMDD-N`` /
  ``{RUC}-RA-YYYYMMDD-N``.
* ``zip_bytes(*, name: str, xml: bytes) -> bytes`` — a zip with exactly one DEFLATE entry
  ``{name}.xml``; the zip itself is sent as ``{name}.zip``. Deterministic (fixed entry time).
* ``zip_single_entry(data: bytes) -> tuple[str, bytes]`` — the one entry of such a zip (entry name,
  bytes); raises ``ValueError`` when the zip is corrupt or does not hold exactly one entry.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

__all__ = ["document_file_name", "summary_file_name", "zip_bytes", "zip_single_entry"]

_SERIES_RE = re.compile(r"^[A-Z0-9]{4}$")


def document_file_name(*, ruc: str, document_type: str, series: str, number: int) -> str:
    if not re.fullmatch(r"\d{11}", ruc):
        raise ValueError(f"RUC inválido: {ruc!r}")
    if document_type not in ("01", "03", "07", "08"):
        raise ValueError(f"tipo de documento inválido: {document_type!r}")
    if not _SERIES_RE.match(series):
        raise ValueError(f"serie inválida: {series!r}")
    if not 1 <= int(number) <= 99_999_999:
        raise ValueError(f"número inválido: {number!r}")
    return f"{ruc}-{document_type}-{series}-{int(number)}"


def summary_file_name(*, ruc: str, kind: str, issue_date: date, sequence: int) -> str:
    if not re.fullmatch(r"\d{11}", ruc):
        raise ValueError(f"RUC inválido: {ruc!r}")
    if kind not in ("RC", "RA"):
        raise ValueError(f"tipo de resumen inválido: {kind!r}")
    if not 1 <= int(sequence) <= 99_999:
        raise ValueError(f"correlativo de resumen inválido: {sequence!r}")
    return f"{ruc}-{kind}-{issue_date:%Y%m%d}-{int(sequence)}"


def zip_bytes(*, name: str, xml: bytes) -> bytes:
    """Zip ``xml`` as the single entry ``{name}.xml`` (DEFLATE)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{name}.xml", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, xml)
    return buffer.getvalue()


def zip_single_entry(data: bytes) -> tuple[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = [i for i in archive.infolist() if not i.is_dir()]
            if len(entries) != 1:
                raise ValueError(f"el zip debe tener exactamente un archivo y tiene {len(entries)}")
            return entries[0].filename, archive.read(entries[0])
    except zipfile.BadZipFile as exc:
        raise ValueError(f"zip corrupto: {exc}") from None

"""The sales register as CSV and XLSX, written as a stream of bytes (constant memory).

Both take the rows of :func:`sales.selectors.reports.sales_register_rows` (a generator fed a
batch per query) and yield bytes as they go, so a ``StreamingHttpResponse`` sends the first
rows at once and never holds the month in memory.

XLSX: openpyxl draws the workbook once, small (header, one styled sample row, the totals row,
widths, frozen header); its parts are copied into a zip written on the fly (``zipfile`` on an
unseekable sink, with data descriptors), and the worksheet's ``<sheetData>`` is streamed with
the sample row's styles: dates as Excel dates, amounts as numbers, text as inline strings.
Every spreadsheet program (openpyxl, Excel, LibreOffice) reads such a file.

Formula injection (buyer names and other text come from the till): in the CSV a text cell that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's
rule), so a spreadsheet shows it instead of evaluating it; amounts and numbers are written as
they are (a credit note's ``-5.00`` stays a number). The XLSX needs no such prefix: its text is
an inline string (``t="inlineStr"``), which no spreadsheet evaluates (a formula would be an
``<f>`` element), so it keeps the text exactly.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sales import money
from sales.selectors.reports import AMOUNTS, RegisterRow, RegisterTotals

HEADER = (
    "Fecha",
    "Hora",
    "Tienda",
    "Tipo",
    "Serie",
    "Número",
    "Tipo doc. cliente",
    "Doc. cliente",
    "Cliente",
    "Op. gravadas",
    "Op. exoneradas",
    "Op. inafectas",
    "IGV",
    "ICBPER",
    "Total",
    "Estado",
    "Doc. modificado",
)
WIDTHS = (11, 7, 8, 6, 7, 10, 8, 14, 34, 13, 13, 13, 11, 10, 13, 22, 16)
TYPE_LABELS = {"01": "01 Factura", "03": "03 Boleta", "07": "07 N. crédito"}
TOTAL_LABEL = "Total (sin anuladas)"
FLUSH_EVERY = 2_000  # rows between two yields
FIRST_FLUSH = 500  # the first rows go out sooner
_EXCEL_EPOCH = date(1899, 12, 30)
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "@", "\t", "\r")
# After a sign, only a number (or nothing: "-" is the anonymous buyer's document) is not a formula.
_SIGNED_NUMBER = re.compile(r"[+-][0-9]*(?:[.,][0-9]+)?\Z")


def _local(row: RegisterRow) -> datetime:
    return timezone.localtime(row.issued_at)


def _cells(row: RegisterRow) -> list:
    when = _local(row)
    return [
        when.date(),
        when.strftime("%H:%M"),
        row.store,
        TYPE_LABELS.get(row.document_type, row.document_type),
        row.series,
        row.number,
        row.buyer_doc_type,
        row.buyer_doc_number,
        row.buyer_name,
        *(getattr(row, a) for a in AMOUNTS),
        row.status,
        row.reference,
    ]


def _total_cells(totals: RegisterTotals) -> list:
    return [TOTAL_LABEL, f"{totals.documents} documentos", *([""] * 7), *(getattr(totals, a) for a in AMOUNTS), "", ""]


# --------------------------------------------------------------------------- CSV


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    """A cell as the CSV writes it: amounts as ``1234.50``; text that a spreadsheet would read
    as a formula prefixed with ``'``; anything else (numbers, dates already text) unchanged."""
    if isinstance(value, Decimal):
        return money.as_text(value)
    if isinstance(value, str) and (
        value.startswith(_FORMULA_START) or (value.startswith(("+", "-")) and not _SIGNED_NUMBER.match(value))
    ):
        return "'" + value
    return value


def csv_stream(rows: Iterable[RegisterRow]) -> Iterator[bytes]:
    """The register as UTF-8 CSV (with a BOM, so spreadsheet programs read the accents): the
    header, one line per document, the totals line. Dates ``YYYY-MM-DD``, amounts ``1234.50``,
    text that would start a formula behind a ``'`` (:func:`_csv_cell`)."""
    writer = csv.writer(_Echo())
    totals = RegisterTotals()
    buffer = ["\ufeff" + writer.writerow(HEADER)]
    for row in rows:
        totals.add(row)
        cells = _cells(row)
        cells[0] = cells[0].isoformat()
        buffer.append(writer.writerow([_csv_cell(c) for c in cells]))
        if len(buffer) >= FLUSH_EVERY or len(buffer) == FIRST_FLUSH + 1 and totals.documents == FIRST_FLUSH:
            yield "".join(buffer).encode()
            buffer = []
    buffer.append(writer.writerow([_csv_cell(c) for c in _total_cells(totals)]))
    yield "".join(buffer).encode()


# --------------------------------------------------------------------------- XLSX


class _Sink(io.RawIOBase):
    """An unseekable file that keeps what is written until :meth:`drain` hands it over."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def _template(title: str) -> tuple[dict[str, bytes], str, str, list[str], list[str]]:
    """The workbook drawn by openpyxl: its parts, the worksheet's name in the zip, the XML around
    its rows (header included), and the style ids of a data row's and the totals row's cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Registro de ventas"
    ws.append(list(HEADER))
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="17324D")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.append([date(2000, 1, 1), "00:00", "t", "t", "t", 1, "t", "t", "t", *([Decimal("0.00")] * 6), "t", "t"])
    ws.append(["t", "t", *([""] * 7), *([Decimal("0.00")] * 6), "", ""])
    for col, width in enumerate(WIDTHS, start=1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = width
        for row in (2, 3):
            cell = ws[f"{letter}{row}"]
            if row == 3:
                cell.font = bold
            if 10 <= col <= 15:
                cell.number_format = "#,##0.00"
        if col == 1:
            ws[f"{letter}2"].number_format = "DD/MM/YYYY"
    ws.freeze_panes = "A2"
    wb.properties.title = title
    wb.properties.creator = "BodegaPOS"
    out = io.BytesIO()
    wb.save(out)
    with zipfile.ZipFile(out) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    sheet_name = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    xml = parts[sheet_name].decode()
    head, rest = xml.split("<sheetData>", 1)
    rows, tail = rest.split("</sheetData>", 1)
    head = re.sub(r"<dimension ref=\"[^\"]*\"\s*/>", "", head)
    header_row = re.search(r"<row r=\"1\".*?</row>", rows, re.S).group(0)

    def styles(n: int) -> list[str]:
        row = re.search(rf"<row r=\"{n}\".*?</row>", rows, re.S).group(0)
        found = {m.group(1): m.group(2) for m in re.finditer(r"<c r=\"([A-Z]+)\d+\"(?:[^>]*?\bs=\"(\d+)\")?", row)}
        return [found.get(get_column_letter(c)) or "0" for c in range(1, len(HEADER) + 1)]

    return parts, sheet_name, head + "<sheetData>" + header_row, "</sheetData>" + tail, styles(2), styles(3)


def _cell_xml(ref: str, value, style: str) -> str:
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{style}"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
    text = escape(_ILLEGAL_XML.sub("", str(value)))
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _row_xml(n: int, values: list, styles: list[str], letters: list[str]) -> str:
    cells = "".join(
        _cell_xml(f"{letter}{n}", value, style) for letter, value, style in zip(letters, values, styles, strict=True)
    )
    return f'<row r="{n}">{cells}</row>'


def xlsx_stream(rows: Iterable[RegisterRow], *, title: str) -> Iterator[bytes]:
    """The register as an .xlsx, yielded as it is written: the zip's first parts at once, then
    the worksheet every :data:`FLUSH_EVERY` rows, the totals row and the zip's directory last."""
    parts, sheet_name, head, tail, data_styles, total_styles = _template(title)
    letters = [get_column_letter(c) for c in range(1, len(HEADER) + 1)]
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as zf:
        for name, data in parts.items():
            if name != sheet_name:
                zf.writestr(name, data)
        yield sink.drain()
        with zf.open(sheet_name, mode="w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            totals = RegisterTotals()
            n = 1
            pending = []
            for row in rows:
                n += 1
                totals.add(row)
                pending.append(_row_xml(n, _cells(row), data_styles, letters))
                if len(pending) >= FLUSH_EVERY or n == FIRST_FLUSH + 1:
                    sheet.write("".join(pending).encode())
                    pending = []
                    yield sink.drain()
            pending.append(_row_xml(n + 1, _total_cells(totals), total_styles, letters))
            sheet.write("".join(pending).encode())
            sheet.write(tail.encode())
        yield sink.drain()
    yield sink.drain()

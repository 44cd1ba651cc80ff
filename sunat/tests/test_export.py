"""manage.py sunat_export: exact bytes, CDR zips, Lima dates, store filter, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from stores.models import Company, Store
from sunat.models import DocumentStatus, SunatDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    company = Company.objects.create(ruc="20000000001", legal_name="BODEGAS DEMO", address="AV 1", ubigeo="150101")
    store0 = Store.objects.create(company=company, code="0000", name="Central", address="AV 1", ubigeo="150101")
    store1 = Store.objects.create(company=company, code="0001", name="Norte", address="AV 2", ubigeo="150101")

    def doc(store, document_type, series, number, issued_at, *, xml=True, cdr=False, demo=False):
        return SunatDocument.objects.create(
            company=company,
            store=store,
            document_type=document_type,
            series=series,
            number=number,
            issued_at=issued_at,
            snapshot={},
            status=DocumentStatus.ACCEPTED if cdr else DocumentStatus.PENDING,
            # bytes that a re-serialization would change: declaration, ñ in UTF-8, CRLF, tabs
            signed_xml=(f'<?xml version="1.0" encoding="UTF-8"?>\r\n<Invoice>\t{series}-{number} ñ</Invoice>'.encode())
            if xml
            else None,
            cdr_zip=f"PK-cdr-{series}-{number}".encode() if cdr else None,
            is_demo=demo,
        )

    return {
        # 2026-11-19 22:00 in Lima: before --since 2026-11-20
        "old": doc(store0, "03", "B001", 1, datetime(2026, 11, 20, 3, 0, tzinfo=UTC), cdr=True),
        # 2026-11-20 01:00 in Lima
        "new": doc(store0, "03", "B001", 2, datetime(2026, 11, 20, 6, 0, tzinfo=UTC), cdr=True),
        "factura": doc(store1, "01", "F002", 7, datetime(2026, 11, 21, 15, 0, tzinfo=UTC)),
        "unsigned": doc(store1, "03", "B002", 9, datetime(2026, 11, 21, 16, 0, tzinfo=UTC), xml=False),
        "summary": doc(None, "RC", "RC-20261121", 1, datetime(2026, 11, 21, 23, 0, tzinfo=UTC), cdr=True),
        # demo history (seed_demo --history-days): SUNAT never saw it, never exported (even with bytes)
        "demo": doc(store0, "03", "B001", 3, datetime(2026, 11, 21, 12, 0, tzinfo=UTC), cdr=True, demo=True),
    }


def test_exports_exact_bytes_and_cdrs_flat(data, tmp_path, capsys):
    call_command("sunat_export", "--out", str(tmp_path / "out"))
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "20000000001-01-F002-7.xml",
        "20000000001-03-B001-1.xml",
        "20000000001-03-B001-2.xml",
        "20000000001-RC-20261121-1.xml",
        "R-20000000001-03-B001-1.zip",
        "R-20000000001-03-B001-2.zip",
        "R-20000000001-RC-20261121-1.zip",
    ]
    assert (out / "20000000001-03-B001-2.xml").read_bytes() == bytes(data["new"].signed_xml)
    assert (out / "R-20000000001-03-B001-2.zip").read_bytes() == b"PK-cdr-B001-2"
    assert "Exportados 4 XML firmados y 3 CDR" in capsys.readouterr().out


def test_since_is_a_lima_date(data, tmp_path):
    call_command("sunat_export", "--out", str(tmp_path), "--since", "2026-11-20")
    names = {p.name for p in tmp_path.iterdir()}
    assert "20000000001-03-B001-2.xml" in names  # 01:00 Lima on the 20th
    assert "20000000001-03-B001-1.xml" not in names  # 22:00 Lima on the 19th (03:00 UTC on the 20th)


def test_store_filter(data, tmp_path):
    call_command("sunat_export", "--out", str(tmp_path), "--store", "0001")
    assert {p.name for p in tmp_path.iterdir()} == {"20000000001-01-F002-7.xml"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-13-01"], "--since no es una fecha válida"),
        (["--since", "ayer"], "--since debe tener el formato YYYY-MM-DD"),
        (["--store", "12"], "--store debe ser un código de establecimiento de 4 dígitos"),
        (["--store", "0099"], "No existe una tienda con el código de establecimiento 0099"),
    ],
)
def test_bad_input_is_one_readable_error_and_writes_nothing(data, tmp_path, args, message):
    out = tmp_path / "out"
    with pytest.raises(CommandError, match=message) as info:
        call_command("sunat_export", "--out", str(out), *args)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_out_that_is_a_file_is_refused(data, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(CommandError, match="--out no es una carpeta"):
        call_command("sunat_export", "--out", str(target))

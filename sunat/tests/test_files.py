"""File and zip names, and the one-entry DEFLATE zip SUNAT expects."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from sunat.files import document_file_name, summary_file_name, zip_bytes, zip_single_entry


def test_document_file_name_has_no_leading_zeros():
    assert document_file_name(ruc="20000000001", document_type="03", series="B001", number=7) == "20000000001-03-B001-7"
    assert document_file_name(ruc="20000000001", document_type="01", series="F001", number=99_999_999).endswith(
        "-99999999"
    )


def test_summary_file_name():
    assert (
        summary_file_name(ruc="20000000001", kind="RC", issue_date=date(2026, 1, 5), sequence=3)
        == "20000000001-RC-20260105-3"
    )
    assert (
        summary_file_name(ruc="20000000001", kind="RA", issue_date=date(2026, 12, 31), sequence=1)
        == "20000000001-RA-20261231-1"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(ruc="2000000000", document_type="03", series="B001", number=1),
        dict(ruc="20000000001", document_type="09", series="B001", number=1),
        dict(ruc="20000000001", document_type="03", series="B01", number=1),
        dict(ruc="20000000001", document_type="03", series="B001", number=0),
        dict(ruc="20000000001", document_type="03", series="B001", number=100_000_000),
    ],
)
def test_bad_names_are_refused(kwargs):
    with pytest.raises(ValueError):
        document_file_name(**kwargs)


def test_zip_has_exactly_one_deflated_entry_named_like_the_zip():
    xml = b"<?xml version='1.0' encoding='UTF-8'?><Invoice>\xc3\xb1</Invoice>" * 50
    data = zip_bytes(name="20000000001-03-B001-7", xml=xml)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["20000000001-03-B001-7.xml"]
        assert infos[0].compress_type == zipfile.ZIP_DEFLATED
        assert archive.read(infos[0]) == xml
    assert zip_single_entry(data) == ("20000000001-03-B001-7.xml", xml)
    assert zip_bytes(name="20000000001-03-B001-7", xml=xml) == data  # deterministic


def test_zip_single_entry_refuses_bad_zips():
    with pytest.raises(ValueError, match="corrupto"):
        zip_single_entry(b"not a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.xml", b"1")
        archive.writestr("b.xml", b"2")
    with pytest.raises(ValueError, match="exactamente un archivo"):
        zip_single_entry(buffer.getvalue())

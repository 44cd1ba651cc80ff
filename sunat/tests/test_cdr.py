"""CDR zips and SOAP faults as SUNAT sends them (real samples from SUNAT_SCHEMA_DIR/samples)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from sunat.cdr import CdrError, cdr_parse, cdr_xml_parse, fault_code, fault_parse


@pytest.fixture
def samples() -> Path:
    path = Path(settings.SUNAT_SCHEMA_DIR or "") / "samples" / "cdr"
    if not path.is_dir():
        pytest.skip("SUNAT samples not available (SUNAT_SCHEMA_DIR)")
    return path


def test_beta_zip_with_dummy_folder_first_reads_the_first_xml_entry(samples):
    cdr = cdr_parse((samples / "cdr.zip").read_bytes())
    assert cdr.entry_name == "R-12345678901-01-F001-00000587.xml"
    assert cdr.response_code == "0"
    assert "aceptada" in cdr.description


def test_rejection_zip_with_default_namespace_root(samples):
    cdr = cdr_parse((samples / "cdr-rechazo.zip").read_bytes())
    assert cdr.response_code == "0109"
    assert cdr.reference_id == "F001-2"


def test_observations_are_split_into_code_and_text(samples):
    cdr = cdr_xml_parse((samples / "R-20600995805-01-F001-3.xml").read_bytes())
    assert cdr.response_code == "0"
    codes = [o.code for o in cdr.observations]
    assert codes == ["4031", "4001"] or set(codes) >= {"4031", "4001"}
    assert cdr.observations[0].text.startswith("Debe indicar")
    assert cdr.document_id.startswith("F001-")


def test_ose_cdr_with_default_cbc_namespace(samples):
    cdr = cdr_xml_parse((samples / "efact_cdr1-ose.xml").read_bytes())
    assert cdr.response_code == "0"
    assert cdr.reference_id


def test_not_a_zip_and_zip_without_xml_are_errors(tmp_path):
    import io
    import zipfile

    with pytest.raises(CdrError):
        cdr_parse(b"not a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("dummy/", b"")
        archive.writestr("image.png", b"\x89PNG")
    with pytest.raises(CdrError):
        cdr_parse(buffer.getvalue())


@pytest.mark.parametrize(
    ("faultcode", "faultstring", "expected"),
    [
        ("soap-env:Client.0306", "No se puede leer (parsear) el archivo XML", "0306"),
        ("soap-env:Server.0200", "Ocurrió un error en el batch", "0200"),
        ("ns0:Client.2335", "alterado", "2335"),
        ("soap-env:Server", "0109", "0109"),
        ("env:Client", "1033", "1033"),
        ("env:Client", "Client Internal Error", ""),
    ],
)
def test_fault_code_from_faultcode_digits_or_digit_only_faultstring(faultcode, faultstring, expected):
    assert fault_code(faultcode, faultstring) == expected


def test_fault_parse_reads_a_sunat_fault_envelope():
    envelope = (
        b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>'
        b"<soap-env:Fault><faultcode>soap-env:Client.2800</faultcode>"
        b"<faultstring>El dato ingresado en el tipo de documento de identidad del receptor no esta permitido."
        b" - Detalle: xxx.xxx.xxx value='ticket: 123 error: INFO : 2800 (nodo: \"cbc:ID\")'</faultstring>"
        b"</soap-env:Fault></soap-env:Body></soap-env:Envelope>"
    )
    fault = fault_parse(envelope)
    assert fault is not None and fault.code == "2800"
    assert fault.faultstring.startswith("El dato ingresado")
    assert fault_parse(b"<a/>") is None
    assert fault_parse(b"<html>503") is None

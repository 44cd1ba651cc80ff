"""The SUNAT double answers like SUNAT: exercised through the real client over HTTP.

Signed samples from SUNAT_SCHEMA_DIR/samples are SUNAT-accepted documents; the double checks
credentials, names, zip, XSD, signature (2335), duplicates (1033), SFS rules, tickets and
getStatusCdr. Nothing here mocks the client.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from sunat.codes import Category, Source, response_classify
from sunat.files import zip_bytes
from sunat.outcomes import NextStep
from sunat.soap import SunatClient, SunatFault, SunatTransportError
from sunat.tests.sunat_files import sunat_file

FACTURA = "12345678912-01-F001-1"
RUC = "12345678912"


def sample(relative: str) -> bytes:
    path = Path(settings.SUNAT_SCHEMA_DIR or "") / "samples" / relative
    if not path.is_file():
        pytest.skip("SUNAT samples not available (SUNAT_SCHEMA_DIR)")
    return path.read_bytes()


def client(username: str = f"{RUC}MODDATOS", password: str = "moddatos") -> SunatClient:
    return SunatClient(username=username, password=password)


def fault_of(call) -> SunatFault:
    with pytest.raises(SunatFault) as info:
        call()
    return info.value


def send(name: str, xml: bytes, **kwargs):
    return client(**kwargs).send_bill(file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=xml))


def test_signed_factura_is_accepted_with_a_cdr_zip_named_after_it(fake_sunat):
    cdr_zip, cdr = send(FACTURA, sample(f"invoices/{FACTURA}.xml"))
    assert cdr.response_code == "0"
    assert cdr.reference_id == "F001-1"
    assert zipfile.ZipFile(io.BytesIO(cdr_zip)).namelist() == [f"R-{FACTURA}.xml"]
    registry = json.loads(urllib.request.urlopen(f"{fake_sunat.url}/_registry").read())
    assert registry["documents"][FACTURA]["code"] == "0"
    assert registry["receptions"][FACTURA] == 1


def test_same_document_again_is_1033_and_stays_registered_once(fake_sunat):
    xml = sample(f"invoices/{FACTURA}.xml")
    send(FACTURA, xml)
    fault = fault_of(lambda: send(FACTURA, xml))
    assert fault.code == "1033"
    assert response_classify(source=Source.FAULT, code=fault.code).category is Category.REGISTERED
    registry = fake_sunat.fake.registry_json()
    assert len(registry["documents"]) == 1 and registry["receptions"][FACTURA] == 2


def test_observed_sample_gets_sfs_observations_as_cdr_notes(fake_sunat):
    from sunat.validation import sfs_available

    if not sfs_available():
        pytest.skip("saxonche / SFS stylesheets not available")
    _zip, cdr = send(FACTURA, sample(f"invoices/{FACTURA}_observado.xml"))
    assert cdr.response_code == "0"
    assert any(o.code.startswith("4") for o in cdr.observations)
    assert response_classify(source=Source.CDR, code="0", notes=cdr.notes).category is Category.OBSERVED


def test_altered_document_is_2335(fake_sunat):
    fault = fault_of(lambda: send(FACTURA, sample(f"invoices/{FACTURA}_alterado.xml")))
    assert fault.code == "2335"


def test_one_changed_byte_after_signing_is_2335(fake_sunat):
    xml = sample(f"invoices/{FACTURA}.xml")
    altered = xml.replace(b"<cbc:IssueTime>", b"<cbc:IssueTime>", 1)
    index = xml.index(b"<cbc:PayableAmount")
    index = xml.index(b">", index) + 1  # first digit of the payable amount
    digit = xml[index : index + 1]
    altered = xml[:index] + (b"9" if digit != b"9" else b"8") + xml[index + 1 :]
    assert len(altered) == len(xml) and altered != xml
    assert fault_of(lambda: send(FACTURA, altered)).code == "2335"
    assert FACTURA not in fake_sunat.fake.registry_json()["documents"]


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        (f"{RUC}MODDATOS", "wrong", "0102"),
        (f"{RUC}NOEXISTE", "moddatos", "0103"),
        ("99999999999MODDATOS", "moddatos", "0154"),
    ],
)
def test_credentials_are_checked(fake_sunat, username, password, code):
    fault = fault_of(lambda: send(FACTURA, sample(f"invoices/{FACTURA}.xml"), username=username, password=password))
    assert fault.code == code
    assert response_classify(source=Source.FAULT, code=code).step is NextStep.PAUSE_COMPANY


def test_registered_credentials_work_and_a_wrong_password_is_0102(fake_sunat):
    fake_sunat.fake.credentials_add(f"{RUC}FACTURAS", "s3creta")
    xml = sample(f"invoices/{FACTURA}.xml")
    assert fault_of(lambda: send(FACTURA, xml, username=f"{RUC}FACTURAS", password="otra")).code == "0102"
    _zip, cdr = send(FACTURA, xml, username=f"{RUC}FACTURAS", password="s3creta")
    assert cdr.response_code == "0"


def _zip_entries(*entries: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_and_file_name_faults(fake_sunat):
    xml = sample(f"invoices/{FACTURA}.xml")
    c = client()
    assert (
        fault_of(lambda: c.send_bill(file_name=f"{FACTURA}.xml", zip_bytes=zip_bytes(name=FACTURA, xml=xml))).code
        == "0151"
    )
    assert (
        fault_of(lambda: c.send_bill(file_name=f"{RUC}-01-F1-1.zip", zip_bytes=zip_bytes(name=FACTURA, xml=xml))).code
        == "0151"
    )
    assert fault_of(lambda: c.send_bill(file_name=f"{RUC}-RC-20200101-1.zip", zip_bytes=b"x")).code == "0152"
    assert fault_of(lambda: c.send_bill(file_name=f"{FACTURA}.zip", zip_bytes=b"garbage")).code == "0156"
    assert fault_of(lambda: c.send_bill(file_name=f"{FACTURA}.zip", zip_bytes=_zip_entries())).code == "0157"
    two = _zip_entries((f"{FACTURA}.xml", xml), ("otro.xml", xml))
    assert fault_of(lambda: c.send_bill(file_name=f"{FACTURA}.zip", zip_bytes=two)).code == "0158"
    other = _zip_entries((f"{RUC}-01-F001-2.xml", xml))
    assert fault_of(lambda: c.send_bill(file_name=f"{FACTURA}.zip", zip_bytes=other)).code == "0161"
    assert (
        fault_of(lambda: c.send_bill(file_name=f"{FACTURA}.zip", zip_bytes=_zip_entries((f"{FACTURA}.xml", b"")))).code
        == "0160"
    )
    for code in ("0151", "0156", "0161"):
        assert response_classify(source=Source.FAULT, code=code).step is NextStep.FIX
    assert fake_sunat.fake.registry_json()["documents"] == {}


def test_name_versus_content(fake_sunat):
    xml = sample(f"invoices/{FACTURA}.xml")
    assert fault_of(lambda: send(f"{RUC}-01-F002-1", xml)).code == "1035"
    assert fault_of(lambda: send(f"{RUC}-01-F001-2", xml)).code == "1036"
    assert fault_of(lambda: send(f"{RUC}-03-F001-1", xml)).code == "1003"
    other_ruc = "20100066603"
    assert fault_of(lambda: send(f"{other_ruc}-01-F001-1", xml, username=f"{other_ruc}MODDATOS")).code == "1034"


def test_xsd_failure_is_0306(fake_sunat):
    xml = sample(f"invoices/{FACTURA}.xml")
    broken = xml.replace(b"cbc:IssueDate>", b"cbc:FechaEmision>")  # not an element of the UBL schema
    assert broken != xml
    fault = fault_of(lambda: send(FACTURA, broken))
    assert fault.code == "0306"
    assert response_classify(source=Source.FAULT, code="0306").step is NextStep.FIX


def test_get_status_cdr_answers_only_for_01_07_08(fake_sunat):
    c = client()
    missing = c.get_status_cdr(ruc=RUC, document_type="01", series="F001", number=1)
    assert missing.status_code == "0011" and missing.cdr is None
    send(FACTURA, sample(f"invoices/{FACTURA}.xml"))
    found = c.get_status_cdr(ruc=RUC, document_type="01", series="F001", number=1)
    assert found.status_code == "0004" and found.cdr is not None and found.cdr.response_code == "0"
    boleta = c.get_status_cdr(ruc=RUC, document_type="03", series="B001", number=1)
    assert boleta.cdr is None and boleta.status_code == "0005"


def test_summary_ticket_answers_98_then_a_cdr(fake_sunat):
    name = "12345678912-RA-20200328-1"
    c = client()
    ticket = c.send_summary(
        file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=sample(f"summaries/{name}.xml"))
    )
    assert ticket
    first = c.get_status(ticket=ticket)
    assert first.status_code == "98" and first.cdr is None
    assert response_classify(source=Source.TICKET, code="98").step is NextStep.SNOOZE
    second = c.get_status(ticket=ticket)
    assert second.status_code in ("0", "99") and second.cdr is not None
    assert second.cdr.reference_id == "RA-20200328-1"
    assert fault_of(lambda: c.get_status(ticket="000")).code == "0127"
    again = fault_of(
        lambda: c.send_summary(
            file_name=f"{name}.zip", zip_bytes=zip_bytes(name=name, xml=sample(f"summaries/{name}.xml"))
        )
    )
    assert again.code == "0402"


@pytest.mark.parametrize(("mode", "code"), [("0109", "0109"), ("0130", "0130")])
def test_injected_sunat_faults_happen_before_registering(fake_sunat, mode, code):
    fake_sunat.fake.force(mode)
    fault = fault_of(lambda: send(FACTURA, sample(f"invoices/{FACTURA}.xml")))
    assert fault.code == code
    assert response_classify(source=Source.FAULT, code=code).step is NextStep.RETRY
    assert fake_sunat.fake.registry_json()["documents"] == {}


def test_injected_http_503_may_have_reached(fake_sunat):
    fake_sunat.fake.force("http-503")
    with pytest.raises(SunatTransportError) as info:
        send(FACTURA, sample(f"invoices/{FACTURA}.xml"))
    assert info.value.code == "http-503" and info.value.reached
    result = response_classify(source=Source.TRANSPORT, code=info.value.code, reached=info.value.reached)
    assert result.step is NextStep.RETRY and result.verify_next


def test_timeout_after_register_loses_the_answer_but_registers(fake_sunat):
    fake_sunat.fake.force("timeout-after-register")
    with pytest.raises(SunatTransportError) as info:
        send(FACTURA, sample(f"invoices/{FACTURA}.xml"))
    assert info.value.code == "read-timeout" and info.value.reached
    assert FACTURA in fake_sunat.fake.registry_json()["documents"]


def test_seeded_fault_rate_is_reproducible(settings):
    from sunat.fake import FakeSunatConfig, FakeSunatServer

    def run() -> list[str]:
        server = FakeSunatServer(config=FakeSunatConfig(fault_rate=0.5, seed=7, timeout_sleep=0.0)).start()
        try:
            settings.SUNAT_ENV = "fake"
            settings.SUNAT_ENDPOINT = server.bill_url
            settings.SUNAT_CONSULT_ENDPOINT = server.consult_url
            seen = []
            for _ in range(12):
                try:
                    client().get_status_cdr(ruc=RUC, document_type="01", series="F001", number=1)
                    seen.append("ok")
                except SunatFault as fault:
                    seen.append(fault.code)
                except SunatTransportError as error:
                    seen.append(error.code)
            return seen
        finally:
            server.stop()

    first, second = run(), run()
    assert first == second
    assert "ok" in first and any(x != "ok" for x in first)


def test_wsdl_is_served(fake_sunat):
    sunat_file("wsdl", "billService.wsdl")
    body = urllib.request.urlopen(f"{fake_sunat.bill_url}?wsdl").read()
    assert b"definitions" in body


def test_concurrent_sends_of_the_same_document_register_it_once(fake_sunat, settings):
    import threading

    settings.SUNAT_READ_TIMEOUT = 60.0  # SUNAT's rule stylesheet runs one document at a time
    xml = sample(f"invoices/{FACTURA}.xml")
    results: list[str] = []
    lock = threading.Lock()

    def worker():
        try:
            _zip, cdr = send(FACTURA, xml)
            outcome = cdr.response_code
        except SunatFault as fault:
            outcome = fault.code
        except SunatTransportError as error:
            outcome = error.code
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["0"] + ["1033"] * 5
    registry = fake_sunat.fake.registry_json()
    assert list(registry["documents"]) == [FACTURA] and registry["receptions"][FACTURA] == 6


def _manage(*args: str, **kwargs):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bodegapos.settings.test", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_fake_sunat_command_serves_soap_on_a_real_port(settings):
    import re

    process = _manage("fake_sunat", "--port", "0", "--no-sfs", "--seed", "3")
    try:
        line = process.stdout.readline()
        match = re.search(r"billService (http://\S+?billService)", line)
        assert match, line
        url = match.group(1)
        base = url.rsplit("/", 2)[0]
        settings.SUNAT_ENV = "fake"
        settings.SUNAT_ENDPOINT = url
        settings.SUNAT_CONSULT_ENDPOINT = f"{base}/ol-it-wsconscpegem/billConsultService"
        status = client().get_status_cdr(ruc=RUC, document_type="01", series="F001", number=1)
        assert status.status_code == "0011"
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_fake_sunat_command_rejects_bad_options_with_one_line():
    process = _manage("fake_sunat", "--port", "0", "--fault-rate", "2")
    _out, err = process.communicate(timeout=60)
    assert process.returncode != 0
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert lines[-1] == "CommandError: --fault-rate y --lost-response-rate deben ser números entre 0 y 1."

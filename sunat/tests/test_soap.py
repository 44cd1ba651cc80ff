"""The SOAP client's transport classes and endpoints (real sockets, no mocks)."""

from __future__ import annotations

import socket
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from sunat.soap import SunatClient, SunatTransportError, consult_supported, sunat_endpoints


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_port_is_a_connection_error_that_surely_did_not_reach(settings):
    port = _free_port()
    settings.SUNAT_ENV = "fake"
    settings.SUNAT_ENDPOINT = f"http://127.0.0.1:{port}/ol-ti-itcpfegem/billService"
    settings.SUNAT_CONSULT_ENDPOINT = f"http://127.0.0.1:{port}/ol-it-wsconscpegem/billConsultService"
    with pytest.raises(SunatTransportError) as info:
        SunatClient(username="20000000001MODDATOS", password="moddatos").send_bill(file_name="x.zip", zip_bytes=b"x")
    assert info.value.code == "connect-error"
    assert info.value.reached is False


def test_connection_closed_after_the_request_is_sent_may_have_reached(settings):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def accept_read_and_close():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=accept_read_and_close, daemon=True)
    thread.start()
    settings.SUNAT_ENV = "beta"
    settings.SUNAT_ENDPOINT = f"http://127.0.0.1:{port}/billService"
    try:
        with pytest.raises(SunatTransportError) as info:
            SunatClient(username="20000000001MODDATOS", password="moddatos").send_bill(
                file_name="x.zip", zip_bytes=b"x"
            )
    finally:
        thread.join(timeout=5)
        server.close()
    assert info.value.code == "connection-dropped"
    assert info.value.reached is True


def test_read_timeout_may_have_reached(fake_sunat):
    fake_sunat.fake.force("timeout")
    with pytest.raises(SunatTransportError) as info:
        SunatClient(username="20000000001MODDATOS", password="moddatos").get_status(ticket="1")
    assert info.value.code == "read-timeout" and info.value.reached


def test_dropped_connection_from_the_double(fake_sunat):
    fake_sunat.fake.force("drop")
    with pytest.raises(SunatTransportError) as info:
        SunatClient(username="20000000001MODDATOS", password="moddatos").get_status(ticket="1")
    assert info.value.code == "connection-dropped" and info.value.reached


def test_endpoints_by_environment(settings):
    settings.SUNAT_ENDPOINT = ""
    settings.SUNAT_CONSULT_ENDPOINT = ""
    settings.SUNAT_ENV = "beta"
    assert sunat_endpoints().bill == "https://e-beta.sunat.gob.pe/ol-ti-itcpfegem-beta/billService"
    assert sunat_endpoints().consult == ""
    assert not consult_supported("01")
    settings.SUNAT_ENV = "production"
    assert sunat_endpoints().bill == "https://e-factura.sunat.gob.pe/ol-ti-itcpfegem/billService"
    assert sunat_endpoints().consult == "https://e-factura.sunat.gob.pe/ol-it-wsconscpegem/billConsultService"
    assert consult_supported("01") and consult_supported("07") and consult_supported("08")
    assert not consult_supported("03") and not consult_supported("RC")
    # Notes of facturas are asked for; notes of boletas travel like boletas.
    assert consult_supported("07", "FC01") and consult_supported("08", "FD01")
    assert not consult_supported("07", "BC01") and not consult_supported("08", "BD01")
    settings.SUNAT_ENV = "fake"
    with pytest.raises(ImproperlyConfigured):
        sunat_endpoints()
    settings.SUNAT_ENDPOINT = "http://127.0.0.1:8900/ol-ti-itcpfegem/billService"
    settings.SUNAT_CONSULT_ENDPOINT = "http://127.0.0.1:8900/ol-it-wsconscpegem/billConsultService"
    assert sunat_endpoints().consult.endswith("billConsultService")
    settings.SUNAT_ENV = "beta"
    assert sunat_endpoints().bill == "http://127.0.0.1:8900/ol-ti-itcpfegem/billService"


def test_password_is_not_in_the_client_repr(settings):
    settings.SUNAT_ENV = "beta"
    client = SunatClient(username="20000000001MODDATOS", password="s3creta")
    assert "s3creta" not in repr(client)


def test_only_a_refused_certificate_counts_as_tls_failure_before_sending():
    """An SSLError while reading the answer may follow a request SUNAT received: verify next."""
    import ssl

    import requests
    from urllib3.exceptions import MaxRetryError
    from urllib3.exceptions import SSLError as Urllib3SSLError

    from sunat.soap import _not_reached

    def wrapped(inner: BaseException) -> requests.exceptions.SSLError:
        return requests.exceptions.SSLError(MaxRetryError(None, "/billService", Urllib3SSLError(inner)))

    assert _not_reached(wrapped(ssl.SSLCertVerificationError("certificate verify failed")))
    assert not _not_reached(wrapped(ssl.SSLEOFError(8, "UNEXPECTED_EOF_WHILE_READING")))

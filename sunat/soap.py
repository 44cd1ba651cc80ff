"""SOAP client for SUNAT's billService and billConsultService (requests + lxml).

Envelopes follow the local WSDLs (``SUNAT_SCHEMA_DIR/wsdl``): SOAP 1.1, document/literal,
namespace ``http://service.sunat.gob.pe``, WS-Security UsernameToken with a PasswordText
password; the username is the RUC followed by the SOL user (SUNAT.md §4).

Every call either returns SUNAT's answer or raises:

* :class:`SunatFault` — SUNAT answered a SOAP fault (``code`` = its return code);
* :class:`SunatTransportError` — no usable answer. ``reached`` is ``False`` only when the request
  surely did not reach SUNAT (connection refused, DNS, TLS handshake, connect timeout); a read
  timeout, a connection dropped after sending, an HTTP 5xx without a fault or an unreadable body
  may mean SUNAT has the document, so the caller must verify before sending again.

No retries happen here (``max_retries=0``): retrying is the worker's decision.
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from xml.sax.saxutils import escape

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from lxml import etree
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .cdr import Cdr, cdr_parse, fault_parse

SERVICE_NS = "http://service.sunat.gob.pe"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"

ENDPOINTS = {
    "beta": ("https://e-beta.sunat.gob.pe/ol-ti-itcpfegem-beta/billService", ""),
    "production": (
        "https://e-factura.sunat.gob.pe/ol-ti-itcpfegem/billService",
        "https://e-factura.sunat.gob.pe/ol-it-wsconscpegem/billConsultService",
    ),
}
# getStatusCdr answers only these types (SUNAT.md §4.1).
CONSULT_TYPES = frozenset({"01", "07", "08"})


class SunatError(Exception):
    pass


class SunatFault(SunatError):
    def __init__(self, *, code: str, message: str, faultcode: str = "", http_status: int = 0, detail: str = ""):
        super().__init__(f"{code or faultcode}: {message}")
        self.code = code
        self.message = message
        self.faultcode = faultcode
        self.http_status = http_status
        self.detail = detail


class SunatTransportError(SunatError):
    def __init__(self, *, code: str, reached: bool, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code  # connect-error, connect-timeout, read-timeout, connection-dropped, bad-response, http-NNN
        self.reached = reached
        self.message = message


@dataclass(frozen=True)
class Endpoints:
    bill: str
    consult: str  # "" when there is no consult service (beta)


def sunat_endpoints() -> Endpoints:
    """billService and billConsultService URLs for ``settings.SUNAT_ENV``, with overrides.

    ``SUNAT_ENDPOINT`` / ``SUNAT_CONSULT_ENDPOINT`` win over the table; ``SUNAT_ENV=fake``
    has no table entry and needs both (``make run`` sets them to the local double).
    """
    env = settings.SUNAT_ENV
    bill_override = getattr(settings, "SUNAT_ENDPOINT", "") or ""
    consult_override = getattr(settings, "SUNAT_CONSULT_ENDPOINT", "") or ""
    if env == "fake":
        if not bill_override or not consult_override:
            raise ImproperlyConfigured("SUNAT_ENV=fake necesita SUNAT_ENDPOINT y SUNAT_CONSULT_ENDPOINT (fake_sunat).")
        return Endpoints(bill=bill_override, consult=consult_override)
    if env not in ENDPOINTS:
        raise ImproperlyConfigured(f"SUNAT_ENV desconocido: {env!r} (use fake, beta o production).")
    bill, consult = ENDPOINTS[env]
    return Endpoints(bill=bill_override or bill, consult=consult_override or consult)


def consult_supported(document_type: str, series: str = "") -> bool:
    """True when SUNAT can answer getStatusCdr for this document here: a consult URL, and a
    factura or a note of a factura (01, or 07/08 of an F series). Notes of boletas (B series)
    travel like boletas: re-sent, with "already registered" (1033) read as registered."""
    try:
        endpoints = sunat_endpoints()
    except ImproperlyConfigured:
        return False
    if document_type in ("07", "08") and series.startswith("B"):
        return False
    return bool(endpoints.consult) and document_type in CONSULT_TYPES


@dataclass(frozen=True)
class TicketStatus:
    status_code: str  # "0" processed, "98" in process, "99" processed with errors
    content: bytes | None
    cdr: Cdr | None


@dataclass(frozen=True)
class CdrStatus:
    status_code: str  # "0004" CDR found; "0011" not found, …
    status_message: str
    content: bytes | None
    cdr: Cdr | None


def _envelope(username: str, password: str, operation: str, fields: list[tuple[str, str]]) -> bytes:
    body = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ser="{SERVICE_NS}" '
        f'xmlns:wsse="{WSSE_NS}">'
        "<soapenv:Header><wsse:Security><wsse:UsernameToken>"
        f"<wsse:Username>{escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_TEXT}">{escape(password)}</wsse:Password>'
        "</wsse:UsernameToken></wsse:Security></soapenv:Header>"
        f"<soapenv:Body><ser:{operation}>{body}</ser:{operation}></soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


def _not_reached(exc: BaseException) -> bool:
    """Walk the exception chain: did the failure happen before any byte was sent?"""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        # A TLS error while reading the answer (e.g. an EOF) comes as an SSLError too, after the
        # request went out; only a certificate refused during the handshake proves nothing left.
        if isinstance(current, (NewConnectionError, ConnectTimeoutError, ssl.SSLCertVerificationError)):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                stack.append(arg)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    return False


class SunatClient:
    """One company's SOAP session. Credentials are held in memory only and never logged."""

    def __init__(
        self,
        *,
        username: str,
        password: str,
        endpoints: Endpoints | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ):
        self.username = username
        self._password = password
        self.endpoints = endpoints or sunat_endpoints()
        self.timeout = (
            connect_timeout if connect_timeout is not None else settings.SUNAT_CONNECT_TIMEOUT,
            read_timeout if read_timeout is not None else settings.SUNAT_READ_TIMEOUT,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:  # never show the password
        return f"SunatClient(username={self.username!r}, bill={self.endpoints.bill!r})"

    @classmethod
    def for_company(cls, company, *, account=None, **kwargs) -> SunatClient:
        """A client with the company's clave SOL (RUC + SOL user, password) from its
        ``SunatAccount`` (``account`` when the caller has read it; none: empty credentials,
        which SUNAT answers with a configuration fault that pauses the company)."""
        if account is None:
            from .models import SunatAccount

            account = SunatAccount.objects.filter(company_id=company.pk).first()
        user, password = (account.sol_user, account.sol_password or "") if account is not None else ("", "")
        return cls(username=f"{company.ruc}{user}", password=password, **kwargs)

    def close(self) -> None:
        self.session.close()

    # -- transport ------------------------------------------------------------------------

    def _call(self, url: str, operation: str, fields: list[tuple[str, str]]) -> etree._Element:
        if not url:
            raise SunatTransportError(code="connect-error", reached=False, message="sin URL de servicio")
        payload = _envelope(self.username, self._password, operation, fields)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f"urn:{operation}"}
        try:
            response = self.session.post(url, data=payload, headers=headers, timeout=self.timeout)
        except requests.exceptions.ConnectTimeout as exc:
            raise SunatTransportError(code="connect-timeout", reached=False, message=str(exc)) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise SunatTransportError(code="read-timeout", reached=True, message=str(exc)) from exc
        except requests.exceptions.ConnectionError as exc:
            if _not_reached(exc):
                raise SunatTransportError(code="connect-error", reached=False, message=str(exc)) from exc
            raise SunatTransportError(code="connection-dropped", reached=True, message=str(exc)) from exc
        except requests.exceptions.RequestException as exc:
            raise SunatTransportError(code="connection-dropped", reached=True, message=str(exc)) from exc

        body = response.content
        fault = fault_parse(body)
        if fault is not None:
            raise SunatFault(
                code=fault.code,
                message=fault.faultstring,
                faultcode=fault.faultcode,
                http_status=response.status_code,
                detail=fault.detail,
            )
        if response.status_code >= 500:
            raise SunatTransportError(code=f"http-{response.status_code}", reached=True, message=response.reason or "")
        if response.status_code >= 400:
            raise SunatTransportError(code=f"http-{response.status_code}", reached=False, message=response.reason or "")
        try:
            root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise SunatTransportError(code="bad-response", reached=True, message="respuesta no es XML") from exc
        result = root.xpath(f"//*[local-name()='{operation}Response']")
        if not result:
            raise SunatTransportError(code="bad-response", reached=True, message=f"sin {operation}Response")
        return result[0]

    @staticmethod
    def _text(node: etree._Element, name: str) -> str:
        hits = node.xpath(f".//*[local-name()='{name}']")
        return (hits[0].text or "").strip() if hits else ""

    @staticmethod
    def _content(node: etree._Element) -> bytes | None:
        text = SunatClient._text(node, "content")
        return base64.b64decode(text) if text else None

    # -- operations -----------------------------------------------------------------------

    def send_bill(self, *, file_name: str, zip_bytes: bytes) -> tuple[bytes, Cdr]:
        """sendBill: the CDR zip (``applicationResponse``) and its parsed content."""
        node = self._call(
            self.endpoints.bill,
            "sendBill",
            [("fileName", file_name), ("contentFile", base64.b64encode(zip_bytes).decode("ascii"))],
        )
        text = self._text(node, "applicationResponse")
        if not text:
            raise SunatTransportError(code="bad-response", reached=True, message="sendBill sin applicationResponse")
        cdr_zip = base64.b64decode(text)
        try:
            return cdr_zip, cdr_parse(cdr_zip)
        except ValueError as exc:
            raise SunatTransportError(code="bad-response", reached=True, message=str(exc)) from exc

    def send_summary(self, *, file_name: str, zip_bytes: bytes) -> str:
        """sendSummary (RC/RA): the ticket to poll with :meth:`get_status`."""
        node = self._call(
            self.endpoints.bill,
            "sendSummary",
            [("fileName", file_name), ("contentFile", base64.b64encode(zip_bytes).decode("ascii"))],
        )
        ticket = self._text(node, "ticket")
        if not ticket:
            raise SunatTransportError(code="bad-response", reached=True, message="sendSummary sin ticket")
        return ticket

    def get_status(self, *, ticket: str) -> TicketStatus:
        """getStatus(ticket): 0 processed (CDR), 98 in process, 99 processed with errors (CDR)."""
        node = self._call(self.endpoints.bill, "getStatus", [("ticket", ticket)])
        code = self._text(node, "statusCode")
        content = self._content(node)
        cdr = None
        if content:
            try:
                cdr = cdr_parse(content)
            except ValueError as exc:
                raise SunatTransportError(code="bad-response", reached=True, message=str(exc)) from exc
        return TicketStatus(status_code=code, content=content, cdr=cdr)

    def get_status_cdr(self, *, ruc: str, document_type: str, series: str, number: int) -> CdrStatus:
        """getStatusCdr on billConsultService (production; 01/07/08 only)."""
        node = self._call(
            self.endpoints.consult,
            "getStatusCdr",
            [
                ("rucComprobante", ruc),
                ("tipoComprobante", document_type),
                ("serieComprobante", series),
                ("numeroComprobante", str(int(number))),
            ],
        )
        content = self._content(node)
        cdr = None
        if content:
            try:
                cdr = cdr_parse(content)
            except ValueError as exc:
                raise SunatTransportError(code="bad-response", reached=True, message=str(exc)) from exc
        return CdrStatus(
            status_code=self._text(node, "statusCode"),
            status_message=self._text(node, "statusMessage"),
            content=content,
            cdr=cdr,
        )

"""fake_sunat: a local SOAP double of SUNAT's billService and billConsultService.

A real threaded HTTP server (``http.server.ThreadingHTTPServer``) that answers like SUNAT does
(SUNAT.md §4–§6), so the client, the classification and the worker are tested at the HTTP
boundary and nothing mocks the client.

What it checks, in SUNAT's order, answering a SOAP fault (HTTP 500, ``soap-env:Client.NNNN``):

* credentials (WS-Security UsernameToken): missing header 0101; unknown user 0103; wrong
  password 0102; RUC of the user ≠ RUC of the file 0154. **Valid credentials**: any user
  ``{RUC}MODDATOS`` with password ``moddatos`` (SUNAT beta's convention), plus the users a test
  registers (:meth:`FakeSunat.credentials_add` or ``POST /_credentials``). Any other user does
  not exist;
* file and zip: zip name 0151 (a summary name on sendBill 0152), empty 0155, corrupt 0156, no
  XML 0157, more than one entry 0158, bad XML name 0159, empty XML 0160, XML name ≠ zip name 0161;
* XML: unreadable or not valid against SUNAT's XSD 0306; name vs content: RUC 1034, series
  1035, number 1036, type 1003;
* signature and digest (independently recomputed, ``signature.py``) 2335;
* already registered: the same document again 1033, or 1032 when SUNAT holds it as rejected or
  voided (summaries: 0402);
* when saxonche is installed, SUNAT's own SFS stylesheet for the type: its first error as a fault
  (0100–1999) or as a CDR rejection (2000–3999, the number is registered as rejected), its
  observations as CDR notes;
* SUNAT's server-side rule on a boleta's buyer (in neither SFS boleta stylesheet), as a CDR
  rejection: a boleta, or a B-series note, above ``sunat.rules.BOLETA_ANONYMOUS_LIMIT`` whose
  buyer is anonymous (schemeID ``0`` or ID ``-``) 2396;
* SUNAT's server-side rules on the documents a note or a summary names, as a CDR rejection of
  the note or of the summary's ticket (the note or summary is registered as rejected): a credit
  note must modify a document SUNAT holds (2119), not voided (2120), not rejected (2121) —
  debit notes 2209/2207/2208; an RA may not list boletas (2308) and must name registered (2105),
  live (2106) documents that were not rejected (2398); an RC ConditionCode 3 line must name a
  document SUNAT holds (2663) that is neither voided nor rejected (2987). An accepted RA or RC
  voids its ConditionCode 3 documents (``GET /_registry`` lists them under ``voided``); an RC's
  other lines count as informed. :meth:`FakeSunat.hold` registers a document as received
  earlier, for tests.

Accepted (or CDR-rejected) documents are registered once, in memory and thread-safe. sendBill
answers the CDR zip ``R-{name}.zip`` holding ``R-{name}.xml`` (an ApplicationResponse with
ResponseCode/Description/Notes; **unsigned**: the double has no SUNAT key). sendSummary answers a
ticket; getStatus(ticket) answers 98 ``ticket_polls`` times, then 0 (or 99) with the CDR.
getStatusCdr answers only for 01/07/08, like SUNAT: ``0004`` with the CDR when registered,
``0011`` when not; other types get ``0005`` without content.

Fault injection: ``latency_ms`` delays every answer; ``fault_rate`` (seeded by ``seed``) picks,
BEFORE anything is registered, one of: fault 0109, fault 0130, HTTP 503, or a read timeout
(the request is not processed; the handler waits up to ``timeout_sleep`` seconds — past the
client's read timeout — or until the client hangs up, then closes the connection). ``lost_response_rate`` is the "timeout after registering" mode: the
document IS registered, then the answer is lost (the same wait) — the case that makes
exactly-once matter. Tests can force the next answers deterministically with :meth:`FakeSunat.force`
(modes: ``0109``, ``0130`` or any 4-digit fault code, ``internal-error`` (a fault without a code),
``http-503``, ``timeout``, ``drop`` (close the connection without an answer),
``timeout-after-register``, ``drop-after-register``).

HTTP extras for tests: ``GET /_registry`` (JSON: registered documents and receptions per file
name), ``POST /_reset``, ``POST /_force`` (JSON list of modes), ``POST /_credentials``
(``{"username": …, "password": …}``); ``GET …?wsdl`` serves the local WSDL files.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import random
import re
import select
import socket
import threading
import time
import zipfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from ..rules import LIMA, boleta_buyer_refusal
from .signature import SignatureInvalid, signature_check

logger = logging.getLogger("sunat.fake")

SERVICE_NS = "http://service.sunat.gob.pe"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
SAC = "urn:sunat:names:specification:ubl:peru:schema:xsd:SunatAggregateComponents-1"
NS = {"cbc": CBC, "cac": CAC, "sac": SAC}

BILL_NAME_RE = re.compile(r"^(?P<ruc>\d{11})-(?P<type>01|03|07|08)-(?P<series>[A-Z0-9]{4})-(?P<number>\d{1,8})$")
SUMMARY_NAME_RE = re.compile(r"^(?P<ruc>\d{11})-(?P<type>RC|RA)-(?P<series>\d{8})-(?P<number>\d{1,5})$")
CONSULT_TYPES = ("01", "07", "08")

_MESSAGES = {
    "0101": "El encabezado de seguridad es incorrecto",
    "0102": "Usuario o contraseña incorrectos",
    "0103": "El Usuario ingresado no existe",
    "0109": "El sistema no puede responder su solicitud. (El servicio de autenticación no está disponible)",
    "0127": "El ticket no existe",
    "0130": "El sistema no puede responder su solicitud. (No se pudo obtener el ticket de proceso)",
    "0151": "El nombre del archivo ZIP es incorrecto",
    "0152": "No se puede enviar por este método un archivo de resumen",
    "0154": "El RUC del archivo no corresponde al RUC del usuario",
    "0155": "El archivo ZIP esta vacio",
    "0156": "El archivo ZIP esta corrupto",
    "0157": "El archivo ZIP no contiene comprobantes",
    "0158": "El archivo ZIP contiene demasiados comprobantes para este tipo de envío",
    "0159": "El nombre del archivo XML es incorrecto",
    "0160": "El archivo XML esta vacio",
    "0161": "El nombre del archivo XML no coincide con el nombre del archivo ZIP",
    "0305": "El sistema no puede procesar el archivo xml",
    "0306": "No se puede leer (parsear) el archivo XML",
    "0402": "La numeracion o nombre del documento ya ha sido enviado anteriormente",
    "1003": "El tipo de comprobante del nombre del archivo no coincide con el del contenido",
    "1032": "El comprobante ya esta informado y se encuentra con estado anulado o rechazado",
    "1033": "El comprobante fue registrado previamente con otros datos",
    "1034": "Número de RUC del nombre del archivo no coincide con el consignado en el contenido del archivo XML",
    "1035": "Numero de Serie del nombre del archivo no coincide con el consignado en el contenido del archivo XML",
    "1036": "Número de documento en el nombre del archivo no coincide con el consignado en el contenido del XML",
    "2335": "El documento electrónico ingresado ha sido alterado",
}
_TYPE_NAMES = {
    "01": "Factura",
    "03": "Boleta",
    "07": "Nota de Credito",
    "08": "Nota de Debito",
    "RC": "Resumen diario",
    "RA": "Comunicacion de baja",
}
RANDOM_FAULTS = ("0109", "0130", "http-503", "timeout")

# SUNAT's server-side rules on what a note or a void names, by the named document's state:
# "missing" (SUNAT does not hold it), "rejected" (registered as rejected), "voided" (annulled by
# an accepted RA or RC line). Each is a CDR rejection of the note or of the summary's ticket.
NOTE_RULES = {
    "07": {"missing": "2119", "voided": "2120", "rejected": "2121"},
    "08": {"missing": "2209", "voided": "2207", "rejected": "2208"},
}
RA_RULES = {"missing": "2105", "voided": "2106", "rejected": "2398"}
# RC ConditionCode 3 (anular): 2663 "El documento indicado no existe no puede ser modificado"
# is what SUNAT answers for a boleta it was never told about (thegreenter/demo#72); 2987 "El
# comprobante ya fue informado y se encuentra anulado o rechazado" for one already voided or
# rejected.
RC_VOID_RULES = {"missing": "2663", "voided": "2987", "rejected": "2987"}
BOLETA_IN_RA = "2308"  # "DocumentTypeCode - El valor del tipo de documento es invalido"
BOLETA_BUYER_MISSING = "2396"  # above the anonymous limit a boleta names its buyer's document


class Fault(Exception):
    def __init__(self, code: str, message: str = "", *, client: bool = True):
        super().__init__(code)
        self.code = code
        self.message = message or _MESSAGES.get(code, "Error")
        self.client = client


class _Drop(Exception):
    """Close the connection without answering."""


@dataclass
class Registered:
    name: str
    ruc: str
    document_type: str
    series: str
    number: int
    code: str
    description: str
    notes: list[str]
    cdr_zip: bytes
    digest: str
    registered_at: str

    @property
    def accepted(self) -> bool:
        return self.code == "0" or int(self.code) >= 4000

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "ruc": self.ruc,
            "type": self.document_type,
            "series": self.series,
            "number": self.number,
            "code": self.code,
            "description": self.description,
            "notes": self.notes,
            "digest": self.digest,
            "registered_at": self.registered_at,
        }


@dataclass
class Ticket:
    name: str
    polls_left: int
    registered: Registered


@dataclass
class FakeSunatConfig:
    latency_ms: int = 0
    fault_rate: float = 0.0
    lost_response_rate: float = 0.0
    seed: int | None = None
    timeout_sleep: float = 35.0  # past the client's default 30 s read timeout
    ticket_polls: int = 1  # getStatus answers 98 this many times before 0/99
    validate_sfs: bool = True  # run SUNAT's SFS stylesheet when saxonche is available
    credentials: dict[str, str] = field(default_factory=dict)


def _now_lima() -> datetime:
    return datetime.now(LIMA)


def cdr_build(*, name: str, ruc: str, reference: str, code: str, description: str, notes: list[str]) -> bytes:
    """``R-{name}.zip`` bytes holding an unsigned ApplicationResponse ``R-{name}.xml``."""
    now = _now_lima()
    notes_xml = "".join(f"<cbc:Note>{escape(n)}</cbc:Note>" for n in notes)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ar:ApplicationResponse xmlns:ar="urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2" '
        f'xmlns:cac="{CAC}" xmlns:cbc="{CBC}" '
        'xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2">'
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent/></ext:UBLExtension></ext:UBLExtensions>"
        "<cbc:UBLVersionID>2.0</cbc:UBLVersionID><cbc:CustomizationID>1.0</cbc:CustomizationID>"
        f"<cbc:ID>{int(now.timestamp() * 1000)}</cbc:ID>"
        f"<cbc:IssueDate>{now:%Y-%m-%d}</cbc:IssueDate><cbc:IssueTime>{now:%H:%M:%S}</cbc:IssueTime>"
        f"<cbc:ResponseDate>{now:%Y-%m-%d}</cbc:ResponseDate><cbc:ResponseTime>{now:%H:%M:%S}</cbc:ResponseTime>"
        f"{notes_xml}"
        "<cac:SenderParty><cac:PartyIdentification><cbc:ID>20131312955</cbc:ID></cac:PartyIdentification></cac:SenderParty>"
        f"<cac:ReceiverParty><cac:PartyIdentification><cbc:ID>{ruc}</cbc:ID></cac:PartyIdentification></cac:ReceiverParty>"
        "<cac:DocumentResponse><cac:Response>"
        f"<cbc:ReferenceID>{escape(reference)}</cbc:ReferenceID>"
        f"<cbc:ResponseCode>{code}</cbc:ResponseCode>"
        f"<cbc:Description>{escape(description)}</cbc:Description>"
        "</cac:Response>"
        f"<cac:DocumentReference><cbc:ID>{escape(reference)}</cbc:ID></cac:DocumentReference>"
        "</cac:DocumentResponse></ar:ApplicationResponse>"
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"R-{name}.xml", xml)
    return buffer.getvalue()


class FakeSunat:
    """The double's state and SUNAT logic (transport-free; :class:`FakeSunatServer` serves it)."""

    def __init__(self, config: FakeSunatConfig | None = None):
        self.config = config or FakeSunatConfig()
        self._lock = threading.Lock()
        self._random = random.Random(self.config.seed)
        self._validator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fake-sunat-sfs")
        self.reset()

    # -- state ----------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.registry: dict[str, Registered] = {}
            self.receptions: dict[str, int] = {}
            self.tickets: dict[str, Ticket] = {}
            self.forced: deque[str] = deque()
            self.requests = 0
            self._ticket_seq = 0
            self.voided: dict[str, str] = {}  # document name -> the RA/RC that annulled it
            self.informed: set[str] = set()  # boletas and notes added by an accepted RC (1, 2)

    def force(self, *modes: str) -> None:
        """Make the next SOAP requests (any operation) fail with ``modes``, in order."""
        with self._lock:
            self.forced.extend(modes)

    def hold(self, name: str, *, code: str = "0") -> None:
        """Register ``{RUC}-{TT}-{SERIE}-{NUM}`` as if SUNAT had received it earlier (``code``
        ``"0"`` accepted, 2000–3999 rejected): for tests whose documents name an older one."""
        match = BILL_NAME_RE.match(name)
        if match is None:
            raise ValueError(f"not a document name: {name}")
        self._register(name=name, match=match, code=code, notes=[], digest="", references=[])

    def credentials_add(self, username: str, password: str) -> None:
        with self._lock:
            self.config.credentials[username] = password

    def registry_json(self) -> dict:
        with self._lock:
            return {
                "documents": {name: doc.to_json() for name, doc in self.registry.items()},
                "receptions": dict(self.receptions),
                "tickets": {t: {"name": v.name, "polls_left": v.polls_left} for t, v in self.tickets.items()},
                "requests": self.requests,
                "voided": dict(self.voided),
            }

    def close(self) -> None:
        self._validator.shutdown(wait=False, cancel_futures=True)

    # -- request handling -----------------------------------------------------------------

    def _next_fault_mode(self, operation: str) -> str | None:
        with self._lock:
            self.requests += 1
            if self.forced:
                return self.forced.popleft()
            if self.config.fault_rate and self._random.random() < self.config.fault_rate:
                return self._random.choice(RANDOM_FAULTS)
            if (
                operation in ("sendBill", "sendSummary")
                and self.config.lost_response_rate
                and self._random.random() < self.config.lost_response_rate
            ):
                return "timeout-after-register"
        return None

    def handle(self, body: bytes) -> tuple[int, bytes, str | None]:
        """Answer one SOAP request: (HTTP status, body, post-action).

        The post-action (``timeout`` / ``drop``) is what the transport does after the work:
        sleep past the client's timeout, or close the connection.
        """
        try:
            envelope = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            return 500, _fault_envelope(Fault("0305", "El sistema no puede procesar el mensaje SOAP")), None
        operation_nodes = envelope.xpath("//*[local-name()='Body']/*")
        if not operation_nodes:
            return 500, _fault_envelope(Fault("0305", "Mensaje SOAP sin cuerpo")), None
        operation_node = operation_nodes[0]
        operation = etree.QName(operation_node).localname
        fields = {etree.QName(child).localname: (child.text or "").strip() for child in operation_node}

        mode = self._next_fault_mode(operation)
        post: str | None = None
        if mode is not None:
            if mode == "timeout":
                return 0, b"", "timeout-unprocessed"  # never processed: nothing registered
            elif mode == "drop":
                raise _Drop()
            elif mode == "internal-error":  # a fault without a SUNAT code, as seen during outages
                return 500, _INTERNAL_ERROR_FAULT, None
            elif mode.startswith("http-"):
                return int(mode[5:]), b"<html><body>Service Temporarily Unavailable</body></html>", None
            elif mode.isdigit():
                return 500, _fault_envelope(Fault(mode, client=False)), None
            elif mode in ("timeout-after-register", "drop-after-register"):
                post = mode.split("-")[0]
        try:
            username = self._authenticate(envelope)
            if operation == "sendBill":
                answer = self._send_bill(username, fields)
            elif operation == "sendSummary":
                answer = self._send_summary(username, fields)
            elif operation == "getStatus" and "ticket" in fields:
                answer = self._get_status(fields)
            elif operation == "getStatusCdr":
                answer = self._get_status_cdr(username, fields)
            elif operation == "getStatus":
                answer = self._get_status_consult(username, fields)
            else:
                raise Fault("0305", f"Operación no soportada: {operation}")
        except Fault as fault:
            return 500, _fault_envelope(fault), post
        return 200, _response_envelope(operation, answer), post

    # -- SUNAT logic ----------------------------------------------------------------------

    def _authenticate(self, envelope: etree._Element) -> str:
        username_nodes = envelope.xpath("//*[local-name()='Security']//*[local-name()='Username']")
        password_nodes = envelope.xpath("//*[local-name()='Security']//*[local-name()='Password']")
        if not username_nodes or not password_nodes:
            raise Fault("0101")
        username = (username_nodes[0].text or "").strip()
        password = password_nodes[0].text or ""
        with self._lock:
            known = self.config.credentials.get(username)
        if known is None:
            if re.fullmatch(r"\d{11}MODDATOS", username):
                known = "moddatos"
            else:
                raise Fault("0103")
        if password != known:
            raise Fault("0102")
        return username

    def _unzip(self, name: str, content_b64: str) -> bytes:
        if not content_b64:
            raise Fault("0155")
        try:
            raw = base64.b64decode(content_b64, validate=False)
        except ValueError as exc:
            raise Fault("0156") from exc
        if not raw:
            raise Fault("0155")
        try:
            archive = zipfile.ZipFile(io.BytesIO(raw))
            entries = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, ValueError) as exc:
            raise Fault("0156") from exc
        if not entries:
            raise Fault("0157")
        if len(entries) > 1:
            raise Fault("0158")
        entry = entries[0]
        if not entry.filename.endswith(".xml") or "/" in entry.filename:
            raise Fault("0159")
        if entry.filename[:-4] != name:
            raise Fault("0161")
        try:
            xml = archive.read(entry)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise Fault("0156") from exc
        if not xml.strip():
            raise Fault("0160")
        return xml

    def _check_document(self, name: str, match: re.Match, xml: bytes) -> tuple[str, list[str], str, list]:
        """XSD, name vs content, signature, SFS rules. Returns (code, notes, digest, references):
        ``references`` are the documents a note or a summary names (see :meth:`_references`),
        checked against the registry by :meth:`_register`.

        Raises :class:`Fault` for faults; returns a 2000–3999 code for a CDR rejection.
        """
        from sunat import validation

        try:
            errors = validation.validate_xsd(xml)
        except validation.SchemasNotFound:
            errors = []  # without SUNAT's schemas the double cannot check the XSD
        if errors:
            raise Fault("0306", f"No se puede leer (parsear) el archivo XML: {errors[0]}")
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
        document_type = match.group("type")
        if document_type in ("RC", "RA"):
            ruc = root.findtext("cac:AccountingSupplierParty/cbc:CustomerAssignedAccountID", namespaces=NS) or ""
            content_id = (root.findtext("cbc:ID", namespaces=NS) or "").strip()
            expected_id = f"{document_type}-{match.group('series')}-{match.group('number')}"
            if ruc.strip() != match.group("ruc"):
                raise Fault("1034")
            if content_id.split("-")[:2] != expected_id.split("-")[:2]:
                raise Fault("1035")
            if content_id != expected_id:
                raise Fault("1036")
        else:
            ruc = (
                root.findtext("cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID", namespaces=NS)
                or ""
            )
            content_id = (root.findtext("cbc:ID", namespaces=NS) or "").strip()
            series, _, number = content_id.partition("-")
            local = etree.QName(root).localname
            content_type = {"CreditNote": "07", "DebitNote": "08"}.get(local) or (
                root.findtext("cbc:InvoiceTypeCode", namespaces=NS) or ""
            ).strip()
            if ruc.strip() != match.group("ruc"):
                raise Fault("1034")
            if content_type != document_type:
                raise Fault("1003")
            if series != match.group("series"):
                raise Fault("1035")
            if number != match.group("number"):
                raise Fault("1036")
        try:
            digest, _subject = signature_check(xml)
        except SignatureInvalid as exc:
            raise Fault("2335", f"{_MESSAGES['2335']} ({exc})") from exc

        with self._lock:
            self._duplicate_check(name, document_type=document_type)

        notes: list[str] = []
        if self.config.validate_sfs and validation.sfs_available():
            result = self._validator.submit(validation.validate_sfs, xml, file_name=f"{name}.xml").result()
            if result.error is not None:
                code = result.error.code
                if code.isdigit() and 2000 <= int(code) <= 3999:
                    return code, [], digest, []
                raise Fault(code if code.isdigit() and code != "0000" else "0306", result.error.message)
            notes = [f"{o.code} - {o.message}" for o in result.observations]
        if self._anonymous_boleta_over_limit(root, document_type=document_type, series=match.group("series")):
            return BOLETA_BUYER_MISSING, [], digest, []
        return "0", notes, digest, self._references(root, document_type=document_type, ruc=match.group("ruc"))

    @staticmethod
    def _anonymous_boleta_over_limit(root: etree._Element, *, document_type: str, series: str) -> bool:
        """SUNAT's server-side 2396 (in neither SFS boleta stylesheet): a boleta, or a B-series
        note, whose PayableAmount is above ``sunat.rules``' limit and whose buyer is not
        identified (schemeID ``0`` or ID ``-``) — :func:`sunat.rules.boleta_buyer_refusal`."""
        if not (document_type == "03" or (document_type in NOTE_RULES and series.startswith("B"))):
            return False
        total = root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) or root.findtext(
            "cac:RequestedMonetaryTotal/cbc:PayableAmount", namespaces=NS
        )
        try:
            payable = Decimal((total or "0").strip())
        except InvalidOperation:
            return False  # not a number: the XSD and SFS answer for that
        buyer = root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID", NS)
        doc_type = "" if buyer is None else buyer.get("schemeID", "")
        doc_number = "" if buyer is None else (buyer.text or "")
        return boleta_buyer_refusal(total=payable, doc_type=doc_type, doc_number=doc_number) is not None

    @staticmethod
    def _references(root: etree._Element, *, document_type: str, ruc: str) -> list[tuple[str, str, str]]:
        """``(type, name, condition)`` of every document a note modifies or a summary reports:
        a note's BillingReference (condition ""), an RA's lines ("3"), an RC's lines (their
        ConditionCode)."""

        def name(doc_type: str, series: str, number: str) -> str:
            return f"{ruc}-{doc_type}-{series}-{int(number) if number.isdigit() else number}"

        if document_type in NOTE_RULES:
            reference = root.find("cac:BillingReference/cac:InvoiceDocumentReference", NS)
            if reference is None:
                return []
            ref_type = (reference.findtext("cbc:DocumentTypeCode", namespaces=NS) or "").strip()
            series, _, number = (reference.findtext("cbc:ID", namespaces=NS) or "").strip().partition("-")
            return [(ref_type, name(ref_type, series, number), "")]
        if document_type == "RA":
            return [
                (
                    doc_type := (line.findtext("cbc:DocumentTypeCode", namespaces=NS) or "").strip(),
                    name(
                        doc_type,
                        (line.findtext("sac:DocumentSerialID", namespaces=NS) or "").strip(),
                        (line.findtext("sac:DocumentNumberID", namespaces=NS) or "").strip(),
                    ),
                    "3",
                )
                for line in root.findall("sac:VoidedDocumentsLine", NS)
            ]
        if document_type == "RC":
            references = []
            for line in root.findall("sac:SummaryDocumentsLine", NS):
                doc_type = (line.findtext("cbc:DocumentTypeCode", namespaces=NS) or "").strip()
                series, _, number = (line.findtext("cbc:ID", namespaces=NS) or "").strip().partition("-")
                condition = (line.findtext("cac:Status/cbc:ConditionCode", namespaces=NS) or "").strip()
                references.append((doc_type, name(doc_type, series, number), condition))
            return references
        return []

    def _duplicate_check(self, name: str, *, document_type: str) -> None:
        """Raise SUNAT's fault for a ``name`` it already holds: a summary 0402; a document held as
        rejected or voided 1032 (the number is dead), else 1033. The caller holds the lock."""
        if name not in self.registry:
            return
        if document_type in ("RC", "RA"):
            raise Fault("0402")
        raise Fault("1032" if self._state(name) in ("rejected", "voided") else "1033")

    def _state(self, name: str) -> str:
        """``held``, ``rejected``, ``voided`` or ``missing``. The caller holds the lock."""
        if name in self.voided:
            return "voided"
        registered = self.registry.get(name)
        if registered is not None:
            return "held" if registered.accepted else "rejected"
        return "held" if name in self.informed else "missing"

    def _server_rules(self, *, document_type: str, references: list[tuple[str, str, str]]) -> str | None:
        """The rejection code SUNAT's server-side checks give (the first failing reference), or
        None. The caller holds the lock, so the check and the registration are one step."""
        for ref_type, ref_name, condition in references:
            state = self._state(ref_name)
            if document_type in NOTE_RULES:
                if state != "held":
                    return NOTE_RULES[document_type][state]
            elif document_type == "RA":
                if ref_type == "03":
                    return BOLETA_IN_RA
                if state != "held":
                    return RA_RULES[state]
            elif document_type == "RC" and condition == "3" and state != "held":
                return RC_VOID_RULES[state]
        return None

    def _apply_summary(self, *, name: str, document_type: str, references: list[tuple[str, str, str]]) -> None:
        """An accepted RA or RC takes effect: its ConditionCode 3 lines are voided, its other RC
        lines informed. The caller holds the lock."""
        for _ref_type, ref_name, condition in references:
            if condition == "3":
                self.voided[ref_name] = name
            elif document_type == "RC":
                self.informed.add(ref_name)

    def _register(
        self, *, name: str, match: re.Match, code: str, notes: list[str], digest: str, references: list
    ) -> Registered:
        """Register ``name`` once. Under the lock, with the duplicate check: SUNAT's rules on the
        documents it names (:meth:`_server_rules`) and, for an accepted summary, their effect."""
        document_type = match.group("type")
        registered = self._registered(name=name, match=match, code=code, notes=notes, digest=digest)
        with self._lock:
            self._duplicate_check(name, document_type=document_type)  # a concurrent duplicate won the race
            rejection = self._server_rules(document_type=document_type, references=references) if code == "0" else None
            if rejection is not None:
                registered = self._registered(name=name, match=match, code=rejection, notes=[], digest=digest)
            elif registered.accepted and document_type in ("RC", "RA"):
                self._apply_summary(name=name, document_type=document_type, references=references)
            self.registry[name] = registered
        return registered

    @staticmethod
    def _registered(*, name: str, match: re.Match, code: str, notes: list[str], digest: str) -> Registered:
        """The record and CDR zip of ``name`` answered with ``code``."""
        document_type = match.group("type")
        if document_type in ("RC", "RA"):
            reference = f"{document_type}-{match.group('series')}-{match.group('number')}"
        else:
            reference = f"{match.group('series')}-{match.group('number')}"
        label = _TYPE_NAMES[document_type]
        if code == "0":
            description = f"La {label} numero {reference}, ha sido aceptada"
        else:
            from sunat.codes import code_message

            description = code_message(code) or f"La {label} numero {reference}, ha sido rechazada"
        return Registered(
            name=name,
            ruc=match.group("ruc"),
            document_type=document_type,
            series=match.group("series"),
            number=int(match.group("number")),
            code=code,
            description=description,
            notes=notes,
            cdr_zip=cdr_build(
                name=name, ruc=match.group("ruc"), reference=reference, code=code, description=description, notes=notes
            ),
            digest=digest,
            registered_at=_now_lima().isoformat(),
        )

    def _receive(self, username: str, fields: dict[str, str], *, summary: bool) -> tuple[str, re.Match, bytes]:
        file_name = fields.get("fileName", "")
        if not file_name.endswith(".zip"):
            raise Fault("0151")
        name = file_name[:-4]
        bill = BILL_NAME_RE.match(name)
        summary_match = SUMMARY_NAME_RE.match(name)
        if summary and not summary_match:
            raise Fault("0151")
        if not summary and not bill:
            raise Fault("0152" if summary_match else "0151")
        match = summary_match if summary else bill
        if username[:11] != match.group("ruc"):
            raise Fault("0154")
        with self._lock:
            self.receptions[name] = self.receptions.get(name, 0) + 1
        return name, match, self._unzip(name, fields.get("contentFile", ""))

    def _send_bill(self, username: str, fields: dict[str, str]) -> list[tuple[str, str]]:
        name, match, xml = self._receive(username, fields, summary=False)
        code, notes, digest, references = self._check_document(name, match, xml)
        registered = self._register(
            name=name, match=match, code=code, notes=notes, digest=digest, references=references
        )
        return [("applicationResponse", base64.b64encode(registered.cdr_zip).decode("ascii"))]

    def _send_summary(self, username: str, fields: dict[str, str]) -> list[tuple[str, str]]:
        name, match, xml = self._receive(username, fields, summary=True)
        code, notes, digest, references = self._check_document(name, match, xml)
        registered = self._register(
            name=name, match=match, code=code, notes=notes, digest=digest, references=references
        )
        with self._lock:
            self._ticket_seq += 1
            ticket = f"{int(time.time() * 1000)}{self._ticket_seq:04d}"
            self.tickets[ticket] = Ticket(name=name, polls_left=self.config.ticket_polls, registered=registered)
        return [("ticket", ticket)]

    def _get_status(self, fields: dict[str, str]) -> list[tuple[str, str]]:
        with self._lock:
            ticket = self.tickets.get(fields.get("ticket", ""))
            if ticket is None:
                raise Fault("0127")
            if ticket.polls_left > 0:
                ticket.polls_left -= 1
                return [("status", [("statusCode", "98")])]
            registered = ticket.registered
        status = "0" if registered.accepted else "99"
        return [("status", [("content", base64.b64encode(registered.cdr_zip).decode("ascii")), ("statusCode", status)])]

    def _consult_key(self, username: str, fields: dict[str, str]) -> tuple[str, str]:
        ruc = fields.get("rucComprobante", "")
        document_type = fields.get("tipoComprobante", "")
        if username[:11] != ruc:
            raise Fault("0154")
        name = f"{ruc}-{document_type}-{fields.get('serieComprobante', '')}-{int(fields.get('numeroComprobante') or 0)}"
        return document_type, name

    def _get_status_cdr(self, username: str, fields: dict[str, str]) -> list[tuple[str, str]]:
        document_type, name = self._consult_key(username, fields)
        if document_type not in CONSULT_TYPES:
            return [
                (
                    "statusCdr",
                    [("statusCode", "0005"), ("statusMessage", "Código de comprobante no permitido o no valido")],
                )
            ]
        with self._lock:
            registered = self.registry.get(name)
        if registered is None:
            return [("statusCdr", [("statusCode", "0011"), ("statusMessage", "Comprobante no encontrado o no existe")])]
        return [
            (
                "statusCdr",
                [
                    ("content", base64.b64encode(registered.cdr_zip).decode("ascii")),
                    ("statusCode", "0004"),
                    ("statusMessage", "La constancia existe"),
                ],
            )
        ]

    def _get_status_consult(self, username: str, fields: dict[str, str]) -> list[tuple[str, str]]:
        document_type, name = self._consult_key(username, fields)
        with self._lock:
            registered = self.registry.get(name)
        if document_type not in CONSULT_TYPES:
            return [
                (
                    "status",
                    [("statusCode", "0005"), ("statusMessage", "Código de comprobante no permitido o no valido")],
                )
            ]
        if registered is None:
            return [("status", [("statusCode", "0011"), ("statusMessage", "Comprobante no encontrado o no existe")])]
        code, message = (
            ("0001", "El comprobante existe y está aceptado.")
            if registered.accepted
            else (
                "0002",
                "El comprobante existe pero está rechazado.",
            )
        )
        return [("status", [("statusCode", code), ("statusMessage", message)])]


def _xml_fields(fields) -> str:
    out = []
    for name, value in fields:
        inner = _xml_fields(value) if isinstance(value, list) else escape(value)
        out.append(f"<{name}>{inner}</{name}>")
    return "".join(out)


def _response_envelope(operation: str, fields) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soap-env:Header/><soap-env:Body>"
        f'<br:{operation}Response xmlns:br="{SERVICE_NS}">{_xml_fields(fields)}</br:{operation}Response>'
        "</soap-env:Body></soap-env:Envelope>"
    ).encode()


def _fault_envelope(fault: Fault) -> bytes:
    side = "Client" if fault.client else "Server"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soap-env:Header/><soap-env:Body><soap-env:Fault>"
        f"<faultcode>soap-env:{side}.{fault.code}</faultcode>"
        f"<faultstring>{escape(fault.message)}</faultstring>"
        "</soap-env:Fault></soap-env:Body></soap-env:Envelope>"
    ).encode()


_INTERNAL_ERROR_FAULT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>'
    b"<soap-env:Fault><faultcode>env:Client</faultcode><faultstring>Internal Error</faultstring></soap-env:Fault>"
    b"</soap-env:Body></soap-env:Envelope>"
)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSUNAT/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeSunat:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:  # signature from the base class
        logger.debug("fake_sunat %s - %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _sleep_until_client_leaves(self, seconds: float) -> None:
        """Sleep up to ``seconds``, returning early once the client closed the connection (its
        read timeout fired), so simulated timeouts cost the client's timeout, not ours."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.05))
            if not readable:
                continue
            try:
                if not self.connection.recv(1, socket.MSG_PEEK):
                    return  # EOF: the client gave up
            except OSError:
                return
            time.sleep(min(remaining, 0.05))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self.path.startswith("/_registry"):
            self._send(200, json.dumps(self.fake.registry_json()).encode(), "application/json")
            return
        if self.path.lower().endswith("?wsdl"):
            from django.conf import settings

            service = "billConsultService" if "billConsultService" in self.path else "billService"
            path = Path(settings.SUNAT_SCHEMA_DIR or "") / "wsdl" / f"{service}.wsdl"
            if path.is_file():
                self._send(200, path.read_bytes())
                return
        self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        body = self._read_body()
        if self.path.startswith("/_reset"):
            self.fake.reset()
            self._send(200, b"{}", "application/json")
            return
        if self.path.startswith("/_force"):
            self.fake.force(*json.loads(body or b"[]"))
            self._send(200, b"{}", "application/json")
            return
        if self.path.startswith("/_credentials"):
            data = json.loads(body or b"{}")
            self.fake.credentials_add(data["username"], data["password"])
            self._send(200, b"{}", "application/json")
            return
        latency = self.fake.config.latency_ms
        if latency:
            time.sleep(latency / 1000)
        try:
            status, answer, post = self.fake.handle(body)
        except _Drop:
            self.close_connection = True
            return
        except Exception:  # a bug in the double must not look like a SUNAT answer
            logger.exception("fake_sunat: error interno")
            self._send(500, b"internal error", "text/plain")
            return
        if post == "timeout-unprocessed":
            self._sleep_until_client_leaves(self.fake.config.timeout_sleep)
            self.close_connection = True
            return
        if post == "timeout":
            self._sleep_until_client_leaves(self.fake.config.timeout_sleep)
        elif post == "drop":
            self.close_connection = True
            return
        try:
            self._send(status, answer)
        except (BrokenPipeError, ConnectionResetError):
            pass


class FakeSunatServer:
    """The double on a real socket. ``port=0`` picks a free port (tests)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, config: FakeSunatConfig | None = None):
        self.fake = FakeSunat(config)
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self.fake  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    def __str__(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def bill_url(self) -> str:
        return f"{self.url}/ol-ti-itcpfegem/billService"

    @property
    def consult_url(self) -> str:
        return f"{self.url}/ol-it-wsconscpegem/billConsultService"

    def start(self) -> FakeSunatServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fake-sunat", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.fake.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

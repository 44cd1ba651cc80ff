"""Reading SUNAT's answers: CDR zips (ApplicationResponse) and SOAP faults.

Namespace-aware on purpose: SUNAT's CDRs use prefixes (``ar:``, ``cbc:``) while OSE CDRs use
default namespaces. Beta zips may start with a ``dummy/`` folder and carry extra files, so the
CDR is the first ``*.xml`` entry, not entry 0 (SUNAT.md §1.3, §4.4). CDRs are not
schema-validated (beta CDRs carry placeholder signatures).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from lxml import etree

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = {"cbc": CBC, "cac": CAC}


class CdrError(ValueError):
    """The bytes are not a readable CDR (bad zip, no XML entry, no ResponseCode)."""


@dataclass(frozen=True)
class Observation:
    code: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True)
class Cdr:
    response_code: str  # "0", "2800", "4252"…
    description: str
    reference_id: str  # DocumentResponse/Response/ReferenceID (e.g. "F001-1")
    document_id: str  # DocumentResponse/DocumentReference/ID
    notes: tuple[str, ...] = ()  # root cbc:Note texts, as written by SUNAT
    observations: tuple[Observation, ...] = ()
    entry_name: str = ""
    xml: bytes = field(default=b"", repr=False)


_NOTE_RE = re.compile(r"^\s*(\d{4})\s*-\s*(.*)$", re.S)


def _note_observation(note: str) -> Observation:
    match = _NOTE_RE.match(note)
    if match:
        return Observation(code=match.group(1), text=match.group(2).strip())
    return Observation(code="", text=note.strip())


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def cdr_xml_parse(xml: bytes, *, entry_name: str = "") -> Cdr:
    """Parse an ApplicationResponse XML (namespace-aware)."""
    try:
        root = etree.fromstring(xml, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise CdrError(f"CDR XML ilegible: {exc}") from exc

    def first(path: str) -> str:
        found = root.xpath(path, namespaces=NS)
        return (found[0].text or "").strip() if found else ""

    code = first("cac:DocumentResponse/cac:Response/cbc:ResponseCode")
    if not code:
        raise CdrError("El CDR no tiene ResponseCode")
    notes = tuple((n.text or "").strip() for n in root.xpath("cbc:Note", namespaces=NS) if (n.text or "").strip())
    return Cdr(
        response_code=code,
        description=first("cac:DocumentResponse/cac:Response/cbc:Description"),
        reference_id=first("cac:DocumentResponse/cac:Response/cbc:ReferenceID"),
        document_id=first("cac:DocumentResponse/cac:DocumentReference/cbc:ID"),
        notes=notes,
        observations=tuple(_note_observation(n) for n in notes),
        entry_name=entry_name,
        xml=xml,
    )


def cdr_parse(zip_bytes: bytes) -> Cdr:
    """Parse a CDR zip: the first entry whose name ends in ``.xml`` (any case), skipping folders."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise CdrError("El CDR no es un zip válido") from exc
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.lower().endswith(".xml"):
                continue
            return cdr_xml_parse(archive.read(info), entry_name=info.filename)
    raise CdrError("El zip del CDR no contiene ningún XML")


@dataclass(frozen=True)
class Fault:
    code: str  # normalized SUNAT code ("0306") or "" when none could be read
    faultcode: str
    faultstring: str
    detail: str = ""

    @property
    def message(self) -> str:
        return self.faultstring


_DIGITS_AT_END = re.compile(r"(\d+)\s*$")


def fault_code(faultcode: str, faultstring: str) -> str:
    """SUNAT's code: digits at the end of ``faultcode`` (``soap-env:Client.0306`` → ``0306``), else
    a ``faultstring`` that is only digits (``<faultstring>0306</faultstring>``), else ``""``."""
    match = _DIGITS_AT_END.search(faultcode or "")
    if match:
        return f"{int(match.group(1)):04d}"
    text = (faultstring or "").strip()
    if text.isdigit():
        return f"{int(text):04d}"
    return ""


def fault_parse(envelope: bytes) -> Fault | None:
    """The SOAP 1.1 Fault in ``envelope``, or ``None`` when it holds none (or is not XML)."""
    try:
        root = etree.fromstring(envelope, _safe_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    found = root.xpath("//*[local-name()='Fault']")
    if not found:
        return None
    node = found[0]

    def child(name: str) -> str:
        hits = node.xpath(f"*[local-name()='{name}']")
        return "".join(hits[0].itertext()).strip() if hits else ""

    faultcode = child("faultcode")
    faultstring = child("faultstring")
    return Fault(
        code=fault_code(faultcode, faultstring),
        faultcode=faultcode,
        faultstring=faultstring,
        detail=child("detail"),
    )

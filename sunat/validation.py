"""Local validation of SUNAT documents with SUNAT's own files (SUNAT.md §7).

Public functions (used by tests and by ``fake_sunat``):

* ``schema_dir() -> Path`` — ``settings.SUNAT_SCHEMA_DIR``; raises :class:`SchemasNotFound`
  ("SUNAT schemas not found at …") when the directory or its ``xsd/`` folder is missing.
* ``validate_xsd(xml: bytes) -> list[str]`` — validates against the maindoc XSD chosen by the root
  element (Invoice, CreditNote, DebitNote → UBL 2.1; SummaryDocuments, VoidedDocuments → SUNAT
  UBL 2.0). Returns the schema errors (empty list = valid). Unparseable XML or an unknown root is
  reported as an error too, never raised.
* ``validate_sfs(xml: bytes, *, file_name: str) -> SfsResult`` — runs SUNAT's Facturador SFS rule
  stylesheet for the document type (factura/boleta/NC/ND/RC/RA) with saxonche. ``file_name`` is
  the XML file name (``{RUC}-{TT}-{SERIE}-{NUM}.xml``) that the rules compare with the content
  (1034–1036). ``SfsResult.error`` is the first rejection (code + message) or ``None``;
  ``SfsResult.observations`` the non-fatal 4xxx warnings.
* ``sfs_available() -> bool`` — saxonche importable and the SFS folder present.

Compiled schemas and stylesheets are cached per process. SaxonC crashes when driven from several
threads at once, so every SFS run in a process is serialized by one lock (about 20–300 ms each).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from django.conf import settings
from lxml import etree

__all__ = [
    "SchemasNotFound",
    "SfsMessage",
    "SfsResult",
    "document_kind",
    "schema_dir",
    "sfs_available",
    "validate_sfs",
    "validate_xsd",
]


class SchemasNotFound(RuntimeError):
    """SUNAT_SCHEMA_DIR is not set or does not hold SUNAT's files."""


_ROOTS = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": ("Invoice", "xsd/2.1/maindoc/UBL-Invoice-2.1.xsd"),
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": (
        "CreditNote",
        "xsd/2.1/maindoc/UBL-CreditNote-2.1.xsd",
    ),
    "urn:oasis:names:specification:ubl:schema:xsd:DebitNote-2": ("DebitNote", "xsd/2.1/maindoc/UBL-DebitNote-2.1.xsd"),
    "urn:sunat:names:specification:ubl:peru:schema:xsd:SummaryDocuments-1": (
        "SummaryDocuments",
        "xsd/2.0/maindoc/UBLPE-SummaryDocuments-1.0.xsd",
    ),
    "urn:sunat:names:specification:ubl:peru:schema:xsd:VoidedDocuments-1": (
        "VoidedDocuments",
        "xsd/2.0/maindoc/UBLPE-VoidedDocuments-1.0.xsd",
    ),
}

_SFS_BASE = "sfs"  # the SFS install dir: stylesheets include 'sunat_archivos/sfs/VALI/…' relative to it
_VALI = "sfs/sunat_archivos/sfs/VALI/commons/xsl"
_SFS_XSL = {
    "01": f"{_VALI}/ValidaExprRegFactura-2.0.1.xsl",
    "03": f"{_VALI}/ValidaExprRegBoleta-2.0.1.xsl",
    "07": f"{_VALI}/ValidaExprRegNC-2.0.1.xsl",
    "08": f"{_VALI}/ValidaExprRegND-2.0.1.xsl",
    "RC": f"{_VALI}/validation/1.X/ValidaExprRegSummary-1.1.0.xsl",
    "RA": f"{_VALI}/validation/1.X/ValidaExprRegSummaryVoided-1.0.1.xsl",
}

_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def schema_dir() -> Path:
    """The directory with SUNAT's schemas and rule files, or :class:`SchemasNotFound`."""
    raw = getattr(settings, "SUNAT_SCHEMA_DIR", "") or ""
    path = Path(raw) if raw else None
    if path is None or not (path / "xsd").is_dir():
        raise SchemasNotFound(f"SUNAT schemas not found at {raw or '(SUNAT_SCHEMA_DIR is empty)'}")
    return path.resolve()


# --------------------------------------------------------------------------------------- XSD


_schema_lock = threading.RLock()


@cache
def _schema(path: str) -> etree.XMLSchema:
    with _schema_lock:
        return etree.XMLSchema(etree.parse(path))


def _parse(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(xml, parser)


def document_kind(xml: bytes) -> str:
    """``01``/``03``/``07``/``08``/``RC``/``RA`` from the document's root (and InvoiceTypeCode)."""
    root = _parse(xml)
    qname = etree.QName(root)
    if qname.namespace not in _ROOTS:
        raise ValueError(f"raíz de documento desconocida: {root.tag}")
    local = _ROOTS[qname.namespace][0]
    if local == "Invoice":
        code = root.findtext(f"{{{_CBC}}}InvoiceTypeCode")
        return (code or "").strip()
    return {"CreditNote": "07", "DebitNote": "08", "SummaryDocuments": "RC", "VoidedDocuments": "RA"}[local]


def validate_xsd(xml: bytes) -> list[str]:
    """Validate against SUNAT's XSD for the root element. Returns errors; [] when valid.

    Validate *signed* documents: an empty ``ext:ExtensionContent`` is invalid by the schema.
    """
    base = schema_dir()
    try:
        root = _parse(xml)
    except etree.XMLSyntaxError as exc:
        return [f"XML mal formado: {exc}"]
    namespace = etree.QName(root).namespace
    if namespace not in _ROOTS or etree.QName(root).localname != _ROOTS[namespace][0]:
        return [f"raíz de documento desconocida: {root.tag}"]
    schema = _schema(str(base / _ROOTS[namespace][1]))
    with _schema_lock:  # error_log belongs to the schema object: one validation at a time
        if schema.validate(root):
            return []
        return [f"línea {e.line}: {e.message}" for e in schema.error_log]


# --------------------------------------------------------------------------------------- SFS


@dataclass(frozen=True)
class SfsMessage:
    code: str  # 4 digits, e.g. "2800" or "4252"
    message: str  # SUNAT's text for the code (catalog), or the raw message
    detail: str = ""  # the stylesheet's raw message, e.g. 'INFO: errorCode 1034 (nodo: "…" valor: "…")'

    def __str__(self) -> str:
        return f"{self.code} - {self.message}"


@dataclass(frozen=True)
class SfsResult:
    error: SfsMessage | None = None
    observations: tuple[SfsMessage, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def clean(self) -> bool:
        """No error and no observation."""
        return self.error is None and not self.observations


def sfs_available() -> bool:
    try:
        import saxonche  # noqa: F401 - only whether it imports
    except ImportError:
        return False
    try:
        return (schema_dir() / _SFS_XSL["01"]).is_file()
    except SchemasNotFound:
        return False


# SaxonC (GraalVM native image) is not safe to drive from several Python threads at once: one
# processor per process, every compile/transform under this lock.
_saxon_lock = threading.RLock()
_saxon: dict = {}


def _processor():
    from saxonche import PySaxonProcessor

    with _saxon_lock:
        if "proc" not in _saxon:
            _saxon["proc"] = PySaxonProcessor(license=False)
            _saxon["executables"] = {}
        return _saxon["proc"]


def _executable(kind: str):
    with _saxon_lock:
        proc = _processor()
        executables = _saxon["executables"]
        if kind not in executables:
            base = schema_dir()
            xsl_path = base / _SFS_XSL[kind]
            compiler = proc.new_xslt30_processor()
            if kind == "01":
                # The factura stylesheet includes '../error/validate_utils.xsl' relative to itself.
                executables[kind] = compiler.compile_stylesheet(stylesheet_file=str(xsl_path))
            else:
                # The others include 'sunat_archivos/sfs/VALI/commons/error/…' relative to the SFS dir.
                compiler.set_cwd(str(base / _SFS_BASE))
                executables[kind] = compiler.compile_stylesheet(stylesheet_text=xsl_path.read_text(encoding="utf-8"))
        return executables[kind]


_CODE_RE = re.compile(r"errorCode\s+(\d{4})")
_LEADING_CODE_RE = re.compile(r"^\s*(\d{4})")


@lru_cache(maxsize=1)
def _error_catalog() -> dict[str, str]:
    path = schema_dir() / "errors" / "sfs-CatalogoErrores.xml"
    if not path.is_file():
        return {}
    tree = etree.parse(str(path))
    return {e.get("numero"): (e.text or "").strip() for e in tree.iter("error") if e.get("numero")}


def _message(raw: str) -> SfsMessage | None:
    match = _CODE_RE.search(raw) or _LEADING_CODE_RE.search(raw)
    if not match:
        return None
    code = match.group(1)
    detail = " ".join(raw.split())
    text = _error_catalog().get(code) or detail
    return SfsMessage(code=code, message=text, detail=detail)


def validate_sfs(xml: bytes, *, file_name: str) -> SfsResult:
    """Run SUNAT's SFS rule stylesheet for the document type on ``xml``.

    ``file_name`` is the XML file name as sent (``20123456789-01-F001-1.xml``). Returns the
    rejection (first terminating message) and the observations (non-terminating messages).
    Raises :class:`SchemasNotFound` when the SFS files are missing and ``RuntimeError`` when
    saxonche is not installed.
    """
    try:
        from saxonche import PySaxonApiError
    except ImportError as exc:  # pragma: no cover - saxonche is in requirements
        raise RuntimeError("saxonche no está instalado: no se pueden ejecutar las reglas SFS de SUNAT") from exc
    try:
        kind = document_kind(xml)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return SfsResult(error=SfsMessage(code="0306", message=f"No se puede leer (parsear) el archivo XML: {exc}"))
    if kind not in _SFS_XSL:
        return SfsResult(error=SfsMessage(code="1003", message=f"tipo de documento no soportado: {kind!r}"))
    failed: str | None = None
    with _saxon_lock:
        proc = _processor()
        executable = _executable(kind)
        executable.clear_parameters()
        executable.set_parameter("nombreArchivoEnviado", proc.make_string_value(file_name))
        executable.set_save_xsl_message(True, None)
        try:
            xml_text = xml.decode(_encoding(xml))
        except (UnicodeDecodeError, LookupError) as exc:
            return SfsResult(error=SfsMessage(code="0306", message=f"No se puede leer (parsear) el archivo XML: {exc}"))
        try:
            node = proc.parse_xml(xml_text=xml_text)
            executable.transform_to_string(xdm_node=node)
        except PySaxonApiError as exc:
            failed = str(exc)
        raw_messages = _messages(executable) if failed is None or "xsl:message" in failed else []
    observations: list[SfsMessage] = []
    error: SfsMessage | None = None
    for raw in raw_messages:
        if raw.lstrip().startswith("ERROR"):
            error = error or _message(raw) or SfsMessage(code="0000", message=raw.strip())
            continue
        msg = _message(raw)
        if msg is not None:
            observations.append(msg)
    observations = [o for o in observations if not _known_false_positive(o, xml)]
    if failed is not None and error is None:
        error = _message(failed) or SfsMessage(code="0000", message=failed)
    return SfsResult(error=error, observations=tuple(observations))


_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"


def _known_false_positive(message: SfsMessage, xml: bytes) -> bool:
    """Observations the SFS copy of a rule reports wrongly, re-checked with SUNAT's production rule.

    3249 (Credito without cuotas): the SFS factura stylesheet counts ``cac:PaymentTerms`` *inside*
    the PaymentTerms being checked (always 0), so it flags every Credito; SUNAT's production rule
    (``datapower/ValidaExprRegFactura-2.0.1.xsl``) counts ``$root/cac:PaymentTerms`` with
    ``PaymentMeansID`` starting with ``Cuota``. We apply the production rule.
    """
    if message.code != "3249":
        return False
    root = _parse(xml)
    cuotas = [
        t
        for t in root.findall(f"{{{_CAC}}}PaymentTerms")
        if (t.findtext(f"{{{_CBC}}}ID") or "") == "FormaPago"
        and (t.findtext(f"{{{_CBC}}}PaymentMeansID") or "").startswith("Cuota")
    ]
    return bool(cuotas)


def _messages(executable) -> list[str]:
    values = executable.get_xsl_messages()
    if values is None:
        return []
    out = []
    for i in range(values.size):
        item = values.item_at(i)
        out.append(item.string_value if hasattr(item, "string_value") else str(item))
    return out


_DECL_RE = re.compile(rb"""^<\?xml[^>]*encoding=["']([A-Za-z0-9_\-]+)["']""")


def _encoding(xml: bytes) -> str:
    match = _DECL_RE.match(xml.lstrip()[:200])
    return match.group(1).decode("ascii") if match else "utf-8"

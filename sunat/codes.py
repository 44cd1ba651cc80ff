"""SUNAT return codes: their messages and the one function that says what each answer means.

``response_classify`` is the single place that maps an answer (a CDR, a SOAP fault, a ticket
status or a transport failure) to what the worker must do (:class:`sunat.outcomes.NextStep`) and
to the document's status (SUNAT.md §5). Nothing else in the project looks at SUNAT codes.

Messages come from SUNAT's own catalog in ``settings.SUNAT_SCHEMA_DIR/errors``
(``sfs-CatalogoErrores.xml``, then ``greenter-CodeErrors.xml``); they are read in place, never
copied into the repository. Without the catalog a code is shown without a message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from django.conf import settings
from lxml import etree

from .models import DocumentStatus
from .outcomes import NextStep


class Category(str, Enum):
    ACCEPTED = "accepted"  # CDR 0
    OBSERVED = "observed"  # CDR 0 with notes, or CDR code >= 4000
    REJECTED = "rejected"  # CDR 2000-3999 (or 1032): registered as rejected, number burned
    FIX = "fix"  # fault a person must fix; SUNAT did not register it, the number is reusable
    RETRY = "retry"  # transient (SUNAT side or transport)
    REGISTERED = "registered"  # 1033 / 4000: SUNAT already has this document
    CONFIG = "config"  # credentials, certificate, RUC: pause the company and alert
    IN_PROCESS = "in_process"  # ticket 98: poll again later (not an attempt)


class Source(str, Enum):
    CDR = "cdr"  # a ResponseCode read from a CDR (sendBill, getStatus, getStatusCdr)
    FAULT = "fault"  # a SOAP fault code
    TICKET = "ticket"  # a getStatus statusCode (0, 98, 99)
    TRANSPORT = "transport"  # no SUNAT answer: a transport tag (see soap.TRANSPORT_*)


# Ranges are inclusive.
RETRY_CODES: tuple[tuple[int, int], ...] = (
    (100, 100),
    (109, 109),
    (125, 125),
    (130, 138),
    (140, 140),
    (200, 204),
    (250, 253),
    (307, 307),
)
CONFIG_CODES: tuple[tuple[int, int], ...] = (
    (101, 106),
    (110, 113),
    (154, 154),
    (1078, 1078),  # not authorised for SEE-del contribuyente
    (2010, 2011),  # RUC status
    (2104, 2104),
    (2325, 2327),  # certificate not registered, revoked, expired
)
REGISTERED_CODES = frozenset({1033, 4000})
BURNED_FAULT_CODES = frozenset({1032})  # "ya esta informado … anulado o rechazado"

_STATUS_BY_CATEGORY = {
    Category.ACCEPTED: DocumentStatus.ACCEPTED,
    Category.OBSERVED: DocumentStatus.OBSERVED,
    Category.REJECTED: DocumentStatus.REJECTED,
    Category.FIX: DocumentStatus.ERROR,
    Category.RETRY: DocumentStatus.PENDING,
    Category.REGISTERED: DocumentStatus.ACCEPTED,
    Category.CONFIG: DocumentStatus.PENDING,
    Category.IN_PROCESS: DocumentStatus.PENDING,
}
_STEP_BY_CATEGORY = {
    Category.ACCEPTED: NextStep.DONE,
    Category.OBSERVED: NextStep.DONE,
    Category.REJECTED: NextStep.DONE,
    Category.FIX: NextStep.FIX,
    Category.RETRY: NextStep.RETRY,
    Category.REGISTERED: NextStep.DONE,
    Category.CONFIG: NextStep.PAUSE_COMPANY,
    Category.IN_PROCESS: NextStep.SNOOZE,
}

# Transport tags (soap.py raises them); "reached" tags mean SUNAT may have the document.
TRANSPORT_MESSAGES = {
    "connect-error": "No se pudo conectar con SUNAT (el envío no llegó).",
    "connect-timeout": "SUNAT no aceptó la conexión a tiempo (el envío no llegó).",
    "read-timeout": "SUNAT no respondió a tiempo; puede haber recibido el envío.",
    "connection-dropped": "La conexión con SUNAT se cortó tras enviar; puede haber recibido el envío.",
    "bad-response": "SUNAT respondió algo ilegible; puede haber recibido el envío.",
}


@dataclass(frozen=True)
class Classification:
    category: Category
    step: NextStep
    status: DocumentStatus
    code: str
    message: str
    verify_next: bool = False

    @property
    def terminal(self) -> bool:
        return self.step is NextStep.DONE


def _in(value: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(low <= value <= high for low, high in ranges)


def code_normalize(code: str | int) -> str:
    """``"soap-env:Client.0306"``-style leftovers aside, a code as SUNAT writes it: 4 digits, or "0"."""
    text = str(code).strip()
    if not text.isdigit():
        return text
    value = int(text)
    return "0" if value == 0 else f"{value:04d}"


@functools.lru_cache(maxsize=4)
def _catalog(schema_dir: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    if not schema_dir:
        return messages
    errors = Path(schema_dir) / "errors"
    for name, attribute in (("greenter-CodeErrors.xml", "code"), ("sfs-CatalogoErrores.xml", "numero")):
        path = errors / name
        if not path.is_file():
            continue
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            root = etree.parse(str(path), parser).getroot()
        except etree.XMLSyntaxError:
            continue
        for element in root.iter("error"):
            number = element.get(attribute)
            if number and (element.text or "").strip():
                messages[code_normalize(number)] = element.text.strip()  # sfs wins: read last
    return messages


def code_message(code: str | int) -> str:
    """SUNAT's catalog text for ``code`` ("" when the catalog or the code is unknown)."""
    normalized = code_normalize(code)
    if normalized in TRANSPORT_MESSAGES:
        return TRANSPORT_MESSAGES[normalized]
    if normalized.startswith("http-"):
        return f"SUNAT respondió HTTP {normalized[5:]}."
    return _catalog(str(settings.SUNAT_SCHEMA_DIR or "")).get(normalized, "")


def code_describe(code: str | int) -> str:
    """``"0306 - No se puede leer (parsear) el archivo XML"`` or just the code."""
    normalized = code_normalize(code)
    message = code_message(normalized)
    return f"{normalized} - {message}" if message else normalized


_HTTP_RE = re.compile(r"^http-(\d{3})$")


def response_classify(
    *,
    source: Source | str,
    code: str | int,
    notes: Sequence[str] = (),
    message: str = "",
    reached: bool = True,
) -> Classification:
    """Say what an answer from SUNAT (or its absence) means. The only such mapping in the project.

    ``source`` tells where ``code`` came from: a CDR's ResponseCode, a SOAP fault, a ticket's
    statusCode, or a transport tag (``connect-error``, ``connect-timeout``, ``read-timeout``,
    ``connection-dropped``, ``bad-response``, ``http-NNN``). ``reached`` is for transport
    failures: ``False`` only when the request surely never got to SUNAT; otherwise the next
    attempt must verify before sending again (``verify_next``). ``message`` overrides the
    catalog text (e.g. a fault's own faultstring).
    """
    source = Source(source)
    normalized = code_normalize(code)
    text = message or code_message(normalized)

    def result(category: Category, *, verify_next: bool = False) -> Classification:
        return Classification(
            category=category,
            step=_STEP_BY_CATEGORY[category],
            status=_STATUS_BY_CATEGORY[category],
            code=normalized,
            message=text,
            verify_next=verify_next,
        )

    if source is Source.TRANSPORT:
        match = _HTTP_RE.match(normalized)
        if match and int(match.group(1)) < 500:
            # A 4xx without a SOAP fault: the endpoint refused the request as such (wrong URL,
            # proxy); nothing was processed.
            return result(Category.RETRY, verify_next=False)
        return result(Category.RETRY, verify_next=reached and normalized not in ("connect-error", "connect-timeout"))

    if source is Source.TICKET:
        if normalized == "0098":
            return result(Category.IN_PROCESS)
        # 0 and 99 carry a CDR: the caller classifies the CDR itself; without one, retry.
        return result(Category.RETRY, verify_next=True)

    if not normalized.isdigit():
        if source is Source.FAULT:
            # A fault without a SUNAT code ("env:Client Internal Error", gateway pages wrapped in
            # a fault): SUNAT's infrastructure, not the document. Retry, and verify first.
            return result(Category.RETRY, verify_next=True)
        return result(Category.FIX)
    value = int(normalized)

    if source is Source.CDR:
        if value == 0:
            return result(Category.OBSERVED if notes else Category.ACCEPTED)
        if value >= 4000:
            return result(Category.OBSERVED)
        if 2000 <= value <= 3999:
            return result(Category.REJECTED)
        # An exception code (0100-1999) inside a CDR (old beta zips do this, e.g. 0109): SUNAT
        # did not register the document; read it like the same code in a fault.

    # SOAP fault: SUNAT did not register the document, except the "already registered" codes.
    if value in REGISTERED_CODES:
        return result(Category.REGISTERED)
    if value in BURNED_FAULT_CODES:
        return result(Category.REJECTED)
    if _in(value, CONFIG_CODES):
        return result(Category.CONFIG)
    if _in(value, RETRY_CODES):
        return result(Category.RETRY, verify_next=value == 140)
    return result(Category.FIX)

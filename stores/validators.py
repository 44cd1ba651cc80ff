"""Validators for Peruvian identifiers and codes, with messages in Spanish.

Check digits come from python-stdnum (``pe.ruc``, ``pe.cui``); nothing here re-implements them.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.pe import cui, ruc

# Catalog 06 (tipo de documento de identidad).
DOC_TYPE_NONE = "0"  # doc. trib. no domiciliado sin RUC
DOC_TYPE_DNI = "1"
DOC_TYPE_CE = "4"
DOC_TYPE_RUC = "6"
DOC_TYPE_PASSPORT = "7"
DOC_TYPE_CHOICES = [
    ("0", "Doc. trib. no dom. sin RUC"),
    ("1", "DNI"),
    ("4", "Carné de extranjería"),
    ("6", "RUC"),
    ("7", "Pasaporte"),
    ("A", "Cédula diplomática"),
    ("B", "Doc. identidad país residencia"),
    ("C", "TIN"),
    ("D", "IN"),
    ("E", "TAM"),
    ("F", "Permiso temporal de permanencia"),
    ("G", "Salvoconducto"),
]
_VALID_DOC_TYPES = {code for code, _ in DOC_TYPE_CHOICES}


def validate_ruc(value: str) -> None:
    try:
        ruc.validate(value)
    except StdnumError:
        raise ValidationError(
            "RUC inválido: debe tener 11 dígitos y un dígito verificador correcto.", code="ruc"
        ) from None


def validate_dni(value: str) -> None:
    """A DNI is 8 digits; a 9th character, when given, is its check digit and must match."""
    if not re.fullmatch(r"\d{8}[0-9A-K]?", value or ""):
        raise ValidationError("DNI inválido: debe tener 8 dígitos.", code="dni")
    try:
        cui.validate(value)
    except StdnumError:
        raise ValidationError("DNI inválido: el dígito verificador no corresponde.", code="dni") from None


def compact_identity(*, doc_type: str, doc_number: str) -> str:
    """Normalise a document number for storage (DNI keeps its 8 digits only)."""
    number = (doc_number or "").strip().upper().replace(" ", "").replace("-", "")
    if doc_type == DOC_TYPE_DNI:
        return number[:8]
    return number


def validate_identity(*, doc_type: str, doc_number: str) -> None:
    """Validate a catalog-06 document type and number together."""
    if doc_type not in _VALID_DOC_TYPES:
        raise ValidationError("Tipo de documento de identidad desconocido.", code="doc_type")
    number = (doc_number or "").strip().upper().replace(" ", "").replace("-", "")
    if doc_type == DOC_TYPE_RUC:
        validate_ruc(number)
    elif doc_type == DOC_TYPE_DNI:
        validate_dni(number)
    elif not re.fullmatch(r"[A-Z0-9]{1,15}", number):
        raise ValidationError("Número de documento inválido: hasta 15 letras o dígitos.", code="doc_number")


def validate_ubigeo(value: str) -> None:
    if not re.fullmatch(r"\d{6}", value or ""):
        raise ValidationError("Ubigeo inválido: debe tener 6 dígitos.", code="ubigeo")


def validate_establishment_code(value: str) -> None:
    if not re.fullmatch(r"\d{4}", value or ""):
        raise ValidationError("Código de establecimiento inválido: debe tener 4 dígitos.", code="establishment")

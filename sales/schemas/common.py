"""The till's request bodies as pydantic models, with Spanish field errors.

Every body model derives from :class:`Body` and is parsed with :func:`body_parse`, which raises
:class:`sales.services.errors.TillError` (400) with ``{field: [message]}``: nested fields are
dotted (``counted.cash``), list items keep the list's key with the item's number in the message
(``"lines": ["Línea 2: …"]``), like checkout's hand-written parser.

Amounts and quantities are decimal strings (or integers): JSON floats are refused, so a client
never sends a binary fraction for money.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from sales.services.errors import TillError

INVALID_JSON = "JSON inválido"
NOT_AN_OBJECT = "Se esperaba un objeto JSON."
NUL_REFUSED = "El texto no puede contener el carácter nulo (\\u0000)."
SURROGATE_REFUSED = "El texto contiene un carácter inválido (\\uD800–\\uDFFF sin su pareja)."
# A register as the till names it: ``CODE`` or ``STORE/CODE`` (``stores.selectors.register_access``;
# the codes' own limits make 25 at most, the length beyond which no lookup is worth making).
REGISTER_CODE_MAX = 41
ITEM_LABELS = {"lines": "Línea", "refunds": "Reembolso", "payments": "Pago"}

# pydantic's own error types, in Spanish (our validators raise their own messages).
_MESSAGES = {
    "missing": "Este campo es obligatorio.",
    "string_type": "Debe ser un texto.",
    "string_too_short": "No puede estar vacío.",
    "string_too_long": "Es demasiado largo (máximo {max_length} caracteres).",
    "string_unicode": "Debe ser un texto válido.",
    "bool_type": "Debe ser true o false.",
    "bool_parsing": "Debe ser true o false.",
    "dict_type": "Debe ser un objeto.",
    "model_type": "Debe ser un objeto.",
    "model_attributes_type": "Debe ser un objeto.",
    "list_type": "Debe ser una lista.",
    "too_short": "Debe tener al menos {min_length} elemento(s).",
    "too_long": "Tiene demasiados elementos (máximo {max_length}).",
    "int_type": "Debe ser un número entero.",
    "int_parsing": "Debe ser un número entero.",
    "int_from_float": "Debe ser un número entero.",
    "greater_than_equal": "Debe ser mayor o igual que {ge}.",
    "greater_than": "Debe ser mayor que {gt}.",
    "less_than_equal": "Debe ser menor o igual que {le}.",
    "literal_error": "Valor inválido: use {expected}.",
    "uuid_type": "Debe ser un UUID.",
    "uuid_parsing": "Debe ser un UUID.",
}


class Body(BaseModel):
    """Base of every body: unknown keys are ignored, values are not coerced between types."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True, populate_by_name=True)


def _decimal_text(*, places: int, label: str) -> Any:
    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise PydanticCustomError(
                "decimal_text", f'{label} debe ser un número decimal en texto, por ejemplo "12.50".'
            )
        text = value.strip() if isinstance(value, str) else str(value)
        try:
            number = Decimal(text) if text and len(text) <= 20 else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise PydanticCustomError(
                "decimal_text", f'{label} debe ser un número decimal en texto, por ejemplo "12.50".'
            )
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise PydanticCustomError("decimal_places", f"{label} admite como máximo {places} decimales.")
        return number

    return BeforeValidator(parse)


def _key(value: Any) -> uuid.UUID:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise PydanticCustomError("idempotency_key", "Clave de idempotencia inválida: debe ser un UUID.")


# Money: a decimal string with up to 2 places; a quantity: up to 3 places (weighed goods).
Amount = Annotated[Decimal, _decimal_text(places=2, label="El monto")]
Quantity = Annotated[Decimal, _decimal_text(places=3, label="La cantidad")]
IdempotencyKey = Annotated[uuid.UUID, BeforeValidator(_key)]

B = TypeVar("B", bound=Body)


def _field(loc: tuple[Any, ...]) -> tuple[str, str]:
    """(error key, message prefix) for a pydantic location."""
    parts: list[str] = []
    prefix = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            list_name = str(loc[i - 1]) if i else ""
            label = ITEM_LABELS.get(list_name, "Elemento")
            prefix = f"{label} {part + 1}: "
            break
        parts.append(str(part))
    return ".".join(parts) or "body", prefix


def errors_from(exc: ValidationError) -> dict[str, list[str]]:
    """Spanish ``{field: [messages]}`` from a pydantic error."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        field, prefix = _field(tuple(error["loc"]))
        if (error.get("ctx") or {}).get("field"):  # a whole-body rule that belongs to one field
            field = error["ctx"]["field"]
        template = _MESSAGES.get(error["type"])
        if error["type"] in ("decimal_text", "decimal_places", "idempotency_key") or template is None:
            message = error["msg"] if error["type"] not in _MESSAGES else template
        else:
            ctx = {k: str(v).replace(" or ", " o ") for k, v in (error.get("ctx") or {}).items()}
            try:
                message = template.format(**ctx)
            except (KeyError, IndexError):
                message = template
        errors.setdefault(field, []).append(prefix + message)
    return errors


def json_object_load(body: bytes, *, parse_float: Any = None) -> dict[str, Any]:
    """The JSON object of a request body; raise :class:`TillError` (400, key ``body``) when it is
    not JSON (nested too deep to parse included), not an object, or holds text PostgreSQL cannot
    store anywhere: a NUL character, or half of a UTF-16 surrogate pair (neither can be encoded
    in the database's UTF-8: it would fail as a database error instead of a field error)."""
    try:
        # Decoded strictly first (a leading BOM skipped, as ``json.loads`` of bytes skips it):
        # ``json.loads`` of bytes lets the UTF-8 of a lone surrogate through (``surrogatepass``),
        # and then only its escaped form would be left to check.
        data = json.loads((body or b"").decode("utf-8-sig"), parse_float=parse_float)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise TillError.single("body", INVALID_JSON) from None
    if not isinstance(data, dict):
        raise TillError.single("body", NOT_AN_OBJECT)
    if _UNSTORABLE_ESCAPE.search(body):  # the only ways JSON carries either
        refusal = _unstorable_text(data)
        if refusal:
            raise TillError.single("body", refusal)
    return data


# ``\u0000`` and ``\uD800``–``\uDFFF``: a surrogate escape may still be one half of a valid pair
# (an emoji), which decodes to one character; the decoded text decides.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def text_refusal(text: str) -> str | None:
    """Why PostgreSQL's text (UTF-8) cannot store ``text`` — a NUL, or half of a surrogate pair,
    which has no UTF-8 — or None when it can."""
    if "\x00" in text:
        return NUL_REFUSED
    try:
        text.encode()
    except UnicodeEncodeError:
        return SURROGATE_REFUSED
    return None


def _unstorable_text(data: Any) -> str | None:
    """:func:`text_refusal` of the first key or string of ``data`` that cannot be stored, or None
    (no recursion: the body's depth is the client's)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            refusal = text_refusal(value)
            if refusal:
                return refusal
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def body_parse(model: type[B], body: bytes) -> B:
    """Parse a raw JSON body into ``model``; raise :class:`TillError` (400) with every problem."""
    return data_parse(model, json_object_load(body))


def data_parse(model: type[B], data: dict[str, Any]) -> B:
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        raise TillError(errors_from(exc), 400) from None


def _normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _normalized(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalized(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def body_fingerprint(body: Body, *, target: str = "") -> str:
    """SHA-256 of the normalized body without its key and approval ("12.5" and "12.50" alike),
    and of ``target`` (what the URL names, e.g. a session's id): equal requests, equal prints."""
    data = _normalized(body.model_dump(exclude={"idempotency_key", "approval"}))
    data["@target"] = target
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

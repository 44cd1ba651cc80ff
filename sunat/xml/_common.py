"""Shared pieces of the UBL builders: namespaces, element helpers, formatting (never rounding)."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_DEBIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:DebitNote-2"
NS_SUMMARY = "urn:sunat:names:specification:ubl:peru:schema:xsd:SummaryDocuments-1"
NS_VOIDED = "urn:sunat:names:specification:ubl:peru:schema:xsd:VoidedDocuments-1"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
SAC = "urn:sunat:names:specification:ubl:peru:schema:xsd:SunatAggregateComponents-1"
DS = "http://www.w3.org/2000/09/xmldsig#"

SIGNATURE_URI = "#SignBodega"


def nsmap(default: str, *, sac: bool = False) -> dict:
    mapping = {None: default, "cac": CAC, "cbc": CBC, "ds": DS, "ext": EXT}
    if sac:
        mapping["sac"] = SAC
    return mapping


def sub(parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def cbc(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    return sub(parent, CBC, tag, text, **attrs)


def cac(parent: etree._Element, tag: str) -> etree._Element:
    return sub(parent, CAC, tag)


def amount(parent: etree._Element, tag: str, value: Decimal, currency: str, ns: str = CBC) -> etree._Element:
    return sub(parent, ns, tag, money(value), currencyID=currency)


def money(value: Decimal) -> str:
    """Format a 2-dp amount. Refuses anything that is not already rounded to céntimos."""
    value = Decimal(value)
    if (value * 100) % 1 != 0:
        raise ValueError(f"importe sin redondear a céntimos: {value}")
    return f"{value:.2f}"


def decimal_text(value: Decimal, *, max_places: int = 10) -> str:
    """Format a unit value/quantity with up to ``max_places`` decimals (plain notation, no exponent)."""
    value = Decimal(value)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        raise ValueError(f"más de {max_places} decimales: {value}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
        if "." in text:
            whole, frac = text.split(".")
            text = f"{whole}.{frac}"
    return text or "0"


def unit_text(value: Decimal) -> str:
    """Unit prices/values: at least 2 decimals, up to 10."""
    text = decimal_text(value)
    if "." not in text:
        return text + ".00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def extensions(root: etree._Element) -> None:
    """``ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent`` (empty: the signer fills it)."""
    holder = sub(root, EXT, "UBLExtensions")
    extension = sub(holder, EXT, "UBLExtension")
    sub(extension, EXT, "ExtensionContent")


def signature_block(root: etree._Element, *, ruc: str, legal_name: str) -> None:
    signature = cac(root, "Signature")
    cbc(signature, "ID", f"SIGN{ruc}")
    party = cac(signature, "SignatoryParty")
    cbc(cac(party, "PartyIdentification"), "ID", ruc)
    cbc(cac(party, "PartyName"), "Name", legal_name)
    attachment = cac(signature, "DigitalSignatureAttachment")
    cbc(cac(attachment, "ExternalReference"), "URI", SIGNATURE_URI)


XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def serialize(root: etree._Element) -> bytes:
    """The unsigned bytes: UTF-8, declaration, no pretty-printing (whitespace would be signed)."""
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def clean_text(value: str, *, limit: int) -> str:
    """Collapse whitespace/newlines (SUNAT rejects line breaks in coded text) and cut to ``limit``."""
    return " ".join(str(value).split())[:limit]

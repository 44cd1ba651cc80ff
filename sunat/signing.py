"""XMLDSig signature of SUNAT documents, the way SUNAT accepts it (SUNAT.md §3, §11).

Public interface:

* ``document_sign(*, xml: bytes, certificate: LoadedCertificate) -> SignedDocument`` — enveloped
  signature inside the first ``ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent`` (which
  must be empty), RSA-SHA1, SHA-1 digest, inclusive C14N 1.0, one ``Reference URI=""`` with only
  the enveloped transform, ``KeyInfo/X509Data/X509Certificate``, ``ds:Signature Id="SignBodega"``.
  Returns the exact signed bytes (UTF-8, with declaration; store, zip, hash and re-send these
  bytes, never re-serialize them) and the ``DigestValue`` (base64 SHA-1, 28 chars: the document's
  hash for the receipt and the QR).
* ``signature_verify(xml: bytes) -> str`` — checks the signature and the digest with the
  certificate embedded in the document and returns the DigestValue; raises
  :class:`SignatureInvalid` (``fake_sunat`` answers 2335) when any signed byte changed, the
  signature is missing/misplaced, or algorithms differ from SUNAT's.
* ``digest_value(xml: bytes) -> str | None`` — reads the DigestValue without verifying.

signxml refuses SHA-1 by default; the subclasses below allow it for SUNAT only.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    InvalidInput,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature

from .certificates import LoadedCertificate

__all__ = ["SignatureInvalid", "SignedDocument", "digest_value", "document_sign", "signature_verify"]

DS = "http://www.w3.org/2000/09/xmldsig#"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
SIGNATURE_ID = "SignBodega"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_PLACEHOLDER_ID = "placeholder"  # signxml fills a <ds:Signature Id="placeholder"/> in place


class SignatureInvalid(ValueError):
    """The document's signature or digest does not verify (SUNAT 2335 "documento alterado")."""


@dataclass(frozen=True)
class SignedDocument:
    xml: bytes
    digest_value: str


class _SunatSigner(XMLSigner):
    """RSA-SHA1 / SHA-1 allowed: that is what SUNAT verifies."""

    def check_deprecated_methods(self):
        return None


def _parser() -> etree.XMLParser:
    # Keep every whitespace node: the signed bytes must be exactly what was built.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


def _extension_content(root: etree._Element) -> etree._Element:
    found = root.find(f"{{{EXT}}}UBLExtensions/{{{EXT}}}UBLExtension/{{{EXT}}}ExtensionContent")
    if found is None:
        raise ValueError("el documento no tiene ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent")
    return found


def document_sign(*, xml: bytes, certificate: LoadedCertificate) -> SignedDocument:
    """Sign ``xml`` (unsigned, built by ``sunat.xml``) and return the exact signed bytes + digest.

    The first ExtensionContent must be empty. Pure function: no I/O, no logging of the key.
    """
    root = etree.fromstring(xml, _parser())
    content = _extension_content(root)
    if len(content):
        raise ValueError("el documento ya está firmado (ExtensionContent no está vacío)")
    etree.SubElement(content, f"{{{DS}}}Signature", Id=_PLACEHOLDER_ID, nsmap={"ds": DS})
    signer = _SunatSigner(
        signature_algorithm=SignatureMethod.RSA_SHA1,
        digest_algorithm=DigestAlgorithm.SHA1,
        c14n_algorithm=C14N_10,
    )
    signed = signer.sign(
        root,
        key=certificate.key,
        cert=[certificate.certificate],
        exclude_c14n_transform_element=True,
    )
    signature = signed.find(f".//{{{DS}}}Signature")
    # The Id is outside both the digest (enveloped transform) and SignedInfo.
    signature.set("Id", SIGNATURE_ID)
    # Serialize once, UTF-8 under a UTF-8 declaration; these exact bytes are stored and sent.
    data = _XML_DECLARATION + etree.tostring(signed, encoding="UTF-8", xml_declaration=False)
    digest = digest_value(data)
    if digest is None:  # pragma: no cover - signxml always writes it
        raise RuntimeError("la firma no produjo DigestValue")
    return SignedDocument(xml=data, digest_value=digest)


def digest_value(xml: bytes) -> str | None:
    """The DigestValue of the signature in ``xml`` (no verification), or ``None``."""
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError:
        return None
    value = root.findtext(f".//{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestValue")
    return value.strip() if value else None


_ONE_SECOND = dt.timedelta(seconds=1)

_VERIFY_CONFIG = SignatureConfiguration(
    require_x509=True,
    location=f"{{{EXT}}}UBLExtensions/{{{EXT}}}UBLExtension/{{{EXT}}}ExtensionContent/",
    expect_references=1,
    signature_methods=frozenset({SignatureMethod.RSA_SHA1, SignatureMethod.RSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA1, DigestAlgorithm.SHA256}),
    default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0,
)


def signature_verify(xml: bytes) -> str:
    """Verify signature and digest with the embedded X509 certificate; return the DigestValue.

    Raises :class:`SignatureInvalid` with a Spanish message on any failure.
    """
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise SignatureInvalid(f"XML mal formado: {exc}") from None
    signatures = root.findall(f".//{{{DS}}}Signature")
    if len(signatures) != 1:
        raise SignatureInvalid(f"se esperaba una firma ds:Signature y hay {len(signatures)}")
    signature = signatures[0]
    try:
        content = _extension_content(root)
    except ValueError as exc:
        raise SignatureInvalid(str(exc)) from None
    if signature.getparent() is not content:
        raise SignatureInvalid("la firma no está dentro de ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent")
    if not signature.get("Id"):
        raise SignatureInvalid("la firma no tiene atributo Id")
    reference = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    if reference is None or reference.get("URI") != "":
        raise SignatureInvalid('la referencia de la firma debe tener URI=""')
    cert_text = signature.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if not cert_text:
        raise SignatureInvalid("la firma no incluye el certificado X509")
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode("".join(cert_text.split())))
    except (ValueError, TypeError) as exc:
        raise SignatureInvalid(f"certificado X509 ilegible: {exc}") from None
    try:
        # Integrity only: certificate validity dates are SUNAT's 2325-2327 checks, not 2335.
        config = dataclasses.replace(_VERIFY_CONFIG, verification_time=cert.not_valid_before_utc + _ONE_SECOND)
        result = XMLVerifier().verify(root, x509_cert=cert, expect_config=config)
    except InvalidDigest:
        raise SignatureInvalid("el valor resumen (DigestValue) no coincide: el documento fue alterado") from None
    except InvalidSignature as exc:
        raise SignatureInvalid(f"la firma no es válida: {exc}") from None
    except (InvalidCertificate, InvalidInput) as exc:
        raise SignatureInvalid(f"firma no verificable: {exc}") from None
    del result
    digest = reference.findtext(f"{{{DS}}}DigestValue")
    return (digest or "").strip()

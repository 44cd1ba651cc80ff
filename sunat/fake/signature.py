"""An independent XMLDSig check for the SUNAT double (not the project's signer, on purpose).

SUNAT answers 2335 ("El documento electrónico ingresado ha sido alterado") when the digest of the
document or the signature over SignedInfo does not verify. This module recomputes both from the
bytes received: enveloped-signature transform, C14N (inclusive 1.0 or exclusive, as declared),
SHA-1/SHA-256 digest, RSA PKCS#1 v1.5 signature with the embedded X509Certificate.
"""

from __future__ import annotations

import base64
import copy
import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
_NS = {"ds": DS}
_EXCLUSIVE = {"http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"}
_DIGESTS = {
    f"{DS}sha1": hashlib.sha1,
    "http://www.w3.org/2001/04/xmlenc#sha256": hashlib.sha256,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}
_SIGNATURES = {
    f"{DS}rsa-sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512,
}


class SignatureInvalid(ValueError):
    pass


def _c14n(element: etree._Element, algorithm: str) -> bytes:
    exclusive = algorithm in _EXCLUSIVE
    with_comments = algorithm.endswith("WithComments")
    return etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=with_comments)


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    tail = element.tail or ""
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def signature_check(xml: bytes) -> tuple[str, str]:
    """Verify the enveloped signature of ``xml``; return (DigestValue, certificate subject).

    Raises :class:`SignatureInvalid` with a reason when the document has no usable signature,
    its digest does not match the content, or the signature does not verify.
    """
    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except etree.XMLSyntaxError as exc:
        raise SignatureInvalid(f"XML ilegible: {exc}") from exc
    signatures = root.xpath("//ds:Signature", namespaces=_NS)
    if len(signatures) != 1:
        raise SignatureInvalid(f"se esperaba una firma, hay {len(signatures)}")
    signature = signatures[0]
    signed_info = signature.find("ds:SignedInfo", _NS)
    if signed_info is None:
        raise SignatureInvalid("firma sin SignedInfo")
    references = signed_info.findall("ds:Reference", _NS)
    if len(references) != 1 or references[0].get("URI") != "":
        raise SignatureInvalid("la firma debe tener una sola Reference con URI vacío")
    reference = references[0]
    transforms = [t.get("Algorithm", "") for t in reference.findall("ds:Transforms/ds:Transform", _NS)]
    if f"{DS}enveloped-signature" not in transforms:
        raise SignatureInvalid("falta la transformación enveloped-signature")
    doc_c14n = next((t for t in transforms if "c14n" in t), "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    digest_method = reference.find("ds:DigestMethod", _NS).get("Algorithm", "")
    digest_value = (reference.findtext("ds:DigestValue", namespaces=_NS) or "").strip()
    if digest_method not in _DIGESTS:
        raise SignatureInvalid(f"DigestMethod no soportado: {digest_method}")

    unsigned = copy.deepcopy(root)
    _remove_keeping_tail(unsigned.xpath("//ds:Signature", namespaces=_NS)[0])
    computed = base64.b64encode(_DIGESTS[digest_method](_c14n(unsigned, doc_c14n)).digest()).decode("ascii")
    if computed != digest_value:
        raise SignatureInvalid("el DigestValue no corresponde al contenido")

    c14n_method = signed_info.find("ds:CanonicalizationMethod", _NS).get("Algorithm", "")
    signature_method = signed_info.find("ds:SignatureMethod", _NS).get("Algorithm", "")
    if signature_method not in _SIGNATURES:
        raise SignatureInvalid(f"SignatureMethod no soportado: {signature_method}")
    cert_text = signature.findtext(".//ds:X509Certificate", namespaces=_NS)
    if not cert_text:
        raise SignatureInvalid("falta X509Certificate")
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode("".join(cert_text.split())))
        value = base64.b64decode("".join((signature.findtext("ds:SignatureValue", namespaces=_NS) or "").split()))
        certificate.public_key().verify(
            value, _c14n(signed_info, c14n_method), padding.PKCS1v15(), _SIGNATURES[signature_method]()
        )
    except InvalidSignature as exc:
        raise SignatureInvalid("la firma no verifica con el certificado") from exc
    except ValueError as exc:
        raise SignatureInvalid(f"certificado o firma ilegibles: {exc}") from exc
    return digest_value, certificate.subject.rfc4514_string()

"""XMLDSig as SUNAT wants it: placement, algorithms, digest, and tamper detection (2335)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from lxml import etree

from sunat import xml as ubl
from sunat.signing import SignatureInvalid, digest_value, document_sign, signature_verify
from sunat.tests.scenarios import dev_certificate, scenario, signed

DS = "http://www.w3.org/2000/09/xmldsig#"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
NS = {"ds": DS, "ext": EXT}
SAMPLES = Path(settings.SUNAT_SCHEMA_DIR or "/nonexistent") / "samples" / "invoices"


@pytest.fixture(scope="module")
def boleta():
    return signed("boleta-mixta")[1]


def test_signature_shape_is_sunats(boleta):
    root = etree.fromstring(boleta.xml)
    signatures = root.findall(".//ds:Signature", NS)
    assert len(signatures) == 1
    signature = signatures[0]
    assert signature.getparent().tag == f"{{{EXT}}}ExtensionContent"
    assert signature.get("Id") == "SignBodega"
    info = signature.find("ds:SignedInfo", NS)
    assert (
        info.find("ds:CanonicalizationMethod", NS).get("Algorithm") == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    )
    assert info.find("ds:SignatureMethod", NS).get("Algorithm") == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    references = info.findall("ds:Reference", NS)
    assert len(references) == 1 and references[0].get("URI") == ""
    transforms = [t.get("Algorithm") for t in references[0].findall("ds:Transforms/ds:Transform", NS)]
    assert transforms == ["http://www.w3.org/2000/09/xmldsig#enveloped-signature"]
    assert references[0].find("ds:DigestMethod", NS).get("Algorithm") == "http://www.w3.org/2000/09/xmldsig#sha1"
    assert signature.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS)
    assert boleta.xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice ')


def test_digest_is_sha1_of_the_canonical_document_without_signature(boleta):
    """Recomputed by hand (lxml C14N 1.0 + hashlib), independent of signxml."""
    root = etree.fromstring(boleta.xml)
    signature = root.find(".//ds:Signature", NS)
    signature.getparent().remove(signature)
    canonical = etree.tostring(root, method="c14n", exclusive=False, with_comments=False)
    assert base64.b64encode(hashlib.sha1(canonical).digest()).decode() == boleta.digest_value
    assert digest_value(boleta.xml) == boleta.digest_value


def test_signature_value_verifies_with_the_certificate_public_key(boleta):
    root = etree.fromstring(boleta.xml)
    info = root.find(".//ds:Signature/ds:SignedInfo", NS)
    canonical_info = etree.tostring(info, method="c14n", exclusive=False, with_comments=False)
    value = base64.b64decode("".join(root.findtext(".//ds:Signature/ds:SignatureValue", namespaces=NS).split()))
    dev_certificate().certificate.public_key().verify(value, canonical_info, padding.PKCS1v15(), hashes.SHA1())


def test_every_changed_byte_in_the_signed_content_fails(boleta):
    text = boleta.xml
    start = text.index(b"<cbc:UBLVersionID>")
    # Change the first digit of the payable amount, a description letter and the issue date.
    targets = [
        text.index(b"<cbc:PayableAmount") + text[text.index(b"<cbc:PayableAmount") :].index(b">") + 1,
        text.index(b"<cbc:Description>") + len(b"<cbc:Description>"),
        text.index(b"<cbc:IssueDate>") + len(b"<cbc:IssueDate>") + 3,
        start + len(b"<cbc:UBLVersionID>"),
    ]
    for position in targets:
        original = text[position : position + 1]
        replacement = b"9" if original != b"9" else b"8"
        altered = text[:position] + replacement + text[position + 1 :]
        with pytest.raises(SignatureInvalid, match="alterado|firma"):
            signature_verify(altered)


def test_re_serializing_breaks_the_digest(boleta):
    """Pretty-printing after signing (a classic 2335) is detected."""
    root = etree.fromstring(boleta.xml)
    etree.indent(root)
    with pytest.raises(SignatureInvalid):
        signature_verify(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_changed_signature_value_fails(boleta):
    root = etree.fromstring(boleta.xml)
    value = root.find(".//ds:Signature/ds:SignatureValue", NS)
    raw = bytearray(base64.b64decode("".join(value.text.split())))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SignatureInvalid, match="firma"):
        signature_verify(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_unsigned_or_misplaced_signature_is_refused():
    unsigned = ubl.build(scenario("boleta-gravado"))
    with pytest.raises(SignatureInvalid, match="0"):
        signature_verify(unsigned)
    with pytest.raises(SignatureInvalid, match="mal formado"):
        signature_verify(b"<Invoice")


def test_signing_twice_is_refused(boleta):
    with pytest.raises(ValueError, match="ya está firmado"):
        document_sign(xml=boleta.xml, certificate=dev_certificate())


def test_signing_is_deterministic_for_the_same_bytes():
    raw = ubl.build(scenario("factura-contado"))
    first = document_sign(xml=raw, certificate=dev_certificate())
    second = document_sign(xml=raw, certificate=dev_certificate())
    assert first.xml == second.xml  # RSA PKCS#1 v1.5 is deterministic: re-signing gives the same bytes


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"SUNAT samples not found at {SAMPLES}")
def test_verifies_a_real_signed_sample_and_catches_its_altered_copy():
    good = (SAMPLES / "12345678912-01-F001-1.xml").read_bytes()
    assert signature_verify(good) == digest_value(good)
    with pytest.raises(SignatureInvalid, match="alterado"):
        signature_verify((SAMPLES / "12345678912-01-F001-1_alterado.xml").read_bytes())

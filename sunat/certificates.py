"""Digital certificates for signing SUNAT documents (SUNAT.md §3, §11).

Public interface:

* ``LoadedCertificate`` — parsed key + certificate: ``key``, ``certificate``, ``subject`` (RFC 4514
  string), ``not_after`` (aware UTC datetime), ``cert_pem``/``key_pem`` properties.
* ``certificate_load(*, pfx: bytes, password: str, at: datetime | None = None) -> LoadedCertificate``
  — parses a PKCS#12 (.pfx/.p12). Raises :class:`CertificateError` (Spanish, readable, never
  containing the password) for a wrong password, a file that is not PKCS#12 (e.g. a .cer/PEM), a
  PKCS#12 without a private key, or an expired / not yet valid certificate.
* ``development_certificate_create(*, ruc, legal_name, days=3650) -> tuple[bytes, str]`` — a
  self-signed RSA 2048 certificate as PKCS#12 bytes plus its (random) password, for ``seed_demo``
  and tests. SUNAT beta accepts any certificate; production needs the one registered in SOL.
* ``company_certificate_set(*, company, pfx: bytes, password: str) -> LoadedCertificate`` —
  service: validates, then stores the encrypted bytes/password with subject and expiry on the
  company's ``SunatAccount`` (created when missing; fields are Fernet-encrypted at rest).
* ``company_certificate_load(*, company, account=None) -> LoadedCertificate`` — the company's
  parsed key (from ``account`` when the caller already read it), cached per process keyed by
  company id + a hash of the stored bytes and password, so a replaced certificate is picked up
  and the ~30 ms PKCS#12 key derivation runs once.

Secrets (key, password, pfx bytes) are never logged nor included in exception messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

__all__ = [
    "CertificateError",
    "LoadedCertificate",
    "certificate_load",
    "company_certificate_load",
    "company_certificate_set",
    "development_certificate_create",
]


class CertificateError(ValueError):
    """A certificate that cannot be used for signing; the message is Spanish and user-facing."""


@dataclass(frozen=True)
class LoadedCertificate:
    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)
    subject: str
    not_after: dt.datetime

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def days_left(self, *, at: dt.datetime | None = None) -> int:
        now = at or dt.datetime.now(dt.UTC)
        return (self.not_after - now).days


def certificate_load(*, pfx: bytes, password: str, at: dt.datetime | None = None) -> LoadedCertificate:
    """Parse a PKCS#12 file and check it can sign today. Raises :class:`CertificateError`."""
    if not pfx:
        raise CertificateError("El archivo del certificado está vacío.")
    data = bytes(pfx)
    stripped = data.lstrip()
    if stripped.startswith(b"-----BEGIN"):
        if b"PRIVATE KEY" in data:
            raise CertificateError(
                "El certificado está en formato PEM; suba el archivo .pfx/.p12 que contiene la clave privada."
            )
        raise CertificateError(
            "El archivo es un certificado público (.cer/.pem) sin clave privada; suba el archivo .pfx/.p12."
        )
    try:
        key, cert, _extra = pkcs12.load_key_and_certificates(data, password.encode("utf-8") if password else None)
    except ValueError as exc:
        if _looks_like_der_certificate(data):
            raise CertificateError(
                "El archivo es un certificado público (.cer) sin clave privada; suba el archivo .pfx/.p12."
            ) from None
        if _looks_like_pkcs12(data):
            raise CertificateError("La contraseña del certificado es incorrecta.") from None
        raise CertificateError("El archivo no es un certificado PKCS#12 (.pfx/.p12) válido.") from exc
    except Exception:  # cryptography raises various errors on garbage
        raise CertificateError("El archivo no es un certificado PKCS#12 (.pfx/.p12) válido.") from None
    if key is None:
        raise CertificateError("El archivo .pfx no contiene la clave privada del certificado.")
    if cert is None:
        raise CertificateError("El archivo .pfx no contiene un certificado.")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("La clave del certificado debe ser RSA (SUNAT firma con RSA-SHA1).")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise CertificateError("La clave privada no corresponde al certificado.")
    now = at or dt.datetime.now(dt.UTC)
    not_after = cert.not_valid_after_utc
    if not_after <= now:
        raise CertificateError(
            f"El certificado venció el {not_after:%d/%m/%Y}; renuévelo antes de emitir comprobantes."
        )
    if cert.not_valid_before_utc > now:
        raise CertificateError(
            f"El certificado aún no es válido (válido desde el {cert.not_valid_before_utc:%d/%m/%Y})."
        )
    return LoadedCertificate(key=key, certificate=cert, subject=cert.subject.rfc4514_string(), not_after=not_after)


def _looks_like_der_certificate(data: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(data)
    except ValueError:
        return False
    return True


def _looks_like_pkcs12(data: bytes) -> bool:
    """A DER SEQUENCE whose first element is INTEGER 3 (PFX version) — i.e. a PKCS#12 blob."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    # skip the outer length
    length_byte = data[1]
    offset = 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)
    return data[offset : offset + 3] == b"\x02\x01\x03"


def development_certificate_create(
    *, ruc: str, legal_name: str, days: int = 3650, not_before: dt.datetime | None = None
) -> tuple[bytes, str]:
    """A self-signed RSA 2048 certificate for development/tests, as ``(pfx_bytes, password)``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = not_before or (dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, legal_name[:64] or "BODEGA"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"RUC{ruc}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{ruc} {legal_name}"[:64]),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    password = secrets.token_urlsafe(18)
    pfx = pkcs12.serialize_key_and_certificates(
        name=b"bodegapos-dev",
        key=key,
        cert=cert,
        cas=None,
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )
    return pfx, password


# ------------------------------------------------------------------------------ company service

_cache: dict[int, tuple[str, LoadedCertificate]] = {}
_cache_lock = threading.Lock()


def _fingerprint(pfx: bytes, password: str) -> str:
    return hashlib.sha256(bytes(pfx) + b"\x00" + password.encode("utf-8")).hexdigest()


def company_certificate_set(*, company, pfx: bytes, password: str) -> LoadedCertificate:
    """Validate a PKCS#12 and store it (encrypted at rest) with subject and expiry on the
    company's ``SunatAccount``, creating the account when the company has none.

    Raises :class:`CertificateError` and changes nothing when the file cannot sign. One short
    write in the caller's transaction, or its own.
    """
    from .models import SunatAccount

    loaded = certificate_load(pfx=pfx, password=password)
    account, _ = SunatAccount.objects.get_or_create(company=company)
    account.certificate = bytes(pfx)
    account.certificate_password = password
    account.certificate_subject = loaded.subject[:300]
    account.certificate_expires_at = loaded.not_after
    account.save(update_fields=["certificate", "certificate_password", "certificate_subject", "certificate_expires_at"])
    with _cache_lock:
        _cache[company.pk] = (_fingerprint(pfx, password), loaded)
    return loaded


def company_certificate_load(*, company, account=None) -> LoadedCertificate:
    """The company's signing certificate, parsed once per process and certificate version.

    ``account`` is the company's ``SunatAccount`` when the caller has read it (None: read here;
    a company without one has no certificate). Raises :class:`CertificateError` when the company
    has no certificate or it cannot sign.
    """
    if account is None:
        from .models import SunatAccount

        account = SunatAccount.objects.filter(company_id=company.pk).first()
    pfx = account.certificate if account is not None else None
    if isinstance(pfx, memoryview):
        pfx = pfx.tobytes()
    if not pfx:
        raise CertificateError(f"La empresa {company.ruc} no tiene certificado digital cargado.")
    password = account.certificate_password or ""
    fingerprint = _fingerprint(pfx, password)
    with _cache_lock:
        hit = _cache.get(company.pk)
    if hit is not None and hit[0] == fingerprint:
        loaded = hit[1]
        if loaded.not_after <= dt.datetime.now(dt.UTC):
            raise CertificateError(
                f"El certificado venció el {loaded.not_after:%d/%m/%Y}; renuévelo antes de emitir comprobantes."
            )
        return loaded
    loaded = certificate_load(pfx=pfx, password=password)
    with _cache_lock:
        _cache[company.pk] = (fingerprint, loaded)
    return loaded

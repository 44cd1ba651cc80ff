"""Model fields that keep secrets encrypted at rest (Fernet, keys from FIELD_ENCRYPTION_KEY):
a company's clave SOL, its certificate and the certificate's password (``SunatAccount``).

``FIELD_ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys: the first encrypts,
every key decrypts, so keys can be rotated. Without it (development only; production settings
require it) a key is derived from ``SECRET_KEY``. Values never appear in ``repr``/logs: the
admin shows them as write-only fields.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: str, secret_key: str) -> MultiFernet:
    if keys:
        try:
            return MultiFernet([Fernet(k.strip()) for k in keys.split(",") if k.strip()])
        except ValueError as exc:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY no es una clave Fernet válida") from exc
    derived = base64.urlsafe_b64encode(hashlib.sha256(("field-encryption:" + secret_key).encode()).digest())
    return MultiFernet([Fernet(derived)])


def fernet() -> MultiFernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


class EncryptedBinaryField(models.BinaryField):
    """Bytes encrypted with Fernet; ``None`` stays ``None``."""

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if isinstance(value, memoryview):
            value = value.tobytes()
        return super().get_db_prep_value(fernet().encrypt(bytes(value)), connection, prepared)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        try:
            return fernet().decrypt(bytes(value))
        except InvalidToken as exc:
            raise ImproperlyConfigured("No se pudo descifrar un secreto: FIELD_ENCRYPTION_KEY cambió") from exc


class EncryptedTextField(models.TextField):
    """Text encrypted with Fernet; the empty string is stored as is (nothing secret in it)."""

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if value in (None, ""):
            return value
        return fernet().encrypt(str(value).encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ImproperlyConfigured("No se pudo descifrar un secreto: FIELD_ENCRYPTION_KEY cambió") from exc

"""Certificates: PKCS#12 loading with readable Spanish errors, storage encrypted at rest, cache."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.db import connection

from stores.models import Company
from sunat.certificates import (
    CertificateError,
    certificate_load,
    company_certificate_load,
    company_certificate_set,
    development_certificate_create,
)
from sunat.models import SunatAccount

RUC = "20000000001"


@pytest.fixture(scope="module")
def dev_pfx():
    return development_certificate_create(ruc=RUC, legal_name="BODEGAS DEMO S.A.C.")


def test_development_certificate_loads(dev_pfx):
    pfx, password = dev_pfx
    loaded = certificate_load(pfx=pfx, password=password)
    assert RUC in loaded.subject
    assert loaded.not_after > dt.datetime.now(dt.UTC) + dt.timedelta(days=3600)
    assert loaded.key.key_size == 2048
    assert loaded.days_left() >= 3600
    assert password not in repr(loaded)


def test_wrong_password(dev_pfx):
    pfx, password = dev_pfx
    with pytest.raises(CertificateError, match="contraseña del certificado es incorrecta") as info:
        certificate_load(pfx=pfx, password=password + "x")
    assert password not in str(info.value)


def test_expired_certificate():
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    pfx, password = development_certificate_create(ruc=RUC, legal_name="VIEJA S.A.C.", days=30, not_before=start)
    with pytest.raises(CertificateError, match="venció el 31/01/2020"):
        certificate_load(pfx=pfx, password=password)


def test_not_yet_valid_certificate():
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    pfx, password = development_certificate_create(ruc=RUC, legal_name="FUTURA S.A.C.", not_before=start)
    with pytest.raises(CertificateError, match="aún no es válido"):
        certificate_load(pfx=pfx, password=password)


def test_cer_without_private_key(dev_pfx):
    pfx, password = dev_pfx
    cert = certificate_load(pfx=pfx, password=password).certificate
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(CertificateError, match=r"certificado público \(\.cer\) sin clave privada"):
        certificate_load(pfx=der, password=password)
    with pytest.raises(CertificateError, match="sin clave privada"):
        certificate_load(pfx=pem, password=password)


def test_pkcs12_with_only_the_certificate(dev_pfx):
    pfx, password = dev_pfx
    cert = certificate_load(pfx=pfx, password=password).certificate
    cert_only = pkcs12.serialize_key_and_certificates(
        name=b"x", key=None, cert=cert, cas=None, encryption_algorithm=serialization.BestAvailableEncryption(b"pw")
    )
    with pytest.raises(CertificateError, match="no contiene la clave privada"):
        certificate_load(pfx=cert_only, password="pw")


@pytest.mark.parametrize("data", [b"", b"garbage", b"0\x82\x01\x00\x02\x01\x03rest"])
def test_garbage_is_a_readable_error(data):
    with pytest.raises(CertificateError):
        certificate_load(pfx=data, password="x")


def _company() -> Company:
    return Company.objects.create(ruc=RUC, legal_name="BODEGAS DEMO S.A.C.", address="AV. X 1", ubigeo="150101")


@pytest.mark.django_db
def test_company_certificate_is_stored_encrypted_and_loaded(dev_pfx):
    pfx, password = dev_pfx
    company = _company()
    loaded = company_certificate_set(company=company, pfx=pfx, password=password)
    account = SunatAccount.objects.get(company=company)
    assert account.certificate_subject == loaded.subject
    assert abs(account.certificate_expires_at - loaded.not_after) < dt.timedelta(seconds=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT certificate, certificate_password FROM sunat_accounts WHERE company_id = %s", [company.pk]
        )
        raw_cert, raw_password = cursor.fetchone()
    assert bytes(raw_cert) != pfx and pfx[:64] not in bytes(raw_cert)
    assert password not in raw_password
    fresh = Company.objects.get(pk=company.pk)
    first = company_certificate_load(company=fresh)
    assert first.subject == loaded.subject
    assert company_certificate_load(company=Company.objects.get(pk=company.pk)) is first  # cached


@pytest.mark.django_db
def test_replaced_certificate_is_picked_up(dev_pfx):
    pfx, password = dev_pfx
    company = _company()
    company_certificate_set(company=company, pfx=pfx, password=password)
    first = company_certificate_load(company=Company.objects.get(pk=company.pk))
    other_pfx, other_password = development_certificate_create(ruc=RUC, legal_name="OTRA RAZON S.A.C.")
    account = SunatAccount.objects.get(company=company)
    account.certificate, account.certificate_password = other_pfx, other_password
    account.save()
    second = company_certificate_load(company=Company.objects.get(pk=company.pk))
    assert second is not first
    assert "OTRA RAZON" in second.subject


@pytest.mark.django_db
def test_bad_certificate_changes_nothing(dev_pfx):
    pfx, password = dev_pfx
    company = _company()
    company_certificate_set(company=company, pfx=pfx, password=password)
    before = SunatAccount.objects.get(company=company)
    with pytest.raises(CertificateError, match="contraseña"):
        company_certificate_set(company=Company.objects.get(pk=company.pk), pfx=pfx, password="mala")
    after = SunatAccount.objects.get(company=company)
    assert after.certificate == before.certificate
    assert after.certificate_password == password
    assert after.certificate_subject == before.certificate_subject


@pytest.mark.django_db
def test_company_without_certificate():
    with pytest.raises(CertificateError, match="no tiene certificado"):
        company_certificate_load(company=_company())

"""SunatDocument admin: filters, search, attempts, XML/CDR downloads, tenancy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from stores.admin_scoping import membership_staff_sync
from stores.models import Company, Membership, Role, Store
from sunat.models import DocumentStatus, SunatAttempt, SunatDocument

pytestmark = pytest.mark.django_db

XML = '<?xml version="1.0" encoding="UTF-8"?>\n<Invoice>B001-5 ñ</Invoice>'.encode()


def make_company(ruc: str) -> tuple[Company, Store]:
    company = Company.objects.create(ruc=ruc, legal_name=f"EMPRESA {ruc}", address="AV 1", ubigeo="150101")
    store = Store.objects.create(company=company, code="0000", name="Central", address="AV 1", ubigeo="150101")
    return company, store


@pytest.fixture
def docs():
    mine, my_store = make_company("20000000001")
    other, other_store = make_company("20100066603")
    accepted = SunatDocument.objects.create(
        company=mine,
        store=my_store,
        document_type="03",
        series="B001",
        number=5,
        issued_at=datetime(2026, 11, 27, 15, tzinfo=UTC),
        snapshot={},
        status=DocumentStatus.ACCEPTED,
        signed_xml=XML,
        xml_hash="abc=",
        cdr_zip=b"PK-cdr",
        response_code="0",
        observations=[{"code": "4252", "text": "atributo"}],
    )
    pending = SunatDocument.objects.create(
        company=mine,
        store=my_store,
        document_type="01",
        series="F001",
        number=6,
        issued_at=datetime(2026, 11, 27, 16, tzinfo=UTC),
        snapshot={},
        status=DocumentStatus.PENDING,
    )
    foreign = SunatDocument.objects.create(
        company=other,
        store=other_store,
        document_type="03",
        series="B009",
        number=1,
        issued_at=datetime(2026, 11, 27, 17, tzinfo=UTC),
        snapshot={},
        status=DocumentStatus.ACCEPTED,
        signed_xml=XML,
        cdr_zip=b"PK-other",
    )
    SunatAttempt.objects.create(
        company=mine,
        document=accepted,
        operation="sendBill",
        started_at=datetime(2026, 11, 27, 15, 1, tzinfo=UTC),
        duration_ms=120,
        code="0",
        description="La Boleta numero B001-5, ha sido aceptada",
        category="accepted",
    )
    return {"mine": mine, "accepted": accepted, "pending": pending, "foreign": foreign}


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(user)
    return client


@pytest.fixture
def company_admin_client(client, docs):
    user = get_user_model().objects.create_user("jefa", password="x")
    Membership.objects.create(user=user, company=docs["mine"], role=Role.COMPANY_ADMIN)
    membership_staff_sync(user=user)
    client.force_login(user)
    return client


def changelist(client, **params):
    return client.get(reverse("admin:sunat_sunatdocument_changelist"), params)


def test_changelist_filters_by_status_and_type_and_searches_numbers(superuser_client, docs):
    body = changelist(superuser_client).content.decode()
    assert "B001-5" in body and "F001-6" in body and "B009-1" in body
    body = changelist(superuser_client, status__exact="pending").content.decode()
    assert "F001-6" in body and "B001-5" not in body
    body = changelist(superuser_client, document_type__exact="03").content.decode()
    assert "B001-5" in body and "F001-6" not in body
    body = changelist(superuser_client, q="B001-5").content.decode()
    assert "B001-5" in body and "F001-6" not in body and "B009-1" not in body
    body = changelist(superuser_client, q="20100066603").content.decode()
    assert "B009-1" in body and "B001-5" not in body


def test_change_page_shows_answer_attempts_and_download_links(superuser_client, docs):
    url = reverse("admin:sunat_sunatdocument_change", args=[docs["accepted"].pk])
    body = superuser_client.get(url).content.decode()
    assert "La Boleta numero B001-5, ha sido aceptada" in body  # attempts inline
    assert "4252 - atributo" in body
    assert reverse("admin:sunat_sunatdocument_xml", args=[docs["accepted"].pk]) in body
    assert reverse("admin:sunat_sunatdocument_cdr", args=[docs["accepted"].pk]) in body


def test_downloads_are_the_exact_stored_bytes(superuser_client, docs):
    response = superuser_client.get(reverse("admin:sunat_sunatdocument_xml", args=[docs["accepted"].pk]))
    assert response.status_code == 200 and response.content == XML
    assert 'filename="20000000001-03-B001-5.xml"' in response["Content-Disposition"]
    response = superuser_client.get(reverse("admin:sunat_sunatdocument_cdr", args=[docs["accepted"].pk]))
    assert response.content == b"PK-cdr"
    assert 'filename="R-20000000001-03-B001-5.zip"' in response["Content-Disposition"]
    missing = superuser_client.get(reverse("admin:sunat_sunatdocument_cdr", args=[docs["pending"].pk]))
    assert missing.status_code == 404


def test_company_admin_sees_only_their_documents(company_admin_client, docs):
    body = changelist(company_admin_client).content.decode()
    assert "B001-5" in body and "B009-1" not in body
    foreign = docs["foreign"].pk
    assert company_admin_client.get(reverse("admin:sunat_sunatdocument_xml", args=[foreign])).status_code == 404
    assert company_admin_client.get(reverse("admin:sunat_sunatdocument_cdr", args=[foreign])).status_code == 404
    own = company_admin_client.get(reverse("admin:sunat_sunatdocument_xml", args=[docs["accepted"].pk]))
    assert own.status_code == 200 and own.content == XML
    change = company_admin_client.get(reverse("admin:sunat_sunatdocument_change", args=[foreign]))
    assert change.status_code in (302, 404)


def test_documents_cannot_be_added_or_deleted(superuser_client, docs):
    assert superuser_client.get(reverse("admin:sunat_sunatdocument_add")).status_code == 403
    url = reverse("admin:sunat_sunatdocument_delete", args=[docs["accepted"].pk])
    assert superuser_client.get(url).status_code == 403


def test_company_admin_can_search_by_number_and_ruc(company_admin_client, docs):
    body = changelist(company_admin_client, q="5").content.decode()
    assert "B001-5" in body and "B009-1" not in body
    body = changelist(company_admin_client, q="B009-1").content.decode()
    assert "0 resultados" in body  # another company's number is not found
    body = changelist(company_admin_client, q="20000000001").content.decode()
    assert "B001-5" in body and "F001-6" in body

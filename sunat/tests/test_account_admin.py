"""The SUNAT account admin: write-only secrets, certificate upload, the audit event, tenancy."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from stores.admin_scoping import membership_staff_sync
from stores.models import AuditEvent, Company, Membership, Role, Store
from sunat.certificates import development_certificate_create
from sunat.models import SunatAccount

pytestmark = pytest.mark.django_db


def company_create(ruc: str) -> Company:
    company = Company.objects.create(ruc=ruc, legal_name=f"EMPRESA {ruc}", address="AV 1", ubigeo="150101")
    Store.objects.create(company=company, code="0000", name="Central", address="AV 1", ubigeo="150101")
    return company


def staff_login(client, *, company: Company, role: str = Role.COMPANY_ADMIN) -> None:
    user = get_user_model().objects.create_user(f"{role}-{company.ruc}", password="x")
    store = None if role == Role.COMPANY_ADMIN else Store.objects.get(company=company)
    Membership.objects.create(user=user, company=company, store=store, role=role)
    membership_staff_sync(user=user)
    client.force_login(user)


@pytest.fixture
def mine() -> SunatAccount:
    company = company_create("20000000001")
    return SunatAccount.objects.create(company=company, sol_user="MODDATOS", sol_password="VIEJA")


def change_url(account: SunatAccount) -> str:
    return reverse("admin:sunat_sunataccount_change", args=[account.pk])


def post_data(**overrides) -> dict:
    return {"sol_user": "MODDATOS", "new_sol_password": "", "new_certificate_password": "", **overrides}


def secrets_events(company: Company) -> list[dict]:
    return list(
        AuditEvent.objects.filter(company=company, action="company.secrets_change").values_list("data", flat=True)
    )


def test_secrets_are_never_displayed(client, mine):
    mine.certificate_password = "SECRETO-CERT-456"
    mine.sol_password = "SECRETO-SOL-123"
    mine.save()
    staff_login(client, company=mine.company)
    for url in (reverse("admin:sunat_sunataccount_changelist"), change_url(mine)):
        html = client.get(url).content.decode()
        assert "SECRETO-SOL-123" not in html and "SECRETO-CERT-456" not in html
    html = client.get(change_url(mine)).content.decode()
    assert 'name="new_sol_password"' in html and 'name="sol_password"' not in html


def test_empty_secret_inputs_keep_the_stored_values_and_a_new_one_is_audited(client, mine):
    staff_login(client, company=mine.company)
    assert client.post(change_url(mine), post_data(sol_user="OTRO")).status_code == 302
    mine.refresh_from_db()
    assert (mine.sol_user, mine.sol_password) == ("OTRO", "VIEJA")
    assert secrets_events(mine.company) == []  # the user is not a secret
    assert client.post(change_url(mine), post_data(new_sol_password="NUEVA")).status_code == 302
    mine.refresh_from_db()
    assert mine.sol_password == "NUEVA"
    assert secrets_events(mine.company) == [{"changed": ["sol_password"]}]


def test_certificate_upload_is_validated_stored_encrypted_and_audited(client, mine):
    company = mine.company
    pfx, password = development_certificate_create(ruc=company.ruc, legal_name=company.legal_name)
    staff_login(client, company=company)

    def upload(name: str, data: bytes, pw: str):
        return client.post(
            change_url(mine),
            {**post_data(new_certificate_password=pw), "certificate_file": SimpleUploadedFile(name, data)},
        )

    wrong = upload("c.pfx", pfx, "no-es")
    assert wrong.status_code == 200 and "contraseña del certificado es incorrecta" in wrong.content.decode()
    not_pfx = upload("c.txt", b"x", password)
    assert not_pfx.status_code == 200 and "archivo .pfx o .p12" in not_pfx.content.decode()
    mine.refresh_from_db()
    assert not mine.certificate and secrets_events(company) == []

    assert upload("c.pfx", pfx, password).status_code == 302
    mine.refresh_from_db()
    assert bytes(mine.certificate) == pfx and mine.certificate_password == password
    assert company.ruc in mine.certificate_subject and mine.certificate_expires_at is not None
    assert secrets_events(company) == [{"changed": ["certificate"]}]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT certificate, certificate_password FROM sunat_accounts WHERE company_id = %s", [company.pk]
        )
        raw_cert, raw_password = cursor.fetchone()
    assert bytes(raw_cert) != pfx and password not in raw_password  # encrypted at rest


def test_a_company_admin_adds_the_account_of_their_company_only(client, mine):
    other = company_create("20100066603")
    fresh = company_create("20100070970")
    Membership.objects.create(
        user=get_user_model().objects.create_user("jefe-dos", password="x"), company=fresh, role=Role.COMPANY_ADMIN
    )
    staff_login(client, company=other)
    add = reverse("admin:sunat_sunataccount_add")
    refused = client.post(add, post_data(company=fresh.pk, new_sol_password="x"))
    assert refused.status_code == 200 and not SunatAccount.objects.filter(company=fresh).exists()
    assert client.post(add, post_data(company=other.pk, new_sol_password="CLAVE")).status_code == 302
    assert SunatAccount.objects.get(company=other).sol_password == "CLAVE"
    assert secrets_events(other) == [{"changed": ["sol_password"]}]
    # Another company's account answers like a missing one.
    assert client.get(change_url(mine)).status_code in (302, 404)
    assert client.post(change_url(mine), post_data(new_sol_password="AJENA")).status_code in (302, 403, 404)
    mine.refresh_from_db()
    assert mine.sol_password == "VIEJA"


def test_a_store_manager_sees_the_account_read_only_without_secret_inputs(client, mine):
    staff_login(client, company=mine.company, role=Role.STORE_MANAGER)
    response = client.get(change_url(mine))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="new_sol_password"' not in html and 'name="certificate_file"' not in html
    assert client.post(change_url(mine), post_data(new_sol_password="X")).status_code == 403
    mine.refresh_from_db()
    assert mine.sol_password == "VIEJA" and secrets_events(mine.company) == []

"""Admin of the stores app: tenant scoping, staff roles; the company knows nothing of SUNAT."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from sales.tests.factories import cashier_make, company_make, store_make
from stores.admin_scoping import COMPANY_ADMIN_GROUP, STORE_MANAGER_GROUP, membership_staff_sync
from stores.models import Company, DocumentSeries, Membership, Register, Role, Store

ADMIN = "/admin"


def staff(*, company, store=None, role=Role.COMPANY_ADMIN, username=None):
    user = get_user_model().objects.create_user(
        username=username or f"{role}-{company.pk}-{store.pk if store else 0}", password="x"
    )
    Membership.objects.create(user=user, company=company, store=store, role=role)
    membership_staff_sync(user=user)
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def two_companies(db):
    a = company_make()
    b = company_make(ruc="20100070970", name="Otra Empresa S.A.")
    a1, ra1 = store_make(company=a, code="0000", n=1)
    a2, ra2 = store_make(company=a, code="0001", n=2)
    b1, rb1 = store_make(company=b, code="0000", n=3)
    return {"a": a, "b": b, "a1": a1, "a2": a2, "b1": b1, "ra1": ra1, "ra2": ra2, "rb1": rb1}


def company_post_data(company: Company, **overrides) -> dict:
    data = {
        "ruc": company.ruc,
        "legal_name": company.legal_name,
        "trade_name": company.trade_name,
        "address": company.address,
        "ubigeo": company.ubigeo,
        "department": company.department,
        "province": company.province,
        "district": company.district,
        "is_active": "on" if company.is_active else "",
        "cash_difference_threshold": str(company.cash_difference_threshold),
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------- roles


def test_company_admins_and_store_managers_are_staff_cashiers_are_not(two_companies):
    boss = staff(company=two_companies["a"])
    manager = staff(company=two_companies["a"], store=two_companies["a1"], role=Role.STORE_MANAGER)
    cashier = cashier_make(store=two_companies["a1"])
    membership_staff_sync(user=cashier)
    assert boss.is_staff and set(boss.groups.values_list("name", flat=True)) == {COMPANY_ADMIN_GROUP}
    assert manager.is_staff and set(manager.groups.values_list("name", flat=True)) == {STORE_MANAGER_GROUP}
    assert not get_user_model().objects.get(pk=cashier.pk).is_staff
    assert boss.has_perm("stores.change_company") and not manager.has_perm("stores.change_company")
    assert manager.has_perm("sales.change_storeproduct") and not manager.has_perm("sales.change_product")


def test_losing_the_last_staff_membership_removes_staff(two_companies):
    manager = staff(company=two_companies["a"], store=two_companies["a1"], role=Role.STORE_MANAGER)
    Membership.objects.filter(user=manager).delete()
    membership_staff_sync(user=manager)
    manager.refresh_from_db()
    assert not manager.is_staff and not manager.groups.exists()


def test_cashier_cannot_enter_the_admin(client, two_companies):
    client.force_login(cashier_make(store=two_companies["a1"]))
    response = client.get(f"{ADMIN}/stores/store/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# ----------------------------------------------------------------------------- scoping


def test_company_admin_lists_only_their_companys_stores(client, two_companies):
    client.force_login(staff(company=two_companies["a"]))
    html = client.get(f"{ADMIN}/stores/store/").content.decode()
    assert "Tienda 1" in html and "Tienda 2" in html and "Tienda 3" not in html
    assert "Otra Empresa" not in html  # not even in the sidebar filters


def test_list_filters_offer_only_the_users_stores(client, two_companies):
    client.force_login(staff(company=two_companies["a"], store=two_companies["a1"], role=Role.STORE_MANAGER))
    html = client.get(f"{ADMIN}/stores/register/").content.decode()
    assert "Tienda 1" in html and "Tienda 2" not in html and "Tienda 3" not in html


def test_another_companys_store_looks_exactly_like_a_missing_one(client, two_companies):
    client.force_login(staff(company=two_companies["a"]))
    foreign = client.get(f"{ADMIN}/stores/store/{two_companies['b1'].pk}/change/")
    missing = client.get(f"{ADMIN}/stores/store/999999/change/")
    assert foreign.status_code == missing.status_code == 302
    assert foreign["Location"] == missing["Location"]


def test_store_manager_sees_only_their_store_rows(client, two_companies):
    client.force_login(staff(company=two_companies["a"], store=two_companies["a1"], role=Role.STORE_MANAGER))
    html = client.get(f"{ADMIN}/stores/register/").content.decode()
    assert f"/stores/register/{two_companies['ra1'].pk}/" in html
    assert f"/stores/register/{two_companies['ra2'].pk}/" not in html
    html = client.get(f"{ADMIN}/stores/documentseries/").content.decode()
    assert "B001" in html and "B002" not in html and "B003" not in html


def test_superuser_sees_every_company(client, two_companies):
    root = get_user_model().objects.create_superuser(username="root", password="x")
    client.force_login(root)
    html = client.get(f"{ADMIN}/stores/company/").content.decode()
    assert "20000000001" in html and "20100070970" in html


def test_register_store_choices_are_scoped_and_a_foreign_store_is_refused(client, two_companies):
    client.force_login(staff(company=two_companies["a"]))
    form = client.get(f"{ADMIN}/stores/register/add/").content.decode()
    assert f'value="{two_companies["a1"].pk}"' in form
    assert f'value="{two_companies["b1"].pk}"' not in form
    response = client.post(
        f"{ADMIN}/stores/register/add/",
        {
            "store": two_companies["b1"].pk,
            "code": "CAJA9",
            "name": "",
            "is_active": "on",
            "series-TOTAL_FORMS": "0",
            "series-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Escoja una opción válida" in response.content.decode()
    assert not Register.objects.filter(code="CAJA9").exists()


def test_company_admin_adds_a_register_with_series_company_filled_from_store(client, two_companies):
    client.force_login(staff(company=two_companies["a"]))
    response = client.post(
        f"{ADMIN}/stores/register/add/",
        {
            "store": two_companies["a2"].pk,
            "code": "CAJA2",
            "name": "Caja 2",
            "is_active": "on",
            "series-TOTAL_FORMS": "2",
            "series-INITIAL_FORMS": "0",
            "series-0-document_type": "03",
            "series-0-series": "B022",
            "series-1-document_type": "01",
            "series-1-series": "F001",  # already used by store A1's register
        },
    )
    assert response.status_code == 200
    assert "Esta serie ya existe en la empresa." in response.content.decode()
    assert not Register.objects.filter(code="CAJA2").exists()

    response = client.post(
        f"{ADMIN}/stores/register/add/",
        {
            "store": two_companies["a2"].pk,
            "code": "CAJA2",
            "name": "Caja 2",
            "is_active": "on",
            "series-TOTAL_FORMS": "2",
            "series-INITIAL_FORMS": "0",
            "series-0-document_type": "03",
            "series-0-series": "B022",
            "series-1-document_type": "01",
            "series-1-series": "F022",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    register = Register.objects.get(code="CAJA2")
    assert register.company_id == two_companies["a"].pk and register.store_id == two_companies["a2"].pk
    series = DocumentSeries.objects.filter(register=register)
    assert {(s.series, s.store_id, s.company_id, s.last_number) for s in series} == {
        ("B022", two_companies["a2"].pk, two_companies["a"].pk, 0),
        ("F022", two_companies["a2"].pk, two_companies["a"].pk, 0),
    }


def test_series_correlative_is_read_only(client, two_companies):
    client.force_login(staff(company=two_companies["a"]))
    series = DocumentSeries.objects.get(series="B001")
    html = client.get(f"{ADMIN}/stores/documentseries/{series.pk}/change/").content.decode()
    assert 'name="last_number"' not in html


def test_a_series_with_documents_cannot_be_renamed(client, two_companies):
    client.force_login(staff(company=two_companies["a"]))
    series = DocumentSeries.objects.get(series="B001")
    DocumentSeries.objects.filter(pk=series.pk).update(last_number=3)
    url = f"{ADMIN}/stores/documentseries/{series.pk}/change/"
    response = client.post(url, {"register": series.register_id, "document_type": "03", "series": "B009"})
    assert response.status_code == 200 and "ya tiene comprobantes" in response.content.decode()
    assert DocumentSeries.objects.get(pk=series.pk).series == "B001"


# ------------------------------------------------------------------------------ memberships


def test_store_manager_adds_cashiers_of_their_store_only(client, two_companies):
    a, a1, a2 = two_companies["a"], two_companies["a1"], two_companies["a2"]
    manager = staff(company=a, store=a1, role=Role.STORE_MANAGER)
    newbie = get_user_model().objects.create_user(username="nuevo", password="x")
    client.force_login(manager)
    url = f"{ADMIN}/stores/membership/add/"

    escalate = client.post(url, {"user": newbie.pk, "company": a.pk, "store": a1.pk, "role": Role.COMPANY_ADMIN})
    assert escalate.status_code == 200 and "Solo puede asignar el rol de cajero." in escalate.content.decode()
    other_store = client.post(url, {"user": newbie.pk, "company": a.pk, "store": a2.pk, "role": Role.CASHIER})
    assert other_store.status_code == 200
    assert not Membership.objects.filter(user=newbie).exists()

    ok = client.post(url, {"user": newbie.pk, "company": a.pk, "store": a1.pk, "role": Role.CASHIER})
    assert ok.status_code == 302
    assert Membership.objects.filter(user=newbie, store=a1, role=Role.CASHIER).exists()
    newbie.refresh_from_db()
    assert not newbie.is_staff


def test_company_admin_makes_a_store_manager_who_becomes_staff(client, two_companies):
    a, a2 = two_companies["a"], two_companies["a2"]
    client.force_login(staff(company=a))
    user = get_user_model().objects.create_user(username="gerente", password="x")
    response = client.post(
        f"{ADMIN}/stores/membership/add/",
        {"user": user.pk, "company": a.pk, "store": a2.pk, "role": Role.STORE_MANAGER},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_staff and user.groups.filter(name=STORE_MANAGER_GROUP).exists()


def test_membership_user_choices_never_offer_superusers_or_other_companies_staff(client, two_companies):
    get_user_model().objects.create_superuser(username="root", password="x")
    other = staff(company=two_companies["b"], username="jefe-b")
    client.force_login(staff(company=two_companies["a"]))
    html = client.get(f"{ADMIN}/stores/membership/add/").content.decode()
    assert ">root<" not in html and f'value="{other.pk}"' not in html


# ---------------------------------------------------------------------------- the company


def test_company_admin_edits_the_company_which_has_no_sunat_fields(client, two_companies):
    """SUNAT credentials, certificate and pause state are the sunat admin's (SunatAccount)."""
    a = two_companies["a"]
    client.force_login(staff(company=a))
    url = f"{ADMIN}/stores/company/{a.pk}/change/"
    html = client.get(url).content.decode()
    for text in (
        'name="sol_user"',
        'name="new_sol_password"',
        'name="certificate_file"',
        "Certificado digital",
        "Envíos a SUNAT",
    ):
        assert text not in html, text
    assert client.post(url, company_post_data(a, trade_name="Bodega Uno")).status_code == 302
    assert Company.objects.get(pk=a.pk).trade_name == "Bodega Uno"


def test_store_manager_sees_the_company_read_only(client, two_companies):
    a = two_companies["a"]
    client.force_login(staff(company=a, store=two_companies["a1"], role=Role.STORE_MANAGER))
    response = client.get(f"{ADMIN}/stores/company/{a.pk}/change/")
    assert response.status_code == 200 and 'name="legal_name"' not in response.content.decode()
    assert (
        client.post(f"{ADMIN}/stores/company/{a.pk}/change/", company_post_data(a, legal_name="X")).status_code == 403
    )
    assert Company.objects.get(pk=a.pk).legal_name != "X"
    assert Store.objects.filter(company=a).count() == 2


def test_every_stores_and_sales_model_has_a_tenant_scoped_admin():
    from django.apps import apps
    from django.contrib import admin

    from stores.admin_scoping import TenantScopedAdmin

    # Machinery nobody reads in the admin: the PIN-failure counter, the audit chain's head (the
    # events have their admin), the stored answers of idempotent requests.
    internal = {"stores.approvalfailure", "stores.auditchain", "sales.idempotentrequest"}
    for app_label in ("stores", "sales"):
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.label_lower in internal:
                continue
            assert model in admin.site._registry, f"{model._meta.label} has no admin"
            assert isinstance(admin.site._registry[model], TenantScopedAdmin), model._meta.label


def test_migrate_gives_existing_staff_groups_the_permissions_a_release_added(two_companies):
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    membership_staff_sync(user=staff(company=two_companies["a"]))
    group = Group.objects.get(name=COMPANY_ADMIN_GROUP)
    group.permissions.clear()  # as a group made by a release without the newer models
    call_command("migrate", verbosity=0)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert {"stores.change_company", "sunat.change_sunataccount"} <= granted

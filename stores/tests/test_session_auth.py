"""``stores.session_auth``: the session and user reads without a QuerySet give what Django's
``db`` engine and ``ModelBackend`` give, refusals included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from sales.tests.factories import cashier_make, company_make, store_make
from stores.session_auth import SessionStore, UserBackend

pytestmark = pytest.mark.django_db


def _user(username: str = "ana", **fields):
    return get_user_model().objects.create_user(username=username, password="secreto-123", **fields)


def test_the_settings_use_them():
    assert settings.SESSION_ENGINE == "stores.session_auth"
    assert settings.AUTHENTICATION_BACKENDS == ["stores.session_auth.UserBackend"]


def test_a_saved_session_loads_its_data():
    session = SessionStore()
    session["_auth_user_id"] = "7"
    session.save()
    loaded = SessionStore(session.session_key)
    assert loaded.load() == {"_auth_user_id": "7"}
    assert loaded.session_key == session.session_key


@pytest.mark.parametrize("case", ["expired", "unknown", "none"])
def test_an_expired_or_unknown_session_loads_empty_and_drops_its_key(case):
    session = SessionStore()
    session["_auth_user_id"] = "7"
    session.save()
    key = {"expired": session.session_key, "unknown": "x" * 32, "none": None}[case]
    if case == "expired":
        Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    loaded = SessionStore(key)
    assert loaded.load() == {}
    assert loaded.session_key is None


def test_data_that_fails_its_signature_loads_empty():
    session = SessionStore()
    session["_auth_user_id"] = "7"
    session.save()
    Session.objects.filter(session_key=session.session_key).update(session_data="tampered:abc")
    assert SessionStore(session.session_key).load() == {}


def test_get_user_reads_the_same_user_as_model_backend():
    user = _user(first_name="Ana", email="ana@example.pe", is_staff=True)
    ours, django = UserBackend().get_user(user.pk), ModelBackend().get_user(user.pk)
    assert ours is not None and ours._state.adding is False and ours._state.db == "default"
    fields = [f.attname for f in get_user_model()._meta.concrete_fields]
    assert {f: getattr(ours, f) for f in fields} == {f: getattr(django, f) for f in fields}
    assert UserBackend().get_user(str(user.pk)).pk == user.pk  # the session keeps the id as text


@pytest.mark.parametrize("user_id", ["no-es-un-id", None, 10**9])
def test_get_user_refuses_a_malformed_or_missing_id(user_id):
    _user()
    assert UserBackend().get_user(user_id) is None


def test_get_user_refuses_an_inactive_user():
    user = _user(is_active=False)
    assert UserBackend().get_user(user.pk) is None


def test_a_signed_in_cashier_is_recognised_and_a_password_change_signs_other_sessions_out():
    store, _ = store_make(company=company_make())
    user = cashier_make(store=store, username="ana")
    user.set_password("secreto-123")
    user.save()
    client = Client()
    assert client.login(username="ana", password="secreto-123")
    assert client.get("/pos/").status_code == 200
    user.set_password("otra-clave-456")
    user.save()
    response = client.get("/pos/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_wrong_password_is_refused():
    _user()
    assert Client().login(username="ana", password="equivocada") is False

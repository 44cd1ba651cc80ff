"""The two reads behind every signed-in request, the session row and the user row, without
building a ``QuerySet`` for each.

Django's ``db`` session engine and ``ModelBackend.get_user`` each build, compile and run a
``QuerySet.get()`` on every request; here each is one cursor ``SELECT``, the user's read back
with ``Model.from_db`` (``stores.rows.columns_select``, which refuses a user model whose fields
need converters). What that saves per checkout is measured in docs/performance.md ("A lean
checkout"). Only the reads change: sessions are still created, saved, rotated, flushed and
expired by Django's ``db`` engine, and passwords, permissions and the session-hash check stay
with ``ModelBackend`` and ``django.contrib.auth.get_user``.

Settings: ``SESSION_ENGINE = "stores.session_auth"`` and ``AUTHENTICATION_BACKENDS =
["stores.session_auth.UserBackend"]`` (alone: a second backend would hash a wrong password
twice). A session signed in through another backend path is not honoured after a switch: its
cashier signs in again.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db import connection, connections, router
from django.db.models import Model
from django.utils import timezone

from stores.rows import columns_select


@cache
def _session_select(model: type[Model], using: str) -> str:
    quote = connections[using].ops.quote_name
    data, key, expiry = (
        quote(model._meta.get_field(name).column) for name in ("session_data", "session_key", "expire_date")
    )
    return f"SELECT {data} FROM {quote(model._meta.db_table)} WHERE {key} = %s AND {expiry} > %s"


@cache
def _user_select(model: type[Model]) -> tuple[list[str], str]:
    names, columns = columns_select(model=model, alias="u")
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    return names, f"SELECT {columns} FROM {table} u WHERE u.{pk} = %s"


class SessionStore(db.SessionStore):
    """Django's database session; ``load()`` reads the row with one cursor ``SELECT``.

    Same outcome as ``db.SessionStore.load()``: an unknown or expired key loads an empty session
    and drops the key (saving then creates a new one); data that fails its signature decodes to
    an empty session, as Django's ``decode()`` does."""

    def load(self) -> dict[str, Any]:
        using = router.db_for_read(self.model)
        with connections[using].cursor() as cursor:
            cursor.execute(_session_select(self.model, using), [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])


class UserBackend(ModelBackend):
    """``ModelBackend`` whose per-request ``get_user()`` reads the row with one cursor ``SELECT``."""

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        if pk is None:
            return None
        names, sql = _user_select(model)
        using = router.db_for_read(model)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        user = model.from_db(using, names, row)
        return user if self.user_can_authenticate(user) else None

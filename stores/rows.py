"""Plain SQL for model rows on the till's hot path: the column list of a cursor ``SELECT`` read back
with ``Model.from_db``, and one ``INSERT … VALUES`` for unsaved instances of one model.

They live in ``stores``, the lowest app, because every app may import it: the register read
(``stores.selectors``), the sale's rows (``sales.services.checkout``) and the SUNAT document and
job it issues (``sunat.services.issue``) share them. The saving they pay for is measured in
docs/performance.md ("A lean checkout"); ``stores/tests/test_rows.py`` holds each ``INSERT`` to
what ``save()`` writes from the same instance.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import NOT_PROVIDED, Field, ForeignKey, Model


def columns_select(*, model: type[Model], alias: str) -> tuple[list[str], str]:
    """``model``'s concrete fields' attribute names, in order, and their columns qualified by
    ``alias`` for a ``SELECT``: a row read in that order is ``model.from_db(alias, names, row)``.

    A cursor row skips the converters a ``QuerySet`` applies (``from_db_value``, the backend's),
    so a model with a field that has one is refused here, where the reader builds its SQL."""
    fields = model._meta.concrete_fields
    converted = [f.name for f in fields if f.get_db_converters(connection) or _backend_converters(model, f)]
    if converted:
        raise TypeError(f"columns_select: {model.__name__} has fields read through converters: {converted}")
    quote = connection.ops.quote_name
    return [f.attname for f in fields], ", ".join(f"{alias}.{quote(f.column)}" for f in fields)


def _backend_converters(model: type[Model], field: Field) -> list:
    return connection.ops.get_db_converters(field.get_col(model._meta.db_table))


def rows_insert(objs: Sequence[Model], *, returning: bool = False) -> None:
    """Insert ``objs`` (unsaved instances of one model) with one ``INSERT``, in the caller's
    transaction, waited for: a database error is Django's and is raised here.

    The statement's text is built once per model, row count and ``returning``. Values go through
    each field's ``pre_save(add=True)`` and ``get_db_prep_save()``, as with ``save()``; a foreign
    key whose object was saved after it was assigned takes that object's key. Columns with a
    database default (``db_default``) are left to the database and read back onto the objects,
    as ``save()`` does; with ``returning``, so are the primary keys. No signals are sent (the
    models written here have no receivers). Generated fields are refused. The objects are then
    marked saved (``Model._state``)."""
    if not objs:
        return
    model = type(objs[0])
    fields, back, keys = _insert_fields(model), _returned_fields(model, returning), _foreign_keys(model)
    for obj in objs:
        for field in keys:
            if getattr(obj, field.attname) is None:
                related = field.get_cached_value(obj, None)
                if related is not None:
                    setattr(obj, field.attname, related.pk)
    # The connection itself, not the ``django.db.connection`` proxy: the preparation of decimals,
    # dates, keys and JSON reads ``connection.ops``, through the proxy a thread-local lookup each.
    db = connections[DEFAULT_DB_ALIAS]
    params = [field.get_db_prep_save(field.pre_save(obj, add=True), db) for obj in objs for field in fields]
    with db.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objs), returning), params)
        rows = cursor.fetchall() if back else []
    for n, obj in enumerate(objs):
        if back:
            for field, value in zip(back, rows[n], strict=True):
                setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = db.alias


@functools.cache
def _insert_fields(model: type[Model]) -> list[Field]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    generated = [f.name for f in fields if f.generated]
    if generated:
        raise TypeError(f"rows_insert: {model.__name__} has generated fields: {generated}")
    return [f for f in fields if f.db_default is NOT_PROVIDED]


@functools.cache
def _foreign_keys(model: type[Model]) -> list[ForeignKey]:
    return [f for f in _insert_fields(model) if isinstance(f, ForeignKey)]


@functools.cache
def _returned_fields(model: type[Model], returning: bool) -> list[Field]:
    defaults = [f for f in model._meta.concrete_fields if f.db_default is not NOT_PROVIDED and not f.primary_key]
    return [model._meta.pk, *defaults] if returning else defaults


@functools.lru_cache(maxsize=256)
def _insert_sql(model: type[Model], rows: int, returning: bool) -> str:
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * rows)}"
    )
    back = _returned_fields(model, returning)
    return sql + f" RETURNING {', '.join(quote(f.column) for f in back)}" if back else sql

"""Plain SQL for model rows on the till's hot path: the column list of a cursor ``SELECT`` read back
with ``Model.from_db``, and one ``INSERT`` statement for unsaved instances of one model, with the
rows that hang from it if there is one parent.

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
from django.db.models.fields import AutoFieldMixin


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


def rows_insert(objs: Sequence[Model], *, returning: bool = False, children: Sequence[Model] = ()) -> None:
    """Insert ``objs`` (unsaved instances of one model) with one ``INSERT``, in the caller's
    transaction, waited for: a database error is Django's and is raised here.

    ``children`` (unsaved rows of other models, each with exactly one foreign key, not one-to-one,
    to ``objs``'s model's primary key and an auto-incremented key of their own) go in the same statement, under
    one parent (``objs`` is then one row): ``WITH parent AS (INSERT … RETURNING), child0 AS
    (INSERT … VALUES (…, (SELECT pk FROM parent), …) RETURNING pk), … SELECT … FROM parent``. Each
    child gets the parent (as ``save()`` leaves it) and its own new key: a sequence draws keys in
    row order, so they are read back sorted. psycopg parses a statement of more than 50
    parameters again on every run, so children suit a parent with few of them
    (docs/performance.md, "One statement for a parent and its children").

    The statement's text is built once per shape (models, row counts, ``returning``). Values go
    through each field's ``pre_save(add=True)`` and ``get_db_prep_save()``, as with ``save()``; a
    foreign key whose object was saved after it was assigned takes that object's key. Columns with a database default (``db_default``) are left to the database; the parent's
    are read back onto it, as ``save()`` does, and with ``returning`` (or children) its primary
    key too; a child's are not read back but left deferred, loaded from its row when first read.
    No signals are sent (the models written here have no receivers). Generated fields are
    refused. All the objects are then marked saved (``Model._state``)."""
    if children and len(objs) != 1:
        raise ValueError("rows_insert: children need exactly one parent row")
    if not objs:
        return
    model = type(objs[0])
    groups: dict[type[Model], list[Model]] = {}
    for child in children:
        groups.setdefault(type(child), []).append(child)
    child_fields = {child_model: _child_fields(child_model, model) for child_model in groups}  # refuses first
    returning = returning or bool(groups)  # the children's key is the parent's new primary key
    back = _returned_fields(model, returning)
    # The connection itself, not the ``django.db.connection`` proxy: the preparation of decimals,
    # dates, keys and JSON reads ``connection.ops``, through the proxy a thread-local lookup each.
    db = connections[DEFAULT_DB_ALIAS]
    _keys_fill(objs)
    params = [
        field.get_db_prep_save(field.pre_save(obj, add=True), db) for obj in objs for field in _insert_fields(model)
    ]
    for child_model, rows in groups.items():
        _keys_fill(rows)
        fields = child_fields[child_model]
        params += [field.get_db_prep_save(field.pre_save(row, add=True), db) for row in rows for field in fields]
    shape = tuple((child_model, len(rows)) for child_model, rows in groups.items())
    with db.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objs), returning, shape), params)
        returned = cursor.fetchall() if back else []
    for n, obj in enumerate(objs):
        if back:
            for field, value in zip(back, returned[n][: len(back)], strict=True):
                setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = db.alias
    for (child_model, rows), keys in zip(groups.items(), returned[0][len(back) :] if groups else (), strict=True):
        key, deferred = _parent_key(child_model, model), _db_defaults(child_model)
        for row, pk in zip(rows, keys, strict=True):
            row.pk = pk
            _parent_set(row, key, objs[0])
            for field in deferred:
                row.__dict__.pop(field.attname, None)
            row._state.adding = False
            row._state.db = db.alias


def _keys_fill(objs: Sequence[Model]) -> None:
    """A foreign key whose object was saved after it was assigned takes that object's key: the
    object cached on the instance under the field's ``cache_name`` (``FieldCacheMixin``'s key),
    read with ``dict.get``, so a key built by id, with nothing cached, costs no exception."""
    for obj in objs:
        cached = obj._state.fields_cache
        if not cached:
            continue
        for field in _foreign_keys(type(obj)):
            related = cached.get(field.cache_name)
            if related is not None and getattr(obj, field.attname) is None:
                setattr(obj, field.attname, related.pk)


def _parent_set(row: Model, key: ForeignKey, parent: Model) -> None:
    """``row.<key> = parent`` for a parent just inserted on the row's own connection, as the
    many-to-one descriptor leaves it (the key and the cached object) without its checks: the
    type and the kind of key are ``_parent_key``'s, and both rows are written to one database."""
    setattr(row, key.attname, parent.pk)
    key.set_cached_value(row, parent)


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
def _parent_key(model: type[Model], parent: type[Model]) -> ForeignKey:
    keys = [f for f in _foreign_keys(model) if f.related_model is parent]
    if len(keys) != 1:
        raise TypeError(f"rows_insert: {model.__name__} needs exactly one key to {parent.__name__}, has {len(keys)}")
    if keys[0].one_to_one:
        raise TypeError(f"rows_insert: {model.__name__}.{keys[0].name} is one-to-one; children hang many to a parent")
    if keys[0].target_field is not parent._meta.pk:
        raise TypeError(f"rows_insert: {model.__name__}.{keys[0].name} must point at {parent.__name__}'s primary key")
    if not isinstance(model._meta.pk, AutoFieldMixin):
        raise TypeError(f"rows_insert: {model.__name__}'s primary key must come from a sequence (an AutoField)")
    return keys[0]


@functools.cache
def _child_fields(model: type[Model], parent: type[Model]) -> list[Field]:
    """A child's parameters: its insert fields but the key to the parent (read in the statement)."""
    key = _parent_key(model, parent)
    return [f for f in _insert_fields(model) if f is not key]


@functools.cache
def _db_defaults(model: type[Model]) -> list[Field]:
    return [f for f in model._meta.concrete_fields if f.db_default is not NOT_PROVIDED and not f.primary_key]


@functools.cache
def _returned_fields(model: type[Model], returning: bool) -> list[Field]:
    return [model._meta.pk, *_db_defaults(model)] if returning else _db_defaults(model)


@functools.lru_cache(maxsize=256)
def _insert_sql(
    model: type[Model], rows: int, returning: bool, children: tuple[tuple[type[Model], int], ...] = ()
) -> str:
    quote = connection.ops.quote_name
    back = ", ".join(quote(f.column) for f in _returned_fields(model, returning))
    sql = _values_insert(model, rows)
    if not children:
        return f"{sql} RETURNING {back}" if back else sql
    parts, keys = [f"WITH parent AS ({sql} RETURNING {back})"], []
    for n, (child_model, count) in enumerate(children):
        child_pk = quote(child_model._meta.pk.column)
        insert = _values_insert(child_model, count, key=_parent_key(child_model, model))
        parts.append(f"child{n} AS ({insert} RETURNING {child_pk})")
        keys.append(f"(SELECT array_agg({child_pk} ORDER BY {child_pk}) FROM child{n})")
    return ", ".join(parts) + f" SELECT {back}, {', '.join(keys)} FROM parent"


def _values_insert(model: type[Model], rows: int, *, key: ForeignKey | None = None) -> str:
    """``INSERT … VALUES`` of ``rows`` rows; ``key``'s value is the new primary key of ``parent``."""
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    parent = f"(SELECT {quote(key.target_field.column)} FROM parent)" if key is not None else ""
    row = "(" + ", ".join(parent if f is key else "%s" for f in fields) + ")"
    columns = ", ".join(quote(f.column) for f in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)}"

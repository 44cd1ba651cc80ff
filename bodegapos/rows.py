"""``rows_insert``: ``bulk_create`` for the checkout's hot path, without compiling SQL on every call.

``QuerySet.bulk_create()`` and ``Model.save()`` build their ``INSERT`` anew on every call: on the
2-core bench machine that is ~0.7–1 ms of CPU for a two-row insert whose statement costs ~0.1 ms,
and a sale makes six of them. ``rows_insert`` builds each statement's text once per model and row
shape and caches it. Values still go through each field's ``pre_save(add=True)`` and
``get_db_prep_save()`` (what ``bulk_create`` does), so a row holds exactly what the ORM would have
written; ``DatabaseDefault`` values become ``DEFAULT``. Like ``bulk_create``: no ``save()``, no
signals, no expressions as values; primary keys and database defaults are set from ``RETURNING``.

``rows_send`` is the same ``INSERT`` without ``RETURNING``, for rows nobody reads back or whose
key the caller reserved (``rows_keys_send``); inside :func:`pipeline` it does not wait for the
server at all. ``pipeline`` sends a block's statements without waiting for each answer (psycopg's
pipeline mode): the server runs them in order, and the client waits only where it reads a result
(``fetchone()``, ``rows_insert``) and once at the end. A sale's transaction waits for the server
5 times (``BEGIN``, the series, the document, the end of the pipeline, ``COMMIT``) instead of once
per statement (each wait is a round trip, and through PgBouncer two more context switches).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import DatabaseDefault

_STATEMENTS: dict[tuple, str] = {}
_FIELDS: dict[type[Model], tuple[list[Field], list[Field]]] = {}


def _fields(model: type[Model]) -> tuple[list[Field], list[Field]]:
    """(columns to insert, columns to return): the model's concrete fields but a database-generated
    primary key; what ``RETURNING`` brings back (that key, ``db_default`` values)."""
    cached = _FIELDS.get(model)
    if cached is None:
        meta = model._meta
        inserted = [f for f in meta.concrete_fields if not f.generated and not (f.primary_key and f.db_returning)]
        cached = _FIELDS[model] = (inserted, list(meta.db_returning_fields))
    return cached


@contextmanager
def pipeline() -> Iterator[None]:
    """Send the block's statements on the default connection without waiting for each answer.

    Use it inside the caller's ``transaction.atomic()``. psycopg still waits for the implicit
    ``BEGIN`` on its own (it syncs the pipeline right after it, to learn that the transaction has
    started: psycopg PR #401), so a transaction pays that one round trip before its first statement
    goes out. A statement's result is waited for only when read (``fetchone()``, ``fetchall()``,
    :func:`rows_insert`); everything still unread is waited for when the block ends. A failing
    statement raises where its result (or a later one's) is read, or when the block ends, as
    Django's exception (``IntegrityError`` and so on); the statements after it do not run, and the
    caller's ``atomic()`` rolls everything back as usual.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def _statement(objs: Sequence[Model], *, returning: bool) -> tuple[str, list, list[Field]]:
    """The ``INSERT`` of ``objs`` (one model): SQL text (cached per model, row shape and
    ``returning``), parameters, and the fields ``RETURNING`` brings back."""
    model = type(objs[0])
    if any(type(obj) is not model for obj in objs):
        raise TypeError("rows_insert: every object must be of the same model")
    fields, returned = _fields(model)
    keyed = [obj.pk is not None for obj in objs]
    if any(keyed):
        # Keys the caller reserved (``nextval`` on the model's sequence): sent, not returned.
        if not all(keyed) or not model._meta.pk.db_returning:
            raise TypeError(f"rows_insert: {model.__name__} rows must all have a reserved key, or none")
        fields = [model._meta.pk, *fields]
        returned = [f for f in returned if not f.primary_key]
    if not returning:
        returned = []
    shape: list[tuple[bool, ...]] = []
    params: list = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="rows_insert")
        defaults = []
        for field in fields:
            value = field.pre_save(obj, add=True)
            if isinstance(value, DatabaseDefault):
                defaults.append(True)
                continue
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"rows_insert: {model.__name__}.{field.name} is an expression; use save()")
            defaults.append(False)
            params.append(field.get_db_prep_save(value, connection=connection))
        shape.append(tuple(defaults))
    key = (model, tuple(shape), returning, keyed[0])
    sql = _STATEMENTS.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        rows = ", ".join("(" + ", ".join("DEFAULT" if default else "%s" for default in row) + ")" for row in shape)
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES {rows}"
        if returned:
            sql += f" RETURNING {', '.join(quote(f.column) for f in returned)}"
        _STATEMENTS[key] = sql
    return sql, params, returned


def rows_insert(objs: Sequence[Model]) -> None:
    """Insert ``objs`` (instances of one model, not yet saved) in one statement on the default
    database, then mark them saved. Runs in the caller's transaction, if any; errors are Django's
    (an ``IntegrityError`` names the constraint, as with ``save()``). Waits for the server, also
    inside :func:`pipeline` (the primary keys come back)."""
    if not objs:
        return
    sql, params, returned = _statement(objs, returning=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        values = cursor.fetchall() if returned else [() for _ in objs]
    converters = [(field, field.get_db_converters(connection)) for field in returned]
    for obj, row in zip(objs, values, strict=True):
        for (field, convert), value in zip(converters, row, strict=True):
            for converter in convert:
                value = converter(value, field, connection)
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias


def rows_send(objs: Sequence[Model]) -> None:
    """Insert ``objs`` like :func:`rows_insert`, but without ``RETURNING``: inside :func:`pipeline`
    the statement is sent and not waited for (its error, if any, is raised further on, see
    there). Objects whose primary key the caller reserved (:func:`rows_keys_send`) are marked
    saved; the others stay unsaved (no key, ``_state.adding`` still true): for rows the caller
    never reads back nor saves again. Database defaults are not read back either way."""
    if not objs:
        return
    sql, params, _ = _statement(objs, returning=False)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    if objs[0].pk is not None:
        for obj in objs:
            obj._state.adding = False
            obj._state.db = connection.alias


def rows_keys_send(model: type[Model]) -> Callable[[], int]:
    """Reserve the next primary key of ``model``'s identity column (``nextval``) and return a
    function that gives it. Inside :func:`pipeline` the reservation travels with the next
    statement that is waited for, and costs no round trip of its own; call the function after
    that wait. A reserved key that a rolled-back transaction never used is skipped, as any
    identity value of a rolled-back insert is."""
    meta = model._meta
    cursor = connection.cursor()
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))", [meta.db_table, meta.pk.column])

    def key() -> int:
        try:
            return cursor.fetchone()[0]
        finally:
            cursor.close()

    return key

"""The schema's btree indexes, read from the migrated test database.

* No index repeats what another one gives: an index whose columns lead another index on the same
  table (a foreign key's own index beside ``(store, issued_at)``, say) only costs every insert. A
  foreign key that leads a composite index or a unique constraint is declared ``db_index=False``.
* Every foreign key column still leads some index, so a join or a delete's reference check on it
  never scans the table.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

_APPS = ("stores", "sales", "sunat", "ops")

# Each btree index of a table: its columns (attribute numbers) and whether it is partial, over
# expressions or unique.
_INDEXES_SQL = """
SELECT t.relname, i.relname, string_to_array(x.indkey::text, ' ')::int[], x.indpred IS NOT NULL,
       x.indexprs IS NOT NULL, x.indisunique
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_am am ON am.oid = i.relam AND am.amname = 'btree'
WHERE t.relname = ANY(%s)
"""


def _tables() -> list[str]:
    return [m._meta.db_table for name in _APPS for m in apps.get_app_config(name).get_models() if m._meta.managed]


def _indexes() -> dict[str, list[tuple[str, list[int], bool, bool, bool]]]:
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES_SQL, [_tables()])
        rows = cursor.fetchall()
    by_table: dict[str, list[tuple[str, list[int], bool, bool, bool]]] = {}
    for table, index, keys, partial, expressions, unique in rows:
        by_table.setdefault(table, []).append((index, keys, partial, expressions, unique))
    return by_table


def test_no_index_is_the_leading_part_of_another():
    repeated = []
    for table, indexes in _indexes().items():
        plain = [
            (name, keys, unique) for name, keys, partial, expressions, unique in indexes if not (partial or expressions)
        ]
        for name, keys, unique in plain:
            if unique:
                continue  # a unique index is a constraint, not only a way in
            for other, other_keys, _ in plain:
                if other != name and other_keys[: len(keys)] == keys and (len(other_keys) > len(keys) or other < name):
                    repeated.append(f"{table}.{name} (ya lo da {other})")
                    break
    assert repeated == []


def test_every_foreign_key_leads_an_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, a.attnum, a.attname FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid "
            "WHERE t.relname = ANY(%s) AND a.attnum > 0",
            [_tables()],
        )
        numbers = {(table, column): number for table, number, column in cursor.fetchall()}
    leading = {
        (table, keys[0]) for table, indexes in _indexes().items() for _, keys, partial, _, _ in indexes if not partial
    }
    unindexed = [
        f"{model._meta.db_table}.{field.column}"
        for name in _APPS
        for model in apps.get_app_config(name).get_models()
        if model._meta.managed
        for field in model._meta.concrete_fields
        if field.is_relation and (model._meta.db_table, numbers[(model._meta.db_table, field.column)]) not in leading
    ]
    assert unindexed == []

"""The schema's btree indexes, read from the migrated test database.

* No index repeats what another one gives: an index whose key leads another index on the same
  table (a foreign key's own index beside ``(store, issued_at)``, say) only costs every insert. A
  foreign key that another index already leads with is declared ``db_index=False``.
* Every foreign key column still leads some index, so a join or a delete's reference check on it
  never scans the table.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

_APPS = ("stores", "sales", "sunat", "ops")

# Each btree index of a table: its key columns (attribute number, operator class, ordering option
# and collation of each; ``INCLUDE`` columns left out), and whether it is partial, over
# expressions or unique.
_INDEXES_SQL = """
SELECT t.relname, i.relname,
       ARRAY(SELECT ARRAY[x.indkey[k]::oid, x.indclass[k], x.indoption[k]::oid, x.indcollation[k]]
             FROM generate_series(0, x.indnkeyatts - 1) AS k),
       x.indpred IS NOT NULL, x.indexprs IS NOT NULL, x.indisunique
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_am am ON am.oid = i.relam AND am.amname = 'btree'
WHERE t.relname = ANY(%s)
"""


def _tables() -> list[str]:
    tables = [m._meta.db_table for name in _APPS for m in apps.get_app_config(name).get_models() if m._meta.managed]
    assert len(tables) > 20
    return tables


def _indexes() -> dict[str, list[tuple[str, list, bool, bool, bool]]]:
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES_SQL, [_tables()])
        rows = cursor.fetchall()
    assert len(rows) > 100
    by_table: dict[str, list[tuple[str, list, bool, bool, bool]]] = {}
    for table, index, keys, partial, expressions, unique in rows:
        by_table.setdefault(table, []).append((index, keys, partial, expressions, unique))
    return by_table


def _repeats(*, keys: list, unique: bool, name: str, other_keys: list, other_unique: bool, other: str) -> bool:
    """Whether the other index gives all this one does: its key starts with this one's (same
    columns, operator classes, order and collations). A unique index is a constraint that a
    wider index does not give; of two with the same key, the unique one stays, else one of the
    two by name."""
    if other_keys[: len(keys)] != keys:
        return False
    if len(other_keys) > len(keys):
        return not unique
    return (other_unique and not unique) or (other_unique == unique and other < name)


def test_no_index_is_the_leading_part_of_another():
    repeated = []
    for table, indexes in _indexes().items():
        plain = [
            (name, keys, unique) for name, keys, partial, expressions, unique in indexes if not (partial or expressions)
        ]
        for name, keys, unique in plain:
            for other, other_keys, other_unique in plain:
                if other != name and _repeats(
                    keys=keys, unique=unique, name=name, other_keys=other_keys, other_unique=other_unique, other=other
                ):
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
        (table, keys[0][0])
        for table, indexes in _indexes().items()
        for _, keys, partial, _, _ in indexes
        if not partial
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

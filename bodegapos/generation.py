"""Per-process caches of the till's reference data, exact to the last commit.

``reference_generation`` (stores 0002, sales 0003) is a single row whose ``generation`` is bumped,
in the writer's transaction, by every statement that writes a company, store, register,
membership, product or store price (not stock). A cached answer stored with generation *G* is
still what a fresh query would return while the committed generation is *G*: one single-row query
(:func:`generation_read`) replaces the ORM work of the lookups it validates, and a change is seen
by the next call after its commit.

Inside a transaction nothing is read from or written to a cache (:func:`generation_read` gives
``None``): what such a transaction sees may include its own writes, which may never commit.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from typing import Generic, TypeVar

from django.db import connection

T = TypeVar("T")

GENERATION_SQL = "SELECT generation FROM reference_generation WHERE id = 1"


def generation_read() -> int | None:
    """The committed reference generation, or ``None`` inside a transaction (use no cache)."""
    if connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute(GENERATION_SQL)
        return cursor.fetchone()[0]


class GenerationCache(Generic[T]):
    """Answers (model instances) keyed by what was asked, each tagged with the generation it was
    read at (which the caller read *before* the query that produced the answer). :meth:`get` hands
    out a shallow copy: changes to its own fields stay the caller's; the related objects loaded
    with it (``select_related``) are shared, read them only. Bounded: emptied when ``max_size`` is
    reached (the hot keys come back at once)."""

    def __init__(self, *, max_size: int) -> None:
        self._entries: dict[Hashable, tuple[int, T]] = {}
        self._max_size = max_size

    def get(self, key: Hashable, *, generation: int | None) -> T | None:
        if generation is None:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] != generation:
            return None
        return copy.copy(entry[1])

    def put(self, key: Hashable, value: T, *, generation: int | None) -> None:
        if generation is None:
            return
        if len(self._entries) >= self._max_size:
            self._entries.clear()
        self._entries[key] = (generation, copy.copy(value))

    def clear(self) -> None:
        self._entries.clear()

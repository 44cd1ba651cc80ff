"""``bodegapos.generation.GenerationCache``: answers only at the generation they were read at,
never without one, as copies, and within a bound."""

from __future__ import annotations

from bodegapos.generation import GenerationCache
from stores.models import Store


def test_an_answer_is_given_only_at_its_generation_and_as_a_copy():
    cache: GenerationCache[Store] = GenerationCache(max_size=10)
    store = Store(pk=7, code="0001", name="Tienda 1")
    cache.put("k", store, generation=3)
    hit = cache.get("k", generation=3)
    assert hit is not None and hit is not store and hit.code == "0001"
    hit.code = "9999"
    assert cache.get("k", generation=3).code == "0001"
    assert cache.get("k", generation=4) is None
    assert cache.get("k", generation=None) is None  # inside a transaction: no cache


def test_nothing_is_kept_without_a_generation_and_the_size_is_bounded():
    cache: GenerationCache[Store] = GenerationCache(max_size=2)
    cache.put("none", Store(pk=1), generation=None)
    assert cache.get("none", generation=1) is None
    for n in range(3):
        cache.put(n, Store(pk=n + 1), generation=1)
    assert len(cache._entries) <= 2 and cache.get(2, generation=1) is not None

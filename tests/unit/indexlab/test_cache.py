"""The query cache: repeated queries skip the index, distinct k/filter do not collide, old entries are evicted."""

from __future__ import annotations

import numpy as np

from adaptlab.indexlab.cache import QueryCache


def test_repeats_hit_and_lru_evicts() -> None:
    calls: list[tuple[float, int, str | None]] = []

    def search(vector: np.ndarray, k: int, filter: str | None) -> float:
        calls.append((float(vector[0]), k, filter))
        return float(vector.sum()) * k

    cache = QueryCache(search, maxsize=2)
    a, b, c = (np.full(4, v, dtype=np.float32) for v in (1.0, 2.0, 3.0))
    assert cache(a, 10) == 40.0 and cache(a, 10) == 40.0
    assert len(calls) == 1 and cache.hits == 1
    assert cache(a, 5) == 20.0 and cache(a, 10, 'lang == "de"') == 40.0  # k and filter are part of the key
    assert len(calls) == 3 and len(cache) == 2
    cache(b, 10)
    cache(c, 10)
    cache(b, 10)  # b was used more recently than the evicted entries
    assert calls[-1][0] == 3.0 and len(calls) == 5
    assert 0 < cache.hit_rate < 1
    cache.clear()
    assert len(cache) == 0 and cache.hits == cache.misses == 0

"""The in-process FAISS copy of a collection: exact cosine ranking, empty collections, cache invalidation."""

from __future__ import annotations

import numpy as np

from adaptlab.vectors import replica as replica_module
from adaptlab.vectors.replica import ReplicaCache, VectorReplica


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_replica_ranks_like_exact_cosine_search() -> None:
    rng = np.random.default_rng(0)
    docs, queries = _unit(rng.normal(size=(500, 24))), _unit(rng.normal(size=(7, 24)))
    ids = [f"c{i}" for i in range(500)]
    got = VectorReplica(ids, docs).search(queries, 5)
    expected = np.argsort(-(queries @ docs.T), axis=1)[:, :5]
    assert [[cid for cid, _ in ranking] for ranking in got] == [[ids[j] for j in row] for row in expected]
    assert np.allclose([r[0][1] for r in got], (queries @ docs.T).max(axis=1), atol=1e-5)


def test_above_the_exact_limit_the_copy_is_hnsw_and_still_finds_the_nearest(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    docs = _unit(rng.normal(size=(300, 16)))
    monkeypatch.setattr(replica_module, "EXACT_LIMIT", 100)
    approximate = VectorReplica([f"c{i}" for i in range(300)], docs)
    assert approximate.matrix is None and approximate.index is not None
    got = approximate.search(docs[:5], 3)
    assert [ranking[0][0] for ranking in got] == [f"c{i}" for i in range(5)]  # each vector finds itself
    assert all(abs(ranking[0][1] - 1.0) < 1e-5 for ranking in got)


def test_an_empty_replica_answers_nothing_and_k_is_capped() -> None:
    assert VectorReplica([], np.zeros((0, 8), np.float32)).search(np.ones((2, 8), np.float32), 3) == [[], []]
    small = VectorReplica(["a", "b"], _unit(np.eye(2, dtype=np.float32)))
    assert [cid for cid, _ in small.search(_unit(np.array([[1.0, 0.2]])), 10)[0]] == ["a", "b"]


class _Store:
    """Stands in for Milvus' paging only: what the cache must do is load once and reload after invalidate."""

    def __init__(self) -> None:
        self.loads = 0
        self.vectors = _unit(np.array([[1.0, 0.0], [0.0, 1.0]]))

    def all_vectors(self, name: str, page: int = 4096) -> tuple[list[str], np.ndarray]:
        self.loads += 1
        return [f"{name}-{i}" for i in range(len(self.vectors))], self.vectors * 3  # not unit: load normalises


def test_cache_loads_once_normalises_and_reloads_after_invalidate() -> None:
    store, cache = _Store(), ReplicaCache()
    first = cache.get(store, "col")  # type: ignore[arg-type]
    assert cache.get(store, "col") is first and store.loads == 1  # type: ignore[arg-type]
    assert abs(first.search(np.array([[1.0, 0.0]], np.float32), 1)[0][0][1] - 1.0) < 1e-6
    cache.invalidate("other")
    assert cache.get(store, "col") is first  # type: ignore[arg-type]
    cache.invalidate("col")
    assert cache.get(store, "col") is not first and store.loads == 2  # type: ignore[arg-type]

"""An in-process FAISS copy of one collection, for unfiltered dense search without a Milvus round trip.

Milvus Lite answers every search through gRPC to its local server process: 2-5 ms per query on two cores
however small the collection, more than encoding the query with an int8 model. A served workspace's
collection changes only when this process embeds, so the serving process can keep its vectors in memory
(exact inner products by one matrix product up to `EXACT_LIMIT` vectors, a FAISS HNSW index above) and
search that instead. Milvus stays
the store of record: filtered searches, L2 collections and every write still go to it, and the copy is
dropped whenever this process ingests or embeds (`Session` does that), then reloaded on the next search.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from adaptlab.models.base import l2_normalize
from adaptlab.vectors.milvus_store import MilvusVectorStore

EXACT_LIMIT = 200_000
"""Up to this many vectors the copy is exact (one matrix product); above it FAISS HNSW (M 32, efSearch 128)."""
PAGE = 4096
Ranking = list[tuple[str, float]]


class VectorReplica:
    """Cosine/IP search over a frozen copy of a collection's (id, vector) pairs."""

    def __init__(self, ids: list[str], vectors: np.ndarray, load_seconds: float = 0.0) -> None:
        import faiss

        self.ids = ids
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else 0
        self.index: Any = None
        self.matrix: Any = None
        if len(ids) > EXACT_LIMIT:
            self.index = faiss.IndexHNSWFlat(self.dim, 32, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efSearch = 128
            self.index.add(vectors)
        elif len(ids):
            import torch

            self.matrix = torch.from_numpy(vectors)
        self.load_seconds = load_seconds

    @classmethod
    def load(cls, store: MilvusVectorStore, collection: str, normalize: bool = True) -> VectorReplica:
        """Every (id, vector) of the collection, read page by page; unit length for a COSINE collection."""
        start = time.perf_counter()
        ids, rows = store.all_vectors(collection, PAGE)
        if normalize and len(rows):
            rows = l2_normalize(rows)
        return cls(ids, rows, time.perf_counter() - start)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: np.ndarray, k: int) -> list[Ranking]:
        """(id, score) per query, best first; scores are inner products (cosines for unit vectors)."""
        if not self.ids:
            return [[] for _ in range(len(queries))]
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, len(self.ids))
        if self.matrix is not None:
            scores, rows = self._exact(queries, k)
        else:
            import faiss

            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)  # a few dozen queries: OpenMP start-up and spinning cost more than they save
            try:
                scores, rows = self.index.search(queries, k)
            finally:
                faiss.omp_set_num_threads(threads)
        return [
            [(self.ids[r], float(s)) for r, s in zip(row_ids, row_scores) if r >= 0]
            for row_ids, row_scores in zip(rows, scores)
        ]

    def _exact(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """All inner products as one matrix product, then the top k: for the few dozen queries a server
        batches, 4-6x faster on one core than FAISS's flat index, which below 20 queries scans per query."""
        import torch

        with torch.inference_mode():
            top = torch.topk(torch.from_numpy(queries) @ self.matrix.T, k, dim=1)
        return top.values.numpy(), top.indices.numpy()


class ReplicaCache:
    """One replica per collection, built on first use and dropped when the collection changes."""

    def __init__(self) -> None:
        self._replicas: dict[str, VectorReplica] = {}
        self._lock = threading.Lock()

    def get(self, store: MilvusVectorStore, collection: str, normalize: bool = True) -> VectorReplica:
        with self._lock:
            replica = self._replicas.get(collection)
            if replica is None:
                replica = self._replicas[collection] = VectorReplica.load(store, collection, normalize)
            return replica

    def invalidate(self, collection: str | None = None) -> None:
        """Forget one collection's copy (or all): the next search reloads it from Milvus."""
        with self._lock:
            if collection is None:
                self._replicas.clear()
            else:
                self._replicas.pop(collection, None)

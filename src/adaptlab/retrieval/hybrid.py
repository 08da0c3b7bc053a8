"""Hybrid search over the workspace: BM25 and dense candidates for each query, fused into one ranking.

Exact terms (law abbreviations, § numbers, names) are BM25's strength, paraphrase and cross-lingual
matches the dense model's; fusing ranks keeps both without calibrating their scores.
"""

from __future__ import annotations

from collections.abc import Sequence

from adaptlab.retrieval.bm25 import WorkspaceBM25
from adaptlab.retrieval.dense import DenseRetriever, SearchHit, hydrate
from adaptlab.retrieval.fusion import RRF_K, fuse

CANDIDATES = 100
"""Hits taken from each retriever before fusion (the depth the evaluation fuses too)."""


class HybridRetriever:
    """`method` "wsum" (default: `weights` for BM25 and dense, min-max normalised) or "rrf" (rank-based)."""

    def __init__(
        self,
        dense: DenseRetriever,
        bm25: WorkspaceBM25,
        method: str = "wsum",
        weights: Sequence[float] | None = None,
        rrf_k: int = RRF_K,
        candidates: int = CANDIDATES,
    ) -> None:
        self.dense = dense
        self.bm25 = bm25
        self.method = method
        self.weights = weights
        self.rrf_k = rrf_k
        self.candidates = candidates

    def search_many(
        self,
        queries: list[str],
        k: int = 10,
        filter: str | None = None,
        lexical_queries: list[str] | None = None,
    ) -> list[list[SearchHit]]:
        """`lexical_queries` (e.g. expanded ones) replace `queries` on the BM25 side only."""
        depth = max(k, self.candidates)
        lexical = self.bm25.rank_many(lexical_queries or queries, depth, filter)
        semantic = self.dense.rank_many(queries, depth, filter)
        fused = [
            fuse([dict(b), dict(d)], self.method, self.weights, self.rrf_k)[:k]
            for b, d in zip(lexical, semantic)
        ]
        return hydrate(self.dense.store, fused)  # only the fused top-k are read from the store

    def search(self, query: str, k: int = 10, filter: str | None = None) -> list[SearchHit]:
        return self.search_many([query], k, filter)[0]
